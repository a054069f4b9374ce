/**
 * Ceph's health from the simulated cluster (its `/cluster/ceph/status`, shaped as pve-manager
 * builds it): one event and one incident when it degrades, nothing while it stays so, one change
 * when it gets worse, one resolution when it is healthy again; a cluster without Ceph, or a token
 * that may not read it, said once and not asked again.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { administrator } from "../../src/sim/Permissions.js"
import { eventually } from "../support/Eventually.js"
import { events } from "../support/Events.js"
import { endpointPolls, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import type { PveSimulator } from "../../src/sim/PveSimulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const cephPolls = (sim: PveSimulator) => sim.hits.get("/cluster/ceph/status") ?? 0
const morePolls = (sim: PveSimulator, n = 3) => endpointPolls(sim, "/cluster/ceph/status", n)

describe("Ceph health", () => {
  it.scopedLive("a degraded Ceph is one event and one incident; worse is one change; healthy again is one resolution", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "ceph.health.changed")).toEqual([])

      sim.state.ceph = { status: "HEALTH_WARN", checks: { OSD_DOWN: { severity: "HEALTH_WARN", message: "1 osds down" } } }
      yield* eventually("the degradation is told", events(vigil.url, "ceph.health.changed"), (e) => e.length === 1)
      yield* morePolls(sim)
      const [warned] = yield* events(vigil.url, "ceph.health.changed")
      expect(warned).toMatchObject({ severity: "warning", subject: "cluster/ceph", data: { status: "HEALTH_WARN", previous: "HEALTH_OK", summary: "Ceph is HEALTH_WARN: 1 osds down" } })
      const open = (yield* getJson(`${vigil.url}/api/v1/incidents?status=open`)).body.filter((i: any) => i.condition === "CEPH_HEALTH")
      expect(open).toHaveLength(1)
      expect(open[0]).toMatchObject({ key: "CEPH_HEALTH:cluster/ceph", severity: "warning" })

      sim.state.ceph = {
        status: "HEALTH_ERR",
        checks: { OSD_DOWN: { severity: "HEALTH_WARN", message: "2 osds down" }, PG_DAMAGED: { severity: "HEALTH_ERR", message: "Possible data damage: 1 pg inconsistent" } }
      }
      yield* eventually("the escalation is told", events(vigil.url, "ceph.health.changed"), (e) => e.length === 2)
      const worse = (yield* getJson(`${vigil.url}/api/v1/incidents?status=open`)).body.find((i: any) => i.condition === "CEPH_HEALTH")
      expect(worse.severity).toBe("error")

      sim.state.ceph = { status: "HEALTH_OK", checks: {} }
      yield* eventually("the recovery is told", events(vigil.url, "ceph.health.changed"), (e) => e.length === 3)
      yield* morePolls(sim)
      const all = yield* events(vigil.url, "ceph.health.changed")
      expect(all.map((e: any) => [e.data.status, e.severity])).toEqual([["HEALTH_WARN", "warning"], ["HEALTH_ERR", "error"], ["HEALTH_OK", "info"]])
      const resolved = (yield* getJson(`${vigil.url}/api/v1/incidents?status=resolved`)).body.filter((i: any) => i.condition === "CEPH_HEALTH")
      expect(resolved).toHaveLength(1)
    }))

  it.scopedLive("a muted check changes nothing", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.state.ceph = { status: "HEALTH_OK", checks: { OSD_NEARFULL: { severity: "HEALTH_WARN", message: "1 nearfull osd(s)", muted: true } } }
      yield* morePolls(sim, 4)
      expect(yield* events(vigil.url, "ceph.health.changed")).toEqual([])
    }))

  it.scopedLive("a cluster without Ceph is said once, and not asked again", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      sim.state.ceph = undefined
      const vigil = yield* startVigil(watching(sim))
      const [said] = yield* eventually("it says so", events(vigil.url, "ceph.unavailable"), (e) => e.length === 1)
      expect(said.severity).toBe("info")
      expect(said.data.reason).toContain("binary not installed")
      const asked = cephPolls(sim)
      yield* watchSeeded(vigil.url, sim)
      expect(cephPolls(sim)).toBe(asked)
      expect(yield* events(vigil.url, "ceph.unavailable")).toHaveLength(1)
    }))

  it.scopedLive("a token without Sys.Audit or Datastore.Audit on / is told which privilege is missing", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      sim.state.acl = { "/": Object.fromEntries(administrator.filter((p) => p !== "Sys.Audit" && p !== "Datastore.Audit").map((p) => [p, 1 as const])) }
      const vigil = yield* startVigil(watching(sim))
      const [said] = yield* eventually("it says so", events(vigil.url, "ceph.unavailable"), (e) => e.length === 1)
      expect(said.data.reason).toContain("Sys.Audit or Datastore.Audit")
    }))
})
