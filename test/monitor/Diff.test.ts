import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { diff, reconcile, seed } from "../../src/monitor/Diff.js"
import type { Guest, Snapshot } from "../../src/domain/Snapshot.js"

const nodeNames = ["pve1", "pve2", "pve3", "pve4"]

const arbGuest = (vmid: number) =>
  FastCheck.record({
    kind: FastCheck.constantFrom("qemu" as const, "lxc" as const),
    vmid: FastCheck.constant(vmid),
    name: FastCheck.constantFrom("web", "db", "cache"),
    node: FastCheck.constantFrom(...nodeNames),
    status: FastCheck.constantFrom("running" as const, "stopped" as const, "paused" as const, "unknown" as const),
    tags: FastCheck.constant([] as Array<string>),
    template: FastCheck.boolean()
  })

const arbSnapshot: FastCheck.Arbitrary<Snapshot> = FastCheck.record({
  nodes: FastCheck.subarray(nodeNames, { minLength: 1 }).chain((names) =>
    FastCheck.tuple(...names.map((name) =>
      FastCheck.record({ name: FastCheck.constant(name), status: FastCheck.constantFrom("online" as const, "offline" as const, "unknown" as const) })
    ))
  ),
  guests: FastCheck.uniqueArray(FastCheck.integer({ min: 100, max: 130 }), { maxLength: 12 }).chain((ids) =>
    FastCheck.tuple(...ids.map(arbGuest))
  )
}).map(({ nodes, guests }) => ({
  source: "test",
  takenAt: 0,
  nodes,
  guests: guests as Array<Guest>,
  storage: [],
  portConflicts: [],
  services: []
}))

describe("diff", () => {
  it.prop("the first snapshot only seeds: it reports nothing", [arbSnapshot], ([s]) => {
    expect(diff(undefined, s).changes).toEqual([])
  })

  it.prop("identical snapshots report nothing", [arbSnapshot], ([s]) => {
    const first = diff(undefined, s)
    const second = diff(first.state, s)
    expect(second.changes).toEqual([])
    expect(diff(second.state, s).changes).toEqual([])
  })

  it.prop("a guest that moves node is a move, never a crash", [arbSnapshot, FastCheck.integer({ min: 1, max: 3 })], ([s, shift]) => {
    const moved = {
      ...s,
      guests: s.guests.map((g) => ({ ...g, node: nodeNames[(nodeNames.indexOf(g.node) + shift) % nodeNames.length]! }))
    }
    const { changes } = diff(seed(s), moved)
    expect(changes.every((c) => c._tag === "GuestMoved")).toBe(true)
    expect(changes).toHaveLength(s.guests.length)
  })

  it.prop("a crash is reported exactly when a running guest is seen stopped", [arbSnapshot, arbSnapshot], ([a, b]) => {
    const { changes } = diff(seed(a), b)
    const crashed = new Set(changes.filter((c) => c._tag === "GuestCrashed").map((c) => (c as any).guest.vmid))
    const before = new Map(a.guests.map((g) => [`${g.kind}/${g.vmid}`, g.status]))
    const expected = new Set(
      b.guests.filter((g) => g.status === "stopped" && before.get(`${g.kind}/${g.vmid}`) === "running").map((g) => g.vmid)
    )
    expect(crashed).toEqual(expected)
  })

  it("reports node outages and returns, and remembers a crash until the guest runs again", () => {
    const base: Snapshot = {
      source: "test", takenAt: 0, storage: [], portConflicts: [], services: [],
      nodes: [{ name: "pve1", status: "online" }],
      guests: [{ kind: "qemu", vmid: 100, name: "web", node: "pve1", status: "running", tags: [], template: false }]
    }
    const stopped = { ...base, guests: [{ ...base.guests[0]!, status: "stopped" as const }] }
    const offline = { ...stopped, nodes: [{ name: "pve1", status: "offline" as const }] }
    let r = diff(seed(base), stopped)
    expect(r.changes.map((c) => c._tag)).toEqual(["GuestCrashed"])
    r = diff(r.state, offline)
    expect(r.changes.map((c) => c._tag)).toEqual(["NodeOffline"])
    r = diff(r.state, base)
    expect(r.changes).toEqual([
      { _tag: "NodeOnline", node: "pve1", from: "offline" },
      expect.objectContaining({ _tag: "GuestStarted", wasCrashed: true })
    ])
  })
})

describe("reconcile", () => {
  const snapshot: Snapshot = {
    source: "test", takenAt: 0, storage: [], portConflicts: [], services: [],
    nodes: [{ name: "pve1", status: "online" }, { name: "pve2", status: "offline" }],
    guests: [
      { kind: "qemu", vmid: 100, name: "web", node: "pve1", status: "stopped", tags: [], template: false },
      { kind: "qemu", vmid: 101, name: "db", node: "pve1", status: "running", tags: [], template: false }
    ]
  }

  it("carries over conditions that still hold and reports the ones that ended while nobody watched", () => {
    const { changes, state } = reconcile(seed(snapshot), [
      { condition: "VM_CRASHED", target: "qemu/100" },
      { condition: "VM_CRASHED", target: "qemu/101" },
      { condition: "NODE_UNREACHABLE", target: "node/pve1" },
      { condition: "NODE_UNREACHABLE", target: "node/pve2" }
    ])
    expect(changes.map((c) => c._tag)).toEqual(["GuestStarted", "NodeOnline"])
    expect(state.guests.get("qemu/100")?.crashed).toBe(true)
    // The still-crashed guest starting later resolves the incident that was carried over.
    const started = diff(state, { ...snapshot, guests: snapshot.guests.map((g) => ({ ...g, status: "running" as const })) })
    expect(started.changes).toEqual([expect.objectContaining({ _tag: "GuestStarted", wasCrashed: true })])
  })
})
