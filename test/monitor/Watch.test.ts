import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { waitUntil } from "../support/Clients.js"
import { eventually } from "../support/Eventually.js"
import { pollRounds, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { awaitEvents, events } from "../support/Events.js"
import { getJson, startVigil } from "../support/Vigil.js"

describe("cluster watch against the PVE simulator", () => {
  it.scopedLive("a crashed VM gives one vm.crashed and opens one incident; starting it resolves both", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      const crashedAt = Date.now()
      sim.crash(100)
      const [crashed] = yield* awaitEvents(vigil.url, "vm.crashed")
      // Within one critical interval (200 ms) plus the poll, jitter and a loaded CI machine.
      expect(Date.parse(crashed.time) - crashedAt).toBeLessThan(2000)
      expect(crashed).toMatchObject({ subject: "qemu/100", node: "pve1", severity: "error", data: { condition: "VM_CRASHED", vmid: 100 } })
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "vm.crashed")).toHaveLength(1)
      // Only the crash's own incidents: on a loaded machine a poll may time out (SOURCE_DEGRADED), which is not this test's.
      const open = (yield* getJson(`${vigil.url}/api/v1/incidents?status=open&condition=VM_CRASHED`)).body
      expect(open).toEqual([expect.objectContaining({ key: "VM_CRASHED:qemu/100", condition: "VM_CRASHED", severity: "error", count: 1 })])

      sim.startGuest(100)
      const [started] = yield* awaitEvents(vigil.url, "vm.started")
      expect(started.data).toMatchObject({ vmid: 100, recovered: true })
      const resolved = (yield* getJson(`${vigil.url}/api/v1/incidents?status=resolved&condition=VM_CRASHED`)).body
      expect(resolved).toEqual([expect.objectContaining({ key: "VM_CRASHED:qemu/100", status: "resolved" })])
    }))

  it.scopedLive("a node taken offline gives one node.offline, its return one node.online", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.setNodeOnline("pve3", false)
      yield* awaitEvents(vigil.url, "node.offline")
      yield* pollRounds(sim)
      const offline = yield* events(vigil.url, "node.*")
      expect(offline.map((e) => [e.type, e.subject])).toEqual([["node.offline", "node/pve3"]])
      // Its guests are "unknown" now, not crashed.
      expect(yield* events(vigil.url, "ct.crashed")).toEqual([])
      const cluster = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body
      expect(cluster.nodes.find((n: any) => n.name === "pve3")).toMatchObject({ status: "offline", incidents: ["NODE_UNREACHABLE:node/pve3"] })
      sim.setNodeOnline("pve3", true)
      yield* awaitEvents(vigil.url, "node.online")
    }))

  it.scopedLive("a storage pool filled past 95 % gives one critical violation, and one resolution when emptied", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.fillStorage("pve1", "local", 97)
      const [violated] = yield* awaitEvents(vigil.url, "threshold.violated")
      expect(violated).toMatchObject({
        severity: "critical",
        subject: "storage/pve1/local",
        data: { condition: "STORAGE_CRITICAL", metric: "storage", value: 97, threshold: 95 }
      })
      yield* pollRounds(sim)
      sim.fillStorage("pve1", "local", 40)
      yield* awaitEvents(vigil.url, "threshold.resolved")
      yield* pollRounds(sim)
      const all = yield* events(vigil.url, "threshold.*")
      expect(all.map((e) => e.type)).toEqual(["threshold.violated", "threshold.resolved"])
    }))

  it.scopedLive("node memory past its levels fires, escalates and resolves with the default levels", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.setNodeMetrics("pve2", { memPercent: 88 })
      yield* awaitEvents(vigil.url, "threshold.violated")
      sim.setNodeMetrics("pve2", { memPercent: 97 })
      yield* awaitEvents(vigil.url, "threshold.escalated")
      sim.setNodeMetrics("pve2", { memPercent: 50 })
      yield* awaitEvents(vigil.url, "threshold.resolved")
      const all = yield* events(vigil.url, "threshold.*")
      expect(all.map((e) => [e.type, e.severity, e.data.condition])).toEqual([
        ["threshold.violated", "warning", "RAM_HIGH"],
        ["threshold.escalated", "critical", "RAM_CRITICAL"],
        ["threshold.resolved", "info", "RAM_CRITICAL"]
      ])
      const incident = (yield* getJson(`${vigil.url}/api/v1/incidents`)).body
      expect(incident).toEqual([expect.objectContaining({ key: "RAM:node/pve2", status: "resolved", severity: "critical" })])
    }))

  for (const mode of ["500", "595", "hang", "garbage", "401"] as const) {
    it.scopedLive(`many polls answered with ${mode} give one source.degraded and one source.recovered, and vigil keeps serving`, () =>
      Effect.gen(function*() {
        const sim = yield* startSimulator()
        const vigil = yield* startVigil(watching(sim))
        yield* watchSeeded(vigil.url, sim)
        sim.setFault({ mode })
        const [degraded] = yield* awaitEvents(vigil.url, "source.degraded")
        yield* pollRounds(sim)
        const health = yield* getJson(`${vigil.url}/api/v1/health`)
        expect(health.status).toBe(200)
        const cluster = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body
        expect(cluster.sourceHealth.status).toBe("degraded")
        sim.setFault(undefined)
        yield* awaitEvents(vigil.url, "source.recovered")
        yield* pollRounds(sim)
        const all = yield* events(vigil.url, "source.*")
        expect(all.map((e) => e.type)).toEqual(["source.degraded", "source.recovered"])
        expect(degraded.data.reason).toMatch(
          { "500": /HTTP 500/, "595": /595/, hang: /no answer/, garbage: /invalid JSON/, "401": /authentication failed/ }[mode]
        )
        expect(all[1].data.failures).toBeGreaterThan(3)
      }))
  }

  it.scopedLive("a dead node's proxied endpoint (595) hides nothing else", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      sim.setFault({ mode: "595", path: "/nodes/pve2/" })
      yield* waitUntil("polls", () => (sim.hits.get("/nodes/pve2/status") ?? 0) >= 2)
      yield* pollRounds(sim, 1)
      const cluster = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body
      expect(cluster.sourceHealth.status).toBe("healthy")
      expect(cluster.nodes.map((n: any) => [n.name, n.status, n.detail ?? null])).toEqual([
        ["pve1", "online", null],
        ["pve2", "online", expect.stringContaining("595")],
        ["pve3", "online", null]
      ])
      expect(cluster.guests).toHaveLength(6)
    }))

  it.scopedLive("after a restart, what is still open is not alerted again, and what ended meanwhile is resolved", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const first = yield* startVigil(watching(sim))
      yield* watchSeeded(first.url, sim)
      sim.crash(100)
      sim.crash(101)
      sim.fillStorage("pve2", "ceph", 90)
      yield* awaitEvents(first.url, "vm.crashed", 2)
      yield* awaitEvents(first.url, "threshold.violated")
      yield* first.stop
      sim.startGuest(101)
      const second = yield* startVigil(watching(sim), first.dataDir)
      yield* awaitEvents(second.url, "vm.started")
      yield* pollRounds(sim)
      expect((yield* events(second.url, "vm.crashed")).length).toBe(2)
      expect((yield* events(second.url, "threshold.violated")).length).toBe(1)
      expect((yield* events(second.url, "vm.started")).map((e) => e.subject)).toEqual(["qemu/101"])
      const open = (yield* getJson(`${second.url}/api/v1/incidents?status=open`)).body.map((i: any) => i.key)
      expect(open.sort()).toEqual(["STORAGE:storage/pve2/ceph", "VM_CRASHED:qemu/100"])
      sim.startGuest(100)
      yield* awaitEvents(second.url, "vm.started", 2)
      expect((yield* getJson(`${second.url}/api/v1/incidents?status=open`)).body.map((i: any) => i.key)).toEqual([
        "STORAGE:storage/pve2/ceph"
      ])
    }))

  it.scopedLive("the routine tier sends a health heartbeat: Systems Nominal, then Cluster Degraded", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim, { VIGIL_POLL_ROUTINE: "300 millis" }))
      const [nominal] = yield* awaitEvents(vigil.url, "health.heartbeat")
      expect(nominal.data).toMatchObject({ status: "Systems Nominal", nodesOnline: 3, nodesTotal: 3 })
      sim.setNodeOnline("pve1", false)
      const beats = yield* eventually("a heartbeat after pve1 went down", events(vigil.url, "health.heartbeat"), (b) => b.at(-1).data.nodesOnline === 2)
      expect(beats.at(-1).data).toMatchObject({ status: "Cluster Degraded", nodesOnline: 2, nodesTotal: 3 })
      expect(beats.at(-1).severity).toBe("warning")
    }))
})

describe("cluster watch of the local host (the default source)", () => {
  it.scopedLive("shows real figures for this machine in /api/v1/cluster", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_SOURCE: "localhost", VIGIL_POLL_CRITICAL: "200 millis" })
      const cluster = yield* eventually("the cluster view answers", getJson(`${vigil.url}/api/v1/cluster`), (r) => r.status === 200)
      const [node] = cluster.body.nodes
      expect(cluster.body.source).toBe("localhost")
      expect(node.status).toBe("online")
      expect(node.maxmem).toBeGreaterThan(0)
      expect(node.usage.mem).toBeGreaterThan(0)
      expect(node.usage.cpu).toBeGreaterThanOrEqual(0)
      expect(cluster.body.storage.some((s: any) => s.storage === "/")).toBe(true)
    }))
})
