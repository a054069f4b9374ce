/**
 * State changes as events and incident operations (pure): the type, severity and wording of every
 * change the watch detects, with its cause, and the incident it opens or resolves. Only an
 * unexplained stop (or a guest lost with its node) is a crash and an incident; a stop, restart or
 * move with a cause is information.
 */
import type { Cause } from "../domain/Cause.js"
import { incidentKey, type IncidentOp } from "../domain/Incident.js"
import type { Severity } from "../domain/Severity.js"
import type { StateChange } from "./Diff.js"
import { finding, type Finding } from "./Findings.js"
import type { GuestMemory } from "./GuestWatch.js"

const label = (g: GuestMemory) => `${g.kind === "qemu" ? "VM" : "CT"} ${g.vmid} (${g.name})`
const prefix = (g: GuestMemory) => (g.kind === "qemu" ? "vm" : "ct")
const crashCondition = (g: GuestMemory) => (g.kind === "qemu" ? "VM_CRASHED" : "CT_CRASHED")
const target = (g: GuestMemory) => `${g.kind}/${g.vmid}`
const guestData = (g: GuestMemory) => ({ vmid: g.vmid, name: g.name, kind: g.kind })

/** `vm:100` → `qemu/100`: HA's name for a guest, as vigil's target. */
const targetOfSid = (sid: string) => sid.replace(/^vm:/, "qemu/").replace(/^ct:/, "lxc/")

const open = (condition: string, t: string, node: string | undefined, severity: Severity, summary: string): IncidentOp => ({
  _tag: "Open",
  key: incidentKey(condition, t),
  condition,
  target: t,
  node,
  severity,
  summary
})
const resolve = (condition: string, t: string, summary: string): IncidentOp => ({ _tag: "Resolve", key: incidentKey(condition, t), summary })

/** A guest that stopped with nothing to explain it, or was lost with its node: a crash and an incident. */
const crash = (g: GuestMemory, cause: Cause): Finding => {
  const summary = `${label(g)} on ${g.node} ${cause.kind === "node-outage" ? cause.summary : `stopped unexpectedly: ${cause.summary}`}`
  return finding(
    { type: `${prefix(g)}.crashed`, severity: "error", subject: target(g), node: g.node, cause, data: { condition: crashCondition(g), ...guestData(g), summary } },
    open(crashCondition(g), target(g), g.node, "error", summary)
  )
}

const haSeverity = (state: string): Severity =>
  state === "error" ? "error" : state === "fence" || state === "recovery" || state === "unknown" || state === "gone" ? "warning" : "info"

export const fromStateChange = (change: StateChange): Finding => {
  switch (change._tag) {
    case "NodeOffline": {
      const t = `node/${change.node}`
      const { guests, storage } = change.affected
      const summary = `Node ${change.node} is offline` + (guests.length > 0 ? `; ${guests.length} guests ran on it` : "")
      return finding(
        { type: "node.offline", severity: "critical", subject: t, node: change.node, data: { condition: "NODE_UNREACHABLE", previous: change.from, affected: { guests, storage }, summary } },
        open("NODE_UNREACHABLE", t, change.node, "critical", summary)
      )
    }
    case "NodeOnline": {
      const t = `node/${change.node}`
      const summary = `Node ${change.node} is back online` + (change.downForMs > 0 ? ` after ${Math.round(change.downForMs / 1000)} s` : "")
      return finding(
        { type: "node.online", severity: "info", subject: t, node: change.node, data: { condition: "NODE_UNREACHABLE", previous: change.from, downForMs: change.downForMs, summary } },
        resolve("NODE_UNREACHABLE", t, summary)
      )
    }
    case "NodeHaChanged": {
      const t = `node/${change.node}`
      const summary = `HA: node ${change.node} is ${change.to} (was ${change.from})`
      const op = change.to === "fence"
        ? open("NODE_FENCED", t, change.node, "critical", `HA fences node ${change.node}`)
        : change.from === "fence"
        ? resolve("NODE_FENCED", t, summary)
        : undefined
      return finding(
        { type: "ha.node.changed", severity: change.to === "fence" ? "critical" : haSeverity(change.to), subject: t, node: change.node, data: { from: change.from, to: change.to, summary } },
        op
      )
    }
    case "QuorumLost": {
      const summary = "The cluster lost quorum: guests cannot be started, migrated or changed, and HA fences"
      return finding(
        { type: "cluster.quorum.lost", severity: "critical", subject: "cluster", data: { condition: "QUORUM_LOST", summary } },
        open("QUORUM_LOST", "cluster", undefined, "critical", summary)
      )
    }
    case "QuorumRegained": {
      const summary = "The cluster has quorum again"
      return finding(
        { type: "cluster.quorum.regained", severity: "info", subject: "cluster", data: { condition: "QUORUM_LOST", summary } },
        resolve("QUORUM_LOST", "cluster", summary)
      )
    }
    case "HaServiceChanged": {
      const s = change.service
      const t = targetOfSid(s.sid)
      const summary = `HA: ${s.sid} on ${s.node} is ${s.state} (was ${change.from})`
      const conditionOf = (state: string) => (state === "error" ? "HA_ERROR" : state === "fence" ? "HA_FENCED" : undefined)
      const opened = conditionOf(s.state)
      const closed = conditionOf(change.from)
      const op = opened !== undefined
        ? open(opened, t, s.node, s.state === "error" ? "error" : "warning", summary)
        : closed !== undefined
        ? resolve(closed, t, summary)
        : undefined
      return finding(
        { type: "ha.service.changed", severity: haSeverity(s.state), subject: t, node: s.node, data: { sid: s.sid, from: change.from, to: s.state, requestState: s.requestState ?? null, summary } },
        op
      )
    }
    case "StorageUnavailable":
    case "StorageAvailable": {
      const t = `storage/${change.node}/${change.storage}`
      const down = change._tag === "StorageUnavailable"
      const summary = down
        ? `Storage ${change.storage} on ${change.node} is unavailable (${change.status})`
        : `Storage ${change.storage} on ${change.node} is available again`
      return finding(
        { type: down ? "storage.unavailable" : "storage.available", severity: down ? "error" : "info", subject: t, node: change.node, data: { condition: "STORAGE_UNAVAILABLE", storage: change.storage, summary } },
        down ? open("STORAGE_UNAVAILABLE", t, change.node, "error", summary) : resolve("STORAGE_UNAVAILABLE", t, summary)
      )
    }
    case "GuestStopped": {
      const g = change.guest
      if (change.cause.kind === "unknown") return crash(g, change.cause)
      const summary = `${label(g)} on ${g.node} ${change.cause.summary}`
      return finding({ type: `${prefix(g)}.stopped`, severity: "info", subject: target(g), node: g.node, cause: change.cause, data: { ...guestData(g), summary } })
    }
    case "GuestLost":
      return crash(change.guest, change.cause)
    case "GuestRestarted": {
      const g = change.guest
      const summary = `${label(g)} on ${g.node} ${change.cause.kind === "unknown" ? `restarted: ${change.cause.summary}` : change.cause.summary}`
      // HA starts a guest again only after it went down without being asked: worth a look too.
      const severity = change.cause.kind === "unknown" || change.cause.kind === "ha" ? "warning" : "info"
      return finding({ type: `${prefix(g)}.restarted`, severity, subject: target(g), node: g.node, cause: change.cause, data: { ...guestData(g), uptimeBefore: change.uptimeBefore, summary } })
    }
    case "GuestMoved": {
      const g = change.guest
      const summary = `${label(g)} moved from ${change.from} to ${g.node}: ${change.cause.kind === "unknown" ? "no task explains it" : change.cause.summary}`
      return finding({ type: `${prefix(g)}.migrated`, severity: "info", subject: target(g), node: g.node, cause: change.cause, data: { ...guestData(g), from: change.from, to: g.node, summary } })
    }
    case "GuestStarted":
    case "GuestReturned": {
      const g = change.guest
      const recovered = change._tag === "GuestStarted" && change.wasCrashed
      const summary = `${label(g)} on ${g.node} is running` + (change.cause === undefined ? "" : `: ${change.cause.summary}`)
      return finding(
        { type: `${prefix(g)}.started`, severity: "info", subject: target(g), node: g.node, cause: change.cause, data: { ...guestData(g), recovered, summary } },
        recovered ? resolve(crashCondition(g), target(g), summary) : undefined
      )
    }
    case "GuestAdded":
    case "GuestRemoved": {
      const g = change.guest
      const verb = change._tag === "GuestAdded" ? "added" : "removed"
      const summary = `${label(g)} ${verb} on ${g.node}`
      const op = change._tag === "GuestRemoved" && g.crashed ? resolve(crashCondition(g), target(g), summary) : undefined
      return finding({ type: `${prefix(g)}.${verb}`, severity: "info", subject: target(g), node: g.node, data: { ...guestData(g), status: g.status, summary } }, op)
    }
    case "GuestLockStuck":
    case "GuestLockReleased": {
      const g = change.guest
      const stuck = change._tag === "GuestLockStuck"
      const summary = stuck
        ? `${label(g)} on ${g.node} has been locked for ${change.lock} since ${new Date(change.since).toISOString()}`
        : `${label(g)} on ${g.node} is no longer locked${change.lock ? ` for ${change.lock}` : ""}`
      return finding(
        { type: stuck ? "guest.lock.stuck" : "guest.lock.released", severity: stuck ? "warning" : "info", subject: target(g), node: g.node, data: { condition: "GUEST_LOCK_STUCK", ...guestData(g), lock: change.lock, summary } },
        stuck ? open("GUEST_LOCK_STUCK", target(g), g.node, "warning", summary) : resolve("GUEST_LOCK_STUCK", target(g), summary)
      )
    }
    case "ServiceDown":
    case "ServiceUp": {
      const t = `service/${change.node}/${change.service}`
      const down = change._tag === "ServiceDown"
      const summary = `Service ${change.service} on ${change.node} is ${down ? "not running" : "running again"}`
      return finding(
        { type: down ? "service.down" : "service.up", severity: down ? "error" : "info", subject: t, node: change.node, data: { condition: "SERVICE_DOWN", service: change.service, summary } },
        down ? open("SERVICE_DOWN", t, change.node, "error", summary) : resolve("SERVICE_DOWN", t, summary)
      )
    }
    case "PortConflict":
    case "PortConflictResolved": {
      const t = `port/${change.port}`
      const conflict = change._tag === "PortConflict"
      const summary = conflict
        ? `Port ${change.port} has listeners from several processes (${change.processes})`
        : `Port ${change.port} has a single owner again`
      return finding(
        { type: conflict ? "port.conflict" : "port.conflict.resolved", severity: conflict ? "warning" : "info", subject: t, data: { condition: "PORT_CONFLICT", port: change.port, processes: change.processes, summary } },
        conflict ? open("PORT_CONFLICT", t, undefined, "warning", summary) : resolve("PORT_CONFLICT", t, summary)
      )
    }
  }
}
