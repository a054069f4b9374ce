/**
 * What happened to each guest between two snapshots (pure), with its cause: stopped (a crash only
 * when nothing explains it), restarted (uptime went down while it kept running), moved, started,
 * added, removed; a lock held too long. A guest whose node is down is followed, never reported
 * crashed: it came back with its node, or HA recovered it elsewhere, or, once its node has been
 * back for a grace period without it running, it is a crash caused by the outage.
 */
import type { Cause } from "../domain/Cause.js"
import type { Guest, GuestStatus, Snapshot } from "../domain/Snapshot.js"
import { guestKey, haSid } from "../domain/Snapshot.js"
import { type Evidence, explain, type Subject } from "./Causes.js"

export interface GuestMemory {
  readonly kind: Guest["kind"]
  readonly vmid: number
  readonly name: string
  readonly node: string
  readonly status: GuestStatus
  readonly uptime: number | undefined
  readonly lock: string | undefined
  /** When the current lock was first seen (epoch ms). */
  readonly lockSince: number | undefined
  /** The lock has been reported stuck (an incident is open). */
  readonly lockStuck: boolean
  readonly hastate: string | undefined
  /** Seen running, then stopped with nothing to explain it, and not running since (an incident is open). */
  readonly crashed: boolean
  /** It ran when its node went down; followed until it runs again or is known lost. */
  readonly outage: { readonly node: string; readonly since: number; readonly nodeBackAt: number | undefined } | undefined
  /** Why its state last changed, for the cluster view. */
  readonly cause: Cause | undefined
}

export type GuestChange =
  | { readonly _tag: "GuestStopped"; readonly guest: GuestMemory; readonly cause: Cause }
  | { readonly _tag: "GuestRestarted"; readonly guest: GuestMemory; readonly cause: Cause; readonly uptimeBefore: number }
  | { readonly _tag: "GuestMoved"; readonly guest: GuestMemory; readonly from: string; readonly cause: Cause }
  | { readonly _tag: "GuestStarted"; readonly guest: GuestMemory; readonly wasCrashed: boolean; readonly cause: Cause | undefined }
  /** It ran when its node went down, and runs again now its node is back. */
  | { readonly _tag: "GuestReturned"; readonly guest: GuestMemory; readonly cause: Cause }
  /** It ran when its node went down, and did not come back with it: a crash caused by the outage. */
  | { readonly _tag: "GuestLost"; readonly guest: GuestMemory; readonly cause: Cause }
  | { readonly _tag: "GuestAdded"; readonly guest: GuestMemory }
  | { readonly _tag: "GuestRemoved"; readonly guest: GuestMemory }
  | { readonly _tag: "GuestLockStuck"; readonly guest: GuestMemory; readonly lock: string; readonly since: number }
  | { readonly _tag: "GuestLockReleased"; readonly guest: GuestMemory; readonly lock: string }

export interface GuestPolicy {
  /** A lock held longer than this is stuck (VIGIL_LOCK_STUCK_AFTER). */
  readonly lockStuckAfterMs: number
  /** How long a node that came back gets to start what ran on it before that counts as lost. */
  readonly returnGraceMs: number
  /** Tasks are matched to a change within this much of the poll window, for clocks that differ. */
  readonly slackMs: number
}

/** QEMU run states that mean the guest has failed, though its process may still be there. */
const failed: ReadonlySet<GuestStatus> = new Set(["guest-panicked", "internal-error", "io-error"])

export const rememberGuest = (g: Guest, now: number, before?: GuestMemory): GuestMemory => ({
  kind: g.kind,
  vmid: g.vmid,
  name: g.name,
  node: g.node,
  status: g.status,
  uptime: g.uptime,
  lock: g.lock,
  lockSince: g.lock === undefined ? undefined : before?.lock === g.lock ? before.lockSince : now,
  lockStuck: before !== undefined && before.lock === g.lock ? before.lockStuck : false,
  hastate: g.hastate,
  crashed: before?.crashed ?? false,
  outage: before?.outage,
  cause: before?.cause
})

/** The nodes that are online, looked up once per poll rather than once per guest. */
const onlineNodes = (snapshot: Snapshot): ReadonlySet<string> => {
  const up = new Set<string>()
  for (const n of snapshot.nodes) if (n.status === "online") up.add(n.name)
  return up
}

/** The nodes whose task logs can explain what the snapshot shows of its guests (pure, cheap). */
export const nodesToExplain = (previous: ReadonlyMap<string, GuestMemory> | undefined, snapshot: Snapshot): ReadonlySet<string> => {
  const nodes = new Set<string>()
  if (previous === undefined) return nodes
  const up = onlineNodes(snapshot)
  const nodeUp = (_: Snapshot, node: string) => up.has(node)
  for (const g of snapshot.guests) {
    const before = previous.get(guestKey(g))
    if (before === undefined || !nodeUp(snapshot, g.node)) continue
    const running = g.status === "running"
    const wasRunning = before.status === "running"
    const restarted = running && wasRunning && g.uptime !== undefined && before.uptime !== undefined && g.uptime < before.uptime
    if (before.node !== g.node) {
      nodes.add(g.node)
      if (nodeUp(snapshot, before.node)) nodes.add(before.node)
    } else if (running !== wasRunning || restarted || (wasRunning && failed.has(g.status))) {
      nodes.add(g.node)
    }
  }
  return nodes
}

export const diffGuests = (
  previous: ReadonlyMap<string, GuestMemory>,
  previousTakenAt: number,
  snapshot: Snapshot,
  evidence: Evidence,
  policy: GuestPolicy
): { readonly guests: Map<string, GuestMemory>; readonly changes: Array<GuestChange> } => {
  const now = snapshot.takenAt
  const changes: Array<GuestChange> = []
  const guests = new Map<string, GuestMemory>()
  const ha = new Map((snapshot.ha ?? []).map((s) => [s.sid, s]))
  const window = { from: previousTakenAt - policy.slackMs, to: now + policy.slackMs }
  const up = onlineNodes(snapshot)
  const nodeUp = (_: Snapshot, node: string) => up.has(node)
  /** What the cause check is asked about a change (built only for a guest that changed). */
  const subjectOf = (g: Guest, before: GuestMemory, change: Subject["change"]): Subject => ({
    guest: g,
    change,
    nodes: before.node === g.node ? [g.node] : [g.node, before.node],
    window,
    lock: g.lock ?? before.lock,
    haRequest: ha.get(haSid(g))?.requestState,
    haStates: [before.hastate, g.hastate, ha.get(haSid(g))?.state].filter((s): s is string => s !== undefined),
    fromNodeDown: !up.has(before.node) || before.outage !== undefined
  })

  for (const g of snapshot.guests) {
    const key = guestKey(g)
    const before = previous.get(key)
    if (before === undefined) {
      const added = rememberGuest(g, now)
      guests.set(key, added)
      changes.push({ _tag: "GuestAdded", guest: added })
      continue
    }
    // What a node that is down says of its guests is stale or `unknown`: keep what was known.
    const reported = g.status === "unknown" ? { ...g, status: before.status, uptime: before.uptime } : g
    let memory = rememberGuest(reported, now, before)
    const running = reported.status === "running"
    const wasRunning = before.status === "running"
    const stopped = reported.status === "stopped" || failed.has(reported.status)

    if (before.node !== g.node) {
      const cause = explain(subjectOf(g, before, "moved"), evidence)
      memory = { ...memory, outage: undefined, cause }
      changes.push({ _tag: "GuestMoved", guest: memory, from: before.node, cause })
      // A guest moved onto a node that is down is judged when that node is back.
      if (!nodeUp(snapshot, g.node)) {
        memory = { ...memory, outage: wasRunning ? { node: g.node, since: now, nodeBackAt: undefined } : undefined }
      } else if (stopped && wasRunning && before.outage === undefined) {
        const stopped = explain(subjectOf(g, before, "stopped"), evidence)
        memory = { ...memory, crashed: stopped.kind === "unknown", cause: stopped }
        changes.push({ _tag: "GuestStopped", guest: memory, cause: stopped })
      } else if (running && before.crashed) {
        memory = { ...memory, crashed: false }
        changes.push({ _tag: "GuestStarted", guest: memory, wasCrashed: true, cause })
      }
    } else if (!nodeUp(snapshot, g.node)) {
      // Its node is down: never a crash. Remember that it ran, to follow it.
      const outage = before.outage ?? (wasRunning ? { node: g.node, since: now, nodeBackAt: undefined } : undefined)
      memory = { ...memory, outage, ...(outage !== undefined ? { status: "running" as const } : {}) }
    } else if (before.outage !== undefined) {
      // Decided on what the node says now, not on what was remembered through the outage.
      const back = before.outage.nodeBackAt ?? now
      if (g.status === "running") {
        const cause: Cause = { kind: "node-outage", summary: `came back with ${g.node}` }
        memory = { ...memory, outage: undefined, cause }
        changes.push({ _tag: "GuestReturned", guest: memory, cause })
      } else if (g.status !== "unknown" && now - back >= policy.returnGraceMs) {
        const cause: Cause = { kind: "node-outage", summary: `did not come back after ${g.node} returned` }
        memory = { ...memory, outage: undefined, crashed: true, cause }
        changes.push({ _tag: "GuestLost", guest: memory, cause })
      } else {
        memory = { ...memory, outage: { ...before.outage, nodeBackAt: back }, status: "running" }
      }
    } else if (wasRunning && stopped) {
      const cause = failed.has(reported.status)
        ? { kind: "unknown" as const, summary: `QEMU reports ${reported.status}` }
        : explain(subjectOf(g, before, "stopped"), evidence)
      memory = { ...memory, crashed: cause.kind === "unknown", cause }
      changes.push({ _tag: "GuestStopped", guest: memory, cause })
    } else if (running && !wasRunning) {
      const cause = explain(subjectOf(g, before, "started"), evidence)
      const explained = cause.kind === "unknown" ? undefined : cause
      memory = { ...memory, crashed: false, cause: explained ?? before.cause }
      changes.push({ _tag: "GuestStarted", guest: memory, wasCrashed: before.crashed, cause: explained })
    } else if (running && wasRunning && reported.uptime !== undefined && before.uptime !== undefined && reported.uptime < before.uptime) {
      const cause = explain(subjectOf(g, before, "restarted"), evidence)
      memory = { ...memory, cause }
      changes.push({ _tag: "GuestRestarted", guest: memory, cause, uptimeBefore: before.uptime })
    }

    if (before.lock !== undefined && before.lock !== memory.lock && before.lockStuck) {
      changes.push({ _tag: "GuestLockReleased", guest: memory, lock: before.lock })
    }
    const { lock, lockSince } = memory
    if (lock !== undefined && lockSince !== undefined && !memory.lockStuck && now - lockSince >= policy.lockStuckAfterMs) {
      memory = { ...memory, lockStuck: true }
      changes.push({ _tag: "GuestLockStuck", guest: memory, lock, since: lockSince })
    }
    // Unchanged guests keep their memory object: polls of a large cluster allocate little.
    guests.set(key, sameMemory(before, memory) ? before : memory)
  }
  for (const [key, before] of previous) {
    if (!guests.has(key)) changes.push({ _tag: "GuestRemoved", guest: before })
  }
  return { guests, changes }
}

const sameMemory = (a: GuestMemory, b: GuestMemory) =>
  a.status === b.status && a.node === b.node && a.name === b.name && a.uptime === b.uptime && a.lock === b.lock &&
  a.lockSince === b.lockSince && a.lockStuck === b.lockStuck && a.hastate === b.hastate && a.crashed === b.crashed &&
  a.outage === b.outage && a.cause === b.cause
