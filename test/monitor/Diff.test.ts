import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import type { Guest, GuestStatus, Snapshot } from "../../src/domain/Snapshot.js"
import type { Task } from "../../src/domain/Task.js"
import { type Evidence, noEvidence } from "../../src/monitor/Causes.js"
import { fromStateChange } from "../../src/monitor/ChangeFindings.js"
import { defaultGuestPolicy, diff, seed, type StateChange, type WatchState } from "../../src/monitor/Diff.js"
import { nodesToExplain } from "../../src/monitor/GuestWatch.js"
import { reconcile } from "../../src/monitor/Reconcile.js"

const nodeNames = ["pve1", "pve2", "pve3", "pve4"]
const poll = 12_000

const guest = (vmid: number, fields: Partial<Guest> = {}): Guest => ({
  kind: "qemu", vmid, name: `g${vmid}`, node: "pve1", status: "running", uptime: 1000, tags: [], template: false, ...fields
})

const snapshot = (takenAt: number, guests: ReadonlyArray<Guest>, down: ReadonlyArray<string> = []): Snapshot => ({
  source: "test",
  takenAt,
  nodes: nodeNames.map((name) => ({ name, status: down.includes(name) ? "offline" as const : "online" as const })),
  guests,
  storage: [],
  portConflicts: [],
  services: []
})

const task = (fields: Partial<Task> & Pick<Task, "type" | "id" | "node">, at: number): Task => ({
  upid: `UPID:${fields.node}:00001000:00100000:${Math.floor(at / 1000).toString(16)}:${fields.type}:${fields.id}:root@pam:`,
  user: "root@pam",
  starttime: Math.floor(at / 1000),
  endtime: Math.floor(at / 1000) + 2,
  status: "OK",
  ...fields
})

const logs = (tasks: ReadonlyArray<Task>): Evidence => {
  const byNode = new Map<string, Either.Either<ReadonlyArray<Task>, string>>()
  for (const n of nodeNames) byNode.set(n, Either.right(tasks.filter((t) => t.node === n)))
  return { tasks: byNode, actingUser: "monitor@pve!vigil" }
}

/** Runs snapshots through diff, as the critical tier does, collecting every change with the step it happened at. */
const run = (snapshots: ReadonlyArray<Snapshot>, evidenceAt: (i: number) => Evidence = () => noEvidence) => {
  let state: WatchState | undefined
  const all: Array<{ readonly step: number; readonly change: StateChange }> = []
  snapshots.forEach((s, i) => {
    const r = diff(state, s, evidenceAt(i))
    for (const change of r.changes) all.push({ step: i, change })
    state = r.state
  })
  return { state: state!, changes: all }
}

const crashesOf = (changes: ReadonlyArray<{ readonly step: number; readonly change: StateChange }>) =>
  changes.filter(({ change }) => fromStateChange(change).event.type.endsWith(".crashed"))

// Random worlds: each step, every guest is on a node with a status and an uptime, nodes up or down.
interface Step {
  readonly down: ReadonlyArray<string>
  readonly guests: ReadonlyArray<{ readonly status: GuestStatus; readonly node: string; readonly restarted: boolean }>
}

const arbWorld = (guests: number, steps: number) =>
  FastCheck.array(
    FastCheck.record({
      down: FastCheck.subarray(nodeNames.slice(1), { maxLength: 2 }),
      guests: FastCheck.array(
        FastCheck.record({
          status: FastCheck.constantFrom<GuestStatus>("running", "running", "stopped", "unknown", "paused"),
          node: FastCheck.constantFrom(...nodeNames),
          restarted: FastCheck.boolean()
        }),
        { minLength: guests, maxLength: guests }
      )
    }),
    { minLength: 2, maxLength: steps }
  )

/** The snapshots of a world, uptimes counting up, reset where a step says so. */
const snapshotsOf = (world: ReadonlyArray<Step>) => {
  const uptimes: Array<number> = []
  return world.map((step, i) =>
    snapshot(
      i * poll,
      step.guests.map((g, vmid) => {
        const running = g.status === "running"
        uptimes[vmid] = !running ? 0 : g.restarted ? 5 : (uptimes[vmid] ?? 100) + poll / 1000
        return guest(100 + vmid, { status: g.status, node: g.node, uptime: running ? uptimes[vmid] : 0 })
      }),
      step.down
    )
  )
}

describe("diff", () => {
  it.prop("the first snapshot only seeds, and identical snapshots report nothing", [arbWorld(6, 2)], ([world]) => {
    const [first] = snapshotsOf(world)
    expect(diff(undefined, first!, noEvidence).changes).toEqual([])
    const seeded = diff(undefined, first!, noEvidence).state
    expect(diff(seeded, first!, noEvidence).changes).toEqual([])
  })

  it.prop("a stop that a task explains never gives a crash event or an incident", [
    arbWorld(5, 6),
    FastCheck.constantFrom("qmshutdown", "qmstop", "vzdump", "qmigrate", "qmreboot", "qmsuspend", "hastop"),
    FastCheck.constantFrom("root@pam", "alice@pve", "monitor@pve")
  ], ([world, type, user]) => {
    const snapshots = snapshotsOf(world)
    // Every guest has, at every step, a task of this type on every node, by this user.
    const evidenceAt = (i: number) =>
      logs(world[i]!.guests.flatMap((_, vmid) => nodeNames.map((node) => task({ node, type, id: String(100 + vmid), user }, i * poll - 1000))))
    const { changes } = run(snapshots, evidenceAt)
    const stops = changes.filter(({ change }) => change._tag === "GuestStopped")
    for (const { change } of stops) {
      const f = fromStateChange(change)
      expect(f.event.type).not.toMatch(/crashed$/)
      expect(f.incident).toBeUndefined()
    }
  })

  it.prop("every unexplained running → stopped gives exactly one crash, and one incident", [arbWorld(5, 8)], ([world]) => {
    const snapshots = snapshotsOf(world)
    const { changes } = run(snapshots)
    // Expected: a guest on the same online node, running at one step and stopped at the next,
    // with no outage of its node in between (followed separately).
    const crashes = crashesOf(changes).filter(({ change }) => change._tag === "GuestStopped")
    for (const { change, step } of crashes) {
      const f = fromStateChange(change)
      expect(f.incident).toMatchObject({ _tag: "Open", condition: "VM_CRASHED" })
      expect(snapshots[step]!.guests.find((g) => g.vmid === (change as any).guest.vmid)?.status).toBe("stopped")
    }
    const perStep = new Set(crashes.map(({ change, step }) => `${step}:${(change as any).guest.vmid}`))
    expect(perStep.size).toBe(crashes.length)
    // Every plain running → stopped on a steady online node is among them.
    for (let i = 1; i < snapshots.length; i++) {
      for (const g of snapshots[i]!.guests) {
        const before = snapshots[i - 1]!.guests.find((x) => x.vmid === g.vmid)!
        const steady = before.node === g.node && !world[i]!.down.includes(g.node) && !world[i - 1]!.down.includes(g.node)
        const everDown = world.slice(0, i + 1).some((s) => s.down.includes(g.node))
        if (steady && !everDown && before.status === "running" && g.status === "stopped") {
          expect(perStep.has(`${i}:${g.vmid}`)).toBe(true)
        }
      }
    }
  })

  it.prop("a guest on an offline node never gives a crash while the node is down", [arbWorld(6, 8)], ([world]) => {
    const snapshots = snapshotsOf(world)
    for (const { change, step } of crashesOf(run(snapshots).changes)) {
      const g = (change as any).guest
      expect(world[step]!.down.includes(g.node)).toBe(false)
    }
  })

  it.prop("uptime going down while a guest keeps running is reported once, as a restart", [arbWorld(5, 8)], ([world]) => {
    const snapshots = snapshotsOf(world)
    const { changes } = run(snapshots)
    const restarts = changes.filter(({ change }) => change._tag === "GuestRestarted")
    // `unknown` says nothing: a guest is compared with what was last known of it.
    const known = new Map(snapshots[0]!.guests.map((g) => [g.vmid, g]))
    for (let i = 1; i < snapshots.length; i++) {
      for (const g of snapshots[i]!.guests) {
        const before = known.get(g.vmid)!
        const previousNode = snapshots[i - 1]!.guests.find((x) => x.vmid === g.vmid)!.node
        const everDown = world.slice(0, i + 1).some((s) => s.down.includes(g.node) || s.down.includes(previousNode))
        const expected = previousNode === g.node && before.status === "running" && g.status === "running" && g.uptime! < before.uptime!
        const found = restarts.filter(({ change, step }) => step === i && (change as any).guest.vmid === g.vmid)
        if (!everDown) expect(found).toHaveLength(expected ? 1 : 0)
        if (g.status !== "unknown") known.set(g.vmid, g)
      }
    }
  })

  it("asks for the task logs of exactly the nodes where a guest changed", () => {
    const before = seed(snapshot(0, [guest(100), guest(101, { node: "pve2" }), guest(102, { node: "pve3", status: "stopped" })]))
    const after = snapshot(poll, [guest(100, { status: "stopped" }), guest(101, { node: "pve3" }), guest(102, { node: "pve3", status: "stopped" })])
    expect([...nodesToExplain(before.guests, after)].sort()).toEqual(["pve1", "pve2", "pve3"])
    expect([...nodesToExplain(before.guests, snapshot(poll, [guest(100, { uptime: 1012 }), guest(101, { node: "pve2" })]))]).toEqual([])
  })

  it("follows a node outage: no crash while it is down; back with the node, or lost after the grace", () => {
    const grace = defaultGuestPolicy.returnGraceMs
    const steps = [
      snapshot(0, [guest(100), guest(101)]),
      snapshot(poll, [guest(100, { status: "unknown" }), guest(101, { status: "unknown" })], ["pve1"]),
      snapshot(2 * poll, [guest(100, { status: "stopped", uptime: 0 }), guest(101, { status: "stopped", uptime: 0 })]),
      snapshot(3 * poll, [guest(100, { uptime: 3 }), guest(101, { status: "stopped", uptime: 0 })]),
      snapshot(2 * poll + grace, [guest(100, { uptime: 300 }), guest(101, { status: "stopped", uptime: 0 })])
    ]
    const { changes } = run(steps)
    expect(changes.map(({ change, step }) => [step, change._tag])).toEqual([
      [1, "NodeOffline"],
      [2, "NodeOnline"],
      [3, "GuestReturned"],
      [4, "GuestLost"]
    ])
    const offline = changes[0]!.change as Extract<StateChange, { _tag: "NodeOffline" }>
    expect(offline.affected.guests).toEqual(["qemu/100", "qemu/101"])
    const lost = fromStateChange(changes[3]!.change)
    expect(lost.event.type).toBe("vm.crashed")
    expect(lost.incident).toMatchObject({ _tag: "Open", key: "VM_CRASHED:qemu/101" })
    expect(JSON.parse(lost.event.data!).cause).toMatchObject({ kind: "node-outage" })
  })

  it("quorum, HA, storage availability and stuck locks are changes of their own", () => {
    const base = snapshot(0, [guest(100, { hastate: "started" }), guest(101, { lock: "backup" })])
    const withAll = (s: Snapshot, extra: Partial<Snapshot>): Snapshot => ({ ...s, ...extra })
    const pool = (status: string) => [{ node: "pve1", storage: "nfs", status, used: 1, total: 2, shared: true }]
    const steps = [
      withAll(base, { quorate: true, ha: [{ sid: "vm:100", node: "pve1", state: "started" }], storage: pool("available") }),
      withAll(snapshot(poll, base.guests), { quorate: false, ha: [{ sid: "vm:100", node: "pve1", state: "error" }], storage: pool("unknown") }),
      withAll(snapshot(defaultGuestPolicy.lockStuckAfterMs, base.guests), { quorate: true, ha: [{ sid: "vm:100", node: "pve1", state: "started" }], storage: pool("available") }),
      withAll(snapshot(defaultGuestPolicy.lockStuckAfterMs + poll, [base.guests[0]!, guest(101)]), { quorate: true, storage: pool("available") })
    ]
    const { changes } = run(steps)
    expect(changes.map(({ change, step }) => [step, change._tag])).toEqual([
      [1, "QuorumLost"],
      [1, "HaServiceChanged"],
      [1, "StorageUnavailable"],
      [2, "QuorumRegained"],
      [2, "HaServiceChanged"],
      [2, "StorageAvailable"],
      [2, "GuestLockStuck"],
      [3, "GuestLockReleased"]
    ])
    const ops = changes.map(({ change }) => fromStateChange(change).incident).map((op) => op && `${op._tag} ${op.key}`)
    expect(ops).toEqual([
      "Open QUORUM_LOST:cluster",
      "Open HA_ERROR:qemu/100",
      "Open STORAGE_UNAVAILABLE:storage/pve1/nfs",
      "Resolve QUORUM_LOST:cluster",
      "Resolve HA_ERROR:qemu/100",
      "Resolve STORAGE_UNAVAILABLE:storage/pve1/nfs",
      "Open GUEST_LOCK_STUCK:qemu/101",
      "Resolve GUEST_LOCK_STUCK:qemu/101"
    ])
  })

  it("storage whose node is down is affected, not unavailable, and keeps its capacity incident", () => {
    const pool = (status: string) => ({ node: "pve2", storage: "local", status, ...(status === "available" ? { used: 97, total: 100 } : {}), shared: false })
    const steps = [
      { ...snapshot(0, []), storage: [pool("available")] },
      { ...snapshot(poll, [], ["pve2"]), storage: [pool("unknown")] },
      { ...snapshot(2 * poll, []), storage: [pool("available")] }
    ]
    const { changes } = run(steps)
    expect(changes.map(({ change }) => change._tag)).toEqual(["NodeOffline", "NodeOnline"])
  })
})

describe("reconcile", () => {
  const base: Snapshot = {
    ...snapshot(0, [guest(100, { status: "stopped", uptime: 0 }), guest(101)], ["pve2"])
  }

  it("carries over conditions that still hold and reports the ones that ended while nobody watched", () => {
    const { changes, state } = reconcile(seed(base), [
      { condition: "VM_CRASHED", target: "qemu/100" },
      { condition: "VM_CRASHED", target: "qemu/101" },
      { condition: "NODE_UNREACHABLE", target: "node/pve1" },
      { condition: "NODE_UNREACHABLE", target: "node/pve2" },
      { condition: "QUORUM_LOST", target: "cluster" }
    ])
    expect(changes.map((c) => c._tag)).toEqual(["GuestStarted", "NodeOnline"])
    expect(state.guests.get("qemu/100")?.crashed).toBe(true)
    expect(state.quorate).toBe(false)
    // The still-crashed guest starting later resolves the incident that was carried over.
    const started = diff(state, snapshot(poll, [guest(100, { uptime: 5 }), guest(101)], ["pve2"]), noEvidence)
    expect(started.changes).toEqual([expect.objectContaining({ _tag: "GuestStarted", wasCrashed: true })])
  })
})
