/**
 * Pending updates on the simulated nodes (`/nodes/{node}/apt/update`, pve-manager's APT.pm
 * fields): one `node.updates.available` when a node's pending set changes, none while it stays;
 * a token without Sys.Modify (an auditor's) is told once which privilege PVE wants.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { administrator } from "../../src/sim/Permissions.js"
import { eventually } from "../support/Eventually.js"
import { events } from "../support/Events.js"
import { endpointPolls, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import type { PveSimulator } from "../../src/sim/PveSimulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const morePolls = (sim: PveSimulator, n = 3) => endpointPolls(sim, "/nodes/pve1/apt/update", n)

const pkg = (Package: string, OldVersion: string, Version: string, Origin: string) =>
  ({ Package, OldVersion, Version, Origin, Title: `${Package} package`, Priority: "optional", Section: "admin", Arch: "amd64" })

describe("pending updates", () => {
  it.scopedLive("a node's pending updates are told once when they appear and once when they are installed", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "node.updates.available")).toEqual([])

      const pve1 = sim.state.nodes.find((n) => n.name === "pve1")!
      pve1.updates = [pkg("pve-manager", "8.4.1", "8.4.2", "Proxmox"), pkg("libssl3", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1", "Debian")]
      yield* eventually("the updates are told", events(vigil.url, "node.updates.available"), (e) => e.length === 1)
      yield* morePolls(sim)
      const [available] = yield* events(vigil.url, "node.updates.available")
      expect(available).toMatchObject({ severity: "info", node: "pve1", subject: "node/pve1", data: { count: 2, byOrigin: { Proxmox: 1, Debian: 1 }, summary: "pve1 has 2 package updates pending" } })
      // The cluster view shows each node's pending count.
      const nodes = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body.nodes as Array<any>
      expect(nodes.find((n) => n.name === "pve1").updates).toEqual({ count: 2, byOrigin: { Proxmox: 1, Debian: 1 } })
      expect(nodes.find((n) => n.name === "pve2").updates).toEqual({ count: 0, byOrigin: {} })

      pve1.updates = []
      yield* eventually("the upgrade is told", events(vigil.url, "node.updates.available"), (e) => e.length === 2)
      yield* morePolls(sim)
      const all = yield* events(vigil.url, "node.updates.available")
      expect(all.map((e: any) => e.data.count)).toEqual([2, 0])
    }))

  it.scopedLive("a token without Sys.Modify is told once which privilege listing updates needs", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      sim.state.acl = { "/": Object.fromEntries(administrator.filter((p) => p !== "Sys.Modify").map((p) => [p, 1 as const])) }
      const vigil = yield* startVigil(watching(sim))
      const [said] = yield* eventually("it says so", events(vigil.url, "node.updates.unavailable"), (e) => e.length === 1)
      expect(said.data.summary).toContain("Sys.Modify on /nodes/")
      yield* watchSeeded(vigil.url, sim)
      expect(yield* events(vigil.url, "node.updates.unavailable")).toHaveLength(1)
    }))
})
