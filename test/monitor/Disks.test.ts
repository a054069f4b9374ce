/**
 * Disk health on the simulated nodes (`/nodes/{node}/disks/list`, pve-storage's fields: SMART
 * `health`, `wearout` as life left or "N/A"): a failing disk and a worn SSD are one event and one
 * incident each, however many polls they last, and each clears once; `VIGIL_DISK_WEAROUT_MIN` sets
 * the wear line.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { eventually } from "../support/Eventually.js"
import { events } from "../support/Events.js"
import { endpointPolls, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import type { PveSimulator } from "../../src/sim/PveSimulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const morePolls = (sim: PveSimulator, n = 3) => endpointPolls(sim, "/nodes/pve1/disks/list", n)

const open = (url: string, condition: string) =>
  Effect.map(getJson(`${url}/api/v1/incidents?status=open`), (r) => (r.body as Array<any>).filter((i) => i.condition === condition))

describe("disk health", () => {
  it.scopedLive("a failing disk and a worn SSD: one event and one incident each while it lasts, one clearing each", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim, { VIGIL_DISK_WEAROUT_MIN: "20" }))
      yield* watchSeeded(vigil.url, sim)
      yield* morePolls(sim)
      const [nvme, hdd] = sim.state.nodes.find((n) => n.name === "pve1")!.disks!

      hdd!.health = "FAILED!"
      nvme!.wearout = 15
      yield* eventually("both are told", Effect.zip(events(vigil.url, "disk.health.failed"), events(vigil.url, "disk.wearout")), ([a, b]) => a.length === 1 && b.length === 1)
      yield* morePolls(sim)
      const [failed] = yield* events(vigil.url, "disk.health.failed")
      expect(failed).toMatchObject({ severity: "error", subject: "disk/pve1/WJG0PVE1A", node: "pve1", data: { model: "ST4000NM000A-2HZ100", serial: "WJG0PVE1A", health: "FAILED!" } })
      const [worn] = yield* events(vigil.url, "disk.wearout")
      expect(worn).toMatchObject({ severity: "warning", subject: "disk/pve1/S5GXNX0WPVE101", data: { wearout: 15, wearoutMin: 20 } })
      expect((yield* open(vigil.url, "DISK_HEALTH")).map((i: any) => i.key)).toEqual(["DISK_HEALTH:disk/pve1/WJG0PVE1A"])
      expect(yield* open(vigil.url, "DISK_WEAROUT")).toHaveLength(1)

      hdd!.health = "PASSED" // replaced
      nvme!.wearout = 100
      yield* eventually("both clear", Effect.zip(events(vigil.url, "disk.health.recovered"), events(vigil.url, "disk.wearout.cleared")), ([a, b]) => a.length === 1 && b.length === 1)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "disk.health.failed")).toHaveLength(1)
      expect(yield* events(vigil.url, "disk.wearout")).toHaveLength(1)
      expect(yield* open(vigil.url, "DISK_HEALTH")).toEqual([])
      expect(yield* open(vigil.url, "DISK_WEAROUT")).toEqual([])
    }))

  it.scopedLive("a disk SMART says nothing about (UNKNOWN, N/A) is not a failure", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      const [nvme] = sim.state.nodes.find((n) => n.name === "pve1")!.disks!
      nvme!.health = "UNKNOWN"
      nvme!.wearout = "N/A"
      yield* morePolls(sim, 4)
      expect(yield* events(vigil.url, "disk.health.failed")).toEqual([])
      expect(yield* events(vigil.url, "disk.wearout")).toEqual([])
    }))

  it.effect("VIGIL_DISK_WEAROUT_MIN outside 0..100 stops start-up naming it", () =>
    Effect.gen(function*() {
      const started = yield* Effect.either(Effect.scoped(startVigil({ VIGIL_SOURCE: "none", VIGIL_DISK_WEAROUT_MIN: "150" })))
      expect(started._tag).toBe("Left")
      expect(String(started._tag === "Left" ? started.left : "")).toContain("VIGIL_DISK_WEAROUT_MIN")
    }))
})
