/**
 * Every state change vigil reports about a (simulated) Proxmox VE cluster is true and carries its
 * cause: the simulator records tasks, HA, outages and storage the way PVE does, and vigil is
 * checked for the event types, severities, causes and incidents an operator should see.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { awaitEvents, events } from "../support/Events.js"
import { pollRounds, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const openIncidents = (url: string) => Effect.map(getJson(`${url}/api/v1/incidents?status=open`), (r) => (r.body as Array<any>).map((i) => i.key).sort())

const fast = { taskMs: 0, fenceAfterMs: 500, recoverAfterMs: 1200, staleAfterMs: 400 }

describe("the truth about a Proxmox cluster: each change with its cause", () => {
  it.scopedLive("an operator's shutdown (a task still running when seen) is vm.stopped with its user and task, no crash, no incident", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.operatorStop(100, "shutdown", "alice@pve", 600)
      const [stopped] = yield* awaitEvents(vigil.url, "vm.stopped")
      expect(stopped).toMatchObject({
        severity: "info",
        cause: "operator",
        subject: "qemu/100",
        data: { cause: { kind: "operator", user: "alice@pve", task: "qmshutdown", upid: expect.stringMatching(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmshutdown:100:alice@pve:$/) } }
      })
      expect(stopped.data.summary).toBe("VM 100 (web) on pve1 stopped by alice@pve (qmshutdown)")
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "vm.crashed")).toEqual([])
      expect(yield* openIncidents(vigil.url)).toEqual([])
      const cluster = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body
      expect(cluster.guests.find((g: any) => g.vmid === 100)).toMatchObject({ status: "stopped", cause: { kind: "operator", user: "alice@pve" }, incidents: [] })
      // Streams and queries filter on the cause attribute.
      expect((yield* getJson(`${vigil.url}/api/v1/events?type=vm.*`)).body.map((e: any) => e.cause)).toEqual(["operator"])
    }))

  it.scopedLive("a stop with no task is a crash (error, incident), saying Proxmox records no in-guest shutdown", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.cluster.shutdownInside(101)
      const [crashed] = yield* awaitEvents(vigil.url, "vm.crashed")
      expect(crashed).toMatchObject({ severity: "error", cause: "unknown", data: { condition: "VM_CRASHED", cause: { kind: "unknown" } } })
      expect(crashed.data.summary).toContain("shutdown from inside the guest")
      expect(yield* openIncidents(vigil.url)).toEqual(["VM_CRASHED:qemu/101"])
    }))

  it.scopedLive("a task log that cannot be read makes the stop unknown, and says why", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.setFault({ mode: "500", path: "/nodes/pve1/tasks" })
      sim.operatorStop(100, "shutdown", "alice@pve")
      const [crashed] = yield* awaitEvents(vigil.url, "vm.crashed")
      expect(crashed.data.cause).toMatchObject({ kind: "unknown", summary: expect.stringContaining("task log could not be read (pve1: HTTP 500") })
    }))

  it.scopedLive("a stop-mode backup stops and starts the guest: both with cause backup, no crash", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.cluster.backup(100, "stop", 800)
      const [stopped] = yield* awaitEvents(vigil.url, "vm.stopped")
      expect(stopped.data.cause).toMatchObject({ kind: "backup", task: "vzdump" })
      const [started] = yield* awaitEvents(vigil.url, "vm.started")
      expect(started.data.cause).toMatchObject({ kind: "backup" })
      expect(yield* events(vigil.url, "vm.crashed")).toEqual([])
    }))

  it.scopedLive("a migration is vm.migrated with the user who asked; a live one is no restart", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.cluster.migrate(100, "pve2", "alice@pve")
      const [migrated] = yield* awaitEvents(vigil.url, "vm.migrated")
      expect(migrated).toMatchObject({ severity: "info", cause: "migration", node: "pve2", data: { from: "pve1", to: "pve2", cause: { user: "alice@pve", task: "qmigrate" } } })
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "vm.restarted")).toEqual([])
      expect(yield* events(vigil.url, "vm.crashed")).toEqual([])
    }))

  it.scopedLive("restarts between two polls are seen by their uptime: a reboot (info), HA after a crash (warning), a container rebooted inside (warning)", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.cluster.operatorReboot(101, "alice@pve")
      sim.cluster.crashAndHaRestart(103)
      sim.cluster.rebootInside(102)
      const restarts = yield* awaitEvents(vigil.url, "vm.restarted,ct.restarted", 3)
      const by = Object.fromEntries(restarts.map((e) => [e.subject, e]))
      expect(by["qemu/101"]).toMatchObject({ type: "vm.restarted", severity: "info", cause: "operator", data: { cause: { user: "alice@pve", task: "qmreboot" } } })
      expect(by["qemu/103"]).toMatchObject({ type: "vm.restarted", severity: "warning", cause: "ha", data: { cause: { task: "qmstart", user: "root@pam" } } })
      expect(by["lxc/102"]).toMatchObject({ type: "ct.restarted", severity: "warning", cause: "unknown" })
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "vm.restarted,ct.restarted")).toHaveLength(3)
      expect(yield* openIncidents(vigil.url)).toEqual([])
    }))

  it.scopedLive("a node failure is one story: one incident, no crash while down, HA recovers its guest elsewhere, the others come back or are lost", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      sim.guest(102).onboot = false
      const vigil = yield* startVigil(watching(sim, { VIGIL_NODE_RETURN_GRACE: "800 millis" }))
      yield* watchSeeded(vigil.url, sim)
      sim.failNode("pve2")
      const [offline] = yield* awaitEvents(vigil.url, "node.offline")
      expect(offline.data.affected).toEqual({ guests: ["lxc/102", "qemu/103"], storage: ["storage/pve2/local", "storage/pve2/local-lvm", "storage/pve2/ceph"] })
      // HA first loses the node (unknown), then fences it.
      const haNode = yield* awaitEvents(vigil.url, "ha.node.changed", 2)
      expect(haNode.map((e) => [e.severity, e.data.from, e.data.to])).toEqual([["warning", "online", "unknown"], ["critical", "unknown", "fence"]])
      const [migrated] = yield* awaitEvents(vigil.url, "vm.migrated")
      expect(migrated).toMatchObject({ subject: "qemu/103", cause: "ha", data: { from: "pve2", to: "pve1" } })
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "vm.crashed,ct.crashed")).toEqual([])
      expect(yield* events(vigil.url, "storage.*")).toEqual([])
      const cluster = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body
      expect(cluster.guests.find((g: any) => g.vmid === 102)).toMatchObject({ affected: "node-outage" })
      expect(cluster.storage.filter((p: any) => p.node === "pve2").map((p: any) => [p.status, p.affected, p.total ?? null])).toEqual([
        ["unknown", "node-outage", null],
        ["unknown", "node-outage", null],
        ["unknown", "node-outage", null]
      ])
      expect((yield* openIncidents(vigil.url)).filter((k) => k.startsWith("NODE_UNREACHABLE"))).toEqual(["NODE_UNREACHABLE:node/pve2"])

      sim.setNodeOnline("pve2", true)
      yield* awaitEvents(vigil.url, "node.online")
      const [lost] = yield* awaitEvents(vigil.url, "ct.crashed")
      expect(lost).toMatchObject({ subject: "lxc/102", cause: "node-outage", data: { condition: "CT_CRASHED" } })
      expect(lost.data.summary).toContain("did not come back after pve2 returned")
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "vm.crashed,ct.crashed")).toHaveLength(1)
      expect(yield* openIncidents(vigil.url)).toEqual(["CT_CRASHED:lxc/102"])
    }))

  it.scopedLive("a guest that ran on a node that failed comes back with it when it boots", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim, { VIGIL_NODE_RETURN_GRACE: "5 seconds" }))
      yield* watchSeeded(vigil.url, sim)
      sim.failNode("pve1")
      yield* awaitEvents(vigil.url, "node.offline")
      yield* pollRounds(sim)
      sim.setNodeOnline("pve1", true)
      const back = yield* awaitEvents(vigil.url, "vm.started", 2)
      expect(back.map((e) => [e.subject, e.cause])).toEqual([["qemu/100", "node-outage"], ["qemu/101", "node-outage"]])
      expect(yield* events(vigil.url, "vm.crashed")).toEqual([])
    }))

  it.scopedLive("quorum lost and regained: a critical incident, then its resolution", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.state.quorumOverride = false
      const [lost] = yield* awaitEvents(vigil.url, "cluster.quorum.lost")
      expect(lost.severity).toBe("critical")
      expect(yield* openIncidents(vigil.url)).toEqual(["QUORUM_LOST:cluster"])
      sim.state.quorumOverride = undefined
      yield* awaitEvents(vigil.url, "cluster.quorum.regained")
      yield* pollRounds(sim)
      expect(yield* openIncidents(vigil.url)).toEqual([])
      expect(yield* events(vigil.url, "cluster.quorum.*")).toHaveLength(2)
    }))

  it.scopedLive("an HA resource in error is an incident until HA clears it", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.guest(103).ha!.state = "error"
      const [error] = yield* awaitEvents(vigil.url, "ha.service.changed")
      expect(error).toMatchObject({ severity: "error", subject: "qemu/103", data: { sid: "vm:103", from: "started", to: "error" } })
      expect(yield* openIncidents(vigil.url)).toEqual(["HA_ERROR:qemu/103"])
      sim.guest(103).ha!.state = "started"
      yield* awaitEvents(vigil.url, "ha.service.changed", 2)
      expect(yield* openIncidents(vigil.url)).toEqual([])
    }))

  it.scopedLive("storage that goes unknown is storage.unavailable, and its capacity incident stays as it was", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.fillStorage("pve1", "local", 97)
      yield* awaitEvents(vigil.url, "threshold.violated")
      sim.cluster.pool("pve1", "local").status = "unknown"
      const [unavailable] = yield* awaitEvents(vigil.url, "storage.unavailable")
      expect(unavailable).toMatchObject({ severity: "error", subject: "storage/pve1/local" })
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "threshold.resolved")).toEqual([])
      expect(yield* openIncidents(vigil.url)).toEqual(["STORAGE:storage/pve1/local", "STORAGE_UNAVAILABLE:storage/pve1/local"])
      const pool = (yield* getJson(`${vigil.url}/api/v1/cluster`)).body.storage.find((p: any) => p.node === "pve1" && p.storage === "local")
      expect(pool).toMatchObject({ status: "unknown", percent: null, affected: null })
      expect(pool.total).toBeUndefined()
      sim.cluster.pool("pve1", "local").status = "available"
      yield* awaitEvents(vigil.url, "storage.available")
      yield* pollRounds(sim)
      expect(yield* openIncidents(vigil.url)).toEqual(["STORAGE:storage/pve1/local"])
    }))

  it.scopedLive("a lock held past VIGIL_LOCK_STUCK_AFTER is guest.lock.stuck, once, until it is released", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ timing: fast })
      const vigil = yield* startVigil(watching(sim, { VIGIL_LOCK_STUCK_AFTER: "600 millis" }))
      yield* watchSeeded(vigil.url, sim)
      sim.guest(101).lock = "backup"
      const [stuck] = yield* awaitEvents(vigil.url, "guest.lock.stuck")
      expect(stuck).toMatchObject({ severity: "warning", subject: "qemu/101", data: { lock: "backup" } })
      yield* pollRounds(sim)
      expect(yield* events(vigil.url, "guest.lock.*")).toHaveLength(1)
      sim.guest(101).lock = undefined
      yield* awaitEvents(vigil.url, "guest.lock.released")
      expect(yield* openIncidents(vigil.url)).toEqual([])
    }))
})
