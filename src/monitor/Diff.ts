/**
 * State changes between two snapshots (pure): nodes going offline and back, their HA state,
 * quorum, HA resources, storage becoming unavailable and available again, services and port
 * conflicts on the local host, and every guest's story (GuestWatch), each with its cause. The
 * first snapshot only seeds the state: what was already down when vigil started is not news.
 */
import type { HaService, NodeStatus, Snapshot } from "../domain/Snapshot.js"
import { guestKey, storageKey } from "../domain/Snapshot.js"
import type { Evidence } from "./Causes.js"
import { diffGuests, type GuestChange, type GuestMemory, type GuestPolicy, rememberGuest } from "./GuestWatch.js"

export interface NodeMemory {
  readonly status: NodeStatus
  readonly hastate: string | undefined
  /** When it entered this status (epoch ms). */
  readonly since: number
}

export interface PoolMemory {
  readonly available: boolean
  /** Reported unavailable (an incident is open). */
  readonly reported: boolean
}

export interface WatchState {
  readonly takenAt: number
  readonly nodes: ReadonlyMap<string, NodeMemory>
  readonly quorate: boolean | undefined
  readonly guests: ReadonlyMap<string, GuestMemory>
  readonly storage: ReadonlyMap<string, PoolMemory>
  /** HA resources by sid (`vm:100`). */
  readonly ha: ReadonlyMap<string, HaService>
  /** `node/service` → running. */
  readonly services: ReadonlyMap<string, boolean>
  /** Ports in conflict, with the process names involved. */
  readonly portConflicts: ReadonlyMap<number, string>
}

export type StateChange =
  | GuestChange
  | {
    readonly _tag: "NodeOffline"
    readonly node: string
    readonly from: NodeStatus
    /** What it takes down with it: the guests that ran on it and its storage pools. */
    readonly affected: { readonly guests: ReadonlyArray<string>; readonly storage: ReadonlyArray<string> }
  }
  | { readonly _tag: "NodeOnline"; readonly node: string; readonly from: NodeStatus; readonly downForMs: number }
  | { readonly _tag: "NodeHaChanged"; readonly node: string; readonly from: string; readonly to: string }
  | { readonly _tag: "QuorumLost" }
  | { readonly _tag: "QuorumRegained" }
  | { readonly _tag: "HaServiceChanged"; readonly service: HaService; readonly from: string }
  | { readonly _tag: "StorageUnavailable"; readonly node: string; readonly storage: string; readonly status: string }
  | { readonly _tag: "StorageAvailable"; readonly node: string; readonly storage: string }
  | { readonly _tag: "ServiceDown"; readonly node: string; readonly service: string }
  | { readonly _tag: "ServiceUp"; readonly node: string; readonly service: string }
  | { readonly _tag: "PortConflict"; readonly port: number; readonly processes: string }
  | { readonly _tag: "PortConflictResolved"; readonly port: number; readonly processes: string }

export const defaultGuestPolicy: GuestPolicy = { lockStuckAfterMs: 3 * 3_600_000, returnGraceMs: 5 * 60_000, slackMs: 60_000 }

const serviceKey = (node: string, name: string) => `${node}/${name}`

const isAvailable = (status: string) => status === "available" || status === "active"

/** The state a snapshot implies when there is nothing before it. */
export const seed = (snapshot: Snapshot): WatchState => ({
  takenAt: snapshot.takenAt,
  nodes: new Map(snapshot.nodes.map((n) => [n.name, { status: n.status, hastate: n.hastate, since: snapshot.takenAt }])),
  quorate: snapshot.quorate,
  guests: new Map(snapshot.guests.map((g) => [guestKey(g), rememberGuest(g, snapshot.takenAt)])),
  storage: new Map(snapshot.storage.map((p) => [storageKey(p), { available: isAvailable(p.status), reported: false }])),
  ha: new Map((snapshot.ha ?? []).map((s) => [s.sid, s])),
  services: new Map(snapshot.services.map((s) => [serviceKey(s.node, s.name), s.running])),
  portConflicts: new Map(snapshot.portConflicts.map((c) => [c.port, c.processes.map((p) => p.name).join(", ")]))
})

/**
 * Compares a snapshot with what was known, explaining guest changes from `evidence` (task logs).
 * With no previous state it seeds and reports nothing; identical snapshots report nothing.
 */
export const diff = (
  previous: WatchState | undefined,
  snapshot: Snapshot,
  evidence: Evidence,
  policy: GuestPolicy = defaultGuestPolicy
): { readonly state: WatchState; readonly changes: ReadonlyArray<StateChange> } => {
  if (previous === undefined) return { state: seed(snapshot), changes: [] }
  const now = snapshot.takenAt
  const changes: Array<StateChange> = []
  const up = (node: string) => snapshot.nodes.find((n) => n.name === node)?.status === "online"

  const nodes = new Map<string, NodeMemory>()
  for (const n of snapshot.nodes) {
    const before = previous.nodes.get(n.name)
    nodes.set(n.name, before !== undefined && before.status === n.status ? { ...before, hastate: n.hastate } : { status: n.status, hastate: n.hastate, since: now })
    if (before === undefined) continue
    if (before.status !== n.status && n.status === "offline") {
      const guests = [...previous.guests.entries()].filter(([, g]) => g.node === n.name && g.status === "running").map(([k]) => k)
      const storage = snapshot.storage.filter((p) => p.node === n.name).map(storageKey)
      changes.push({ _tag: "NodeOffline", node: n.name, from: before.status, affected: { guests, storage } })
    } else if (before.status === "offline" && n.status === "online") {
      changes.push({ _tag: "NodeOnline", node: n.name, from: before.status, downForMs: now - before.since })
    }
    if (before.hastate !== undefined && n.hastate !== undefined && before.hastate !== n.hastate) {
      changes.push({ _tag: "NodeHaChanged", node: n.name, from: before.hastate, to: n.hastate })
    }
  }
  // A node the cluster no longer lists is forgotten, not reported offline: removal from the
  // cluster is an administrative act, not an outage.

  const quorate = snapshot.quorate ?? previous.quorate
  if (previous.quorate === true && quorate === false) changes.push({ _tag: "QuorumLost" })
  if (previous.quorate === false && quorate === true) changes.push({ _tag: "QuorumRegained" })

  let ha = previous.ha
  if (snapshot.ha !== undefined) {
    ha = new Map(snapshot.ha.map((s) => [s.sid, s]))
    for (const s of snapshot.ha) {
      const before = previous.ha.get(s.sid)
      if (before !== undefined && before.state !== s.state) changes.push({ _tag: "HaServiceChanged", service: s, from: before.state })
    }
  }

  const storage = new Map<string, PoolMemory>()
  for (const p of snapshot.storage) {
    const key = storageKey(p)
    const before = previous.storage.get(key)
    const available = isAvailable(p.status)
    if (before === undefined) {
      storage.set(key, { available, reported: false })
    } else if (!up(p.node)) {
      // Its node is down: the pool is affected, not unavailable; it is judged when the node is back.
      storage.set(key, before)
    } else if (before.available && !available) {
      storage.set(key, { available, reported: true })
      changes.push({ _tag: "StorageUnavailable", node: p.node, storage: p.storage, status: p.status })
    } else if (!before.available && available) {
      storage.set(key, { available, reported: false })
      if (before.reported) changes.push({ _tag: "StorageAvailable", node: p.node, storage: p.storage })
    } else {
      storage.set(key, before)
    }
  }

  const guestDiff = diffGuests(previous.guests, previous.takenAt, snapshot, evidence, policy)
  changes.push(...guestDiff.changes)

  const services = new Map<string, boolean>()
  for (const s of snapshot.services) {
    const key = serviceKey(s.node, s.name)
    services.set(key, s.running)
    const before = previous.services.get(key)
    if (before === true && !s.running) changes.push({ _tag: "ServiceDown", node: s.node, service: s.name })
    else if (before === false && s.running) changes.push({ _tag: "ServiceUp", node: s.node, service: s.name })
  }

  const portConflicts = new Map<number, string>()
  for (const c of snapshot.portConflicts) {
    const processes = c.processes.map((p) => p.name).join(", ")
    portConflicts.set(c.port, processes)
    if (!previous.portConflicts.has(c.port)) changes.push({ _tag: "PortConflict", port: c.port, processes })
  }
  for (const [port, processes] of previous.portConflicts) {
    if (!portConflicts.has(port)) changes.push({ _tag: "PortConflictResolved", port, processes })
  }

  return {
    state: { takenAt: now, nodes, quorate, guests: guestDiff.guests, storage, ha, services, portConflicts },
    changes
  }
}
