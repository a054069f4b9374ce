/**
 * Storage replication on the simulated cluster (`/nodes/{node}/replication`, jobs with their state
 * as pve-manager lists them): a job that starts failing is one event and one incident, nothing more
 * while it fails, one recovery and the incident resolved when a run succeeds again.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { eventually } from "../support/Eventually.js"
import { events } from "../support/Events.js"
import { endpointPolls, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import type { PveSimulator } from "../../src/sim/PveSimulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const morePolls = (sim: PveSimulator, n = 3) => endpointPolls(sim, "/nodes/pve1/replication", n)

describe("storage replication", () => {
  it.scopedLive("a failing job is one replication.failed and one incident; succeeding again is one recovery", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "replication.failed")).toEqual([])

      const job = sim.state.replication![0]!
      job.failCount = 1
      job.error = "command 'zfs snapshot rpool/data/vm-101-disk-0@__replicate_101-0_1763880000__' failed: exit code 1"
      yield* eventually("the failure is told", events(vigil.url, "replication.failed"), (e) => e.length === 1)
      job.failCount = 2 // it keeps failing: nothing new to tell
      yield* morePolls(sim)
      const [failed] = yield* events(vigil.url, "replication.failed")
      expect(failed).toMatchObject({ severity: "error", subject: "replication/101-0", node: "pve1", data: { job: "101-0", guest: 101, source: "pve1", target: "pve2", failCount: 1 } })
      const open = (yield* getJson(`${vigil.url}/api/v1/incidents?status=open`)).body.filter((i: any) => i.condition === "REPLICATION_FAILED")
      expect(open.map((i: any) => i.key)).toEqual(["REPLICATION_FAILED:replication/101-0"])

      job.failCount = 0
      job.error = undefined
      yield* eventually("the recovery is told", events(vigil.url, "replication.recovered"), (e) => e.length === 1)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "replication.failed")).toHaveLength(1)
      expect(yield* events(vigil.url, "replication.recovered")).toHaveLength(1)
      const resolved = (yield* getJson(`${vigil.url}/api/v1/incidents?status=resolved`)).body.filter((i: any) => i.condition === "REPLICATION_FAILED")
      expect(resolved).toHaveLength(1)
    }))
})
