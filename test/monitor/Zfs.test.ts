/**
 * ZFS pools on the simulated nodes (`/nodes/{node}/disks/zfs`, pve-storage's columns): a pool
 * leaving ONLINE is one event and one incident, staying so tells nothing, getting worse changes the
 * incident, ONLINE again is one recovery and the incident resolved; a node without ZFS is skipped.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { eventually } from "../support/Eventually.js"
import { events } from "../support/Events.js"
import { endpointPolls, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import type { PveSimulator } from "../../src/sim/PveSimulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const morePolls = (sim: PveSimulator, n = 3) => endpointPolls(sim, "/nodes/pve2/disks/zfs", n)

const zfsIncidents = (url: string, status: string) =>
  Effect.map(getJson(`${url}/api/v1/incidents?status=${status}`), (r) => (r.body as Array<any>).filter((i) => i.condition === "ZFS_POOL"))

describe("ZFS pools", () => {
  it.scopedLive("a degraded pool is one event and one incident; faulted changes it; ONLINE again resolves it, once each", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      sim.state.nodes.find((n) => n.name === "pve3")!.zfs = undefined // no zfsutils there: skipped
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      yield* morePolls(sim)
      const rpool = sim.state.nodes.find((n) => n.name === "pve2")!.zfs![0]!

      rpool.health = "DEGRADED"
      yield* eventually("the degradation is told", events(vigil.url, "zfs.pool.degraded"), (e) => e.length === 1)
      yield* morePolls(sim)
      const [degraded] = yield* events(vigil.url, "zfs.pool.degraded")
      expect(degraded).toMatchObject({ severity: "warning", subject: "zfs/pve2/rpool", node: "pve2", data: { pool: "rpool", health: "DEGRADED", previous: "ONLINE" } })
      expect((yield* zfsIncidents(vigil.url, "open")).map((i: any) => [i.key, i.severity])).toEqual([["ZFS_POOL:zfs/pve2/rpool", "warning"]])

      rpool.health = "FAULTED"
      yield* eventually("the fault is told", events(vigil.url, "zfs.pool.degraded"), (e) => e.length === 2)
      expect((yield* zfsIncidents(vigil.url, "open"))[0].severity).toBe("error")

      rpool.health = "ONLINE"
      yield* eventually("the recovery is told", events(vigil.url, "zfs.pool.recovered"), (e) => e.length === 1)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "zfs.pool.degraded")).toHaveLength(2)
      expect(yield* events(vigil.url, "zfs.pool.recovered")).toHaveLength(1)
      expect(yield* zfsIncidents(vigil.url, "open")).toEqual([])
      expect(yield* zfsIncidents(vigil.url, "resolved")).toHaveLength(1)
      expect(yield* events(vigil.url, "zfs.unavailable")).toEqual([])
    }))
})
