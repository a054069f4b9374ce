/**
 * What detection found, as events and incident operations (pure). One place decides the event
 * type, severity and wording of every detection, and which incident it opens or resolves.
 *
 * Incident keys are `CONDITION:target` for state conditions (`VM_CRASHED:qemu/101`) and
 * `FAMILY:target` for thresholds (`DISK:node/pve1`), so a disk that escalates from DISK_HIGH to
 * DISK_CRITICAL stays one incident whose condition and severity follow it.
 */
import { makeEvent, type NewEvent } from "../domain/Event.js"
import type { Severity } from "../domain/Severity.js"
import type { StateChange } from "./Diff.js"
import { conditionFamily, conditionOf, type Metric, type Transition } from "./Thresholds.js"

export type IncidentOp =
  | {
    readonly _tag: "Open"
    readonly key: string
    readonly condition: string
    readonly target: string
    readonly node: string | undefined
    readonly severity: Severity
    readonly summary: string
  }
  | { readonly _tag: "Change"; readonly key: string; readonly condition: string; readonly severity: Severity; readonly summary: string }
  | { readonly _tag: "Resolve"; readonly key: string; readonly summary: string }

export interface Finding {
  readonly event: NewEvent
  readonly incident: IncidentOp | undefined
}

export const monitorSource = "vigil/monitor"

const finding = (
  fields: {
    readonly type: string
    readonly severity: Severity
    readonly subject: string
    readonly node?: string | undefined
    readonly data: Record<string, unknown>
  },
  incident?: IncidentOp
): Finding => ({
  event: makeEvent({ ...fields, source: monitorSource, data: { ...fields.data, ...(incident ? { incident: incident.key } : {}) } }),
  incident
})

const pct = (v: number | undefined) => (v === undefined ? "n/a" : `${v.toFixed(1)}%`)

export const fromStateChange = (change: StateChange): Finding => {
  switch (change._tag) {
    case "NodeOffline": {
      const key = `NODE_UNREACHABLE:node/${change.node}`
      const summary = `Node ${change.node} is offline`
      return finding(
        { type: "node.offline", severity: "critical", subject: `node/${change.node}`, node: change.node, data: { condition: "NODE_UNREACHABLE", previous: change.from, summary } },
        { _tag: "Open", key, condition: "NODE_UNREACHABLE", target: `node/${change.node}`, node: change.node, severity: "critical", summary }
      )
    }
    case "NodeOnline": {
      const summary = `Node ${change.node} is back online`
      return finding(
        { type: "node.online", severity: "info", subject: `node/${change.node}`, node: change.node, data: { condition: "NODE_UNREACHABLE", previous: change.from, summary } },
        { _tag: "Resolve", key: `NODE_UNREACHABLE:node/${change.node}`, summary }
      )
    }
    case "GuestCrashed": {
      const g = change.guest
      const kind = g.kind === "qemu" ? "vm" : "ct"
      const condition = g.kind === "qemu" ? "VM_CRASHED" : "CT_CRASHED"
      const target = `${g.kind}/${g.vmid}`
      const summary = `${kind.toUpperCase()} ${g.vmid} (${g.name}) on ${g.node} stopped unexpectedly`
      return finding(
        { type: `${kind}.crashed`, severity: "error", subject: target, node: g.node, data: { condition, vmid: g.vmid, name: g.name, kind: g.kind, summary } },
        { _tag: "Open", key: `${condition}:${target}`, condition, target, node: g.node, severity: "error", summary }
      )
    }
    case "GuestStarted": {
      const g = change.guest
      const kind = g.kind === "qemu" ? "vm" : "ct"
      const condition = g.kind === "qemu" ? "VM_CRASHED" : "CT_CRASHED"
      const target = `${g.kind}/${g.vmid}`
      const summary = `${kind.toUpperCase()} ${g.vmid} (${g.name}) on ${g.node} is running`
      return finding(
        { type: `${kind}.started`, severity: "info", subject: target, node: g.node, data: { vmid: g.vmid, name: g.name, kind: g.kind, recovered: change.wasCrashed, summary } },
        change.wasCrashed ? { _tag: "Resolve", key: `${condition}:${target}`, summary } : undefined
      )
    }
    case "GuestAdded":
    case "GuestRemoved": {
      const g = change.guest
      const kind = g.kind === "qemu" ? "vm" : "ct"
      const verb = change._tag === "GuestAdded" ? "added" : "removed"
      const target = `${g.kind}/${g.vmid}`
      const summary = `${kind.toUpperCase()} ${g.vmid} (${g.name}) ${verb} on ${g.node}`
      const condition = g.kind === "qemu" ? "VM_CRASHED" : "CT_CRASHED"
      return finding(
        { type: `${kind}.${verb}`, severity: "info", subject: target, node: g.node, data: { vmid: g.vmid, name: g.name, kind: g.kind, status: g.status, summary } },
        change._tag === "GuestRemoved" && g.crashed ? { _tag: "Resolve", key: `${condition}:${target}`, summary } : undefined
      )
    }
    case "GuestMoved": {
      const g = change.guest
      const kind = g.kind === "qemu" ? "vm" : "ct"
      const summary = `${kind.toUpperCase()} ${g.vmid} (${g.name}) moved from ${change.from} to ${g.node}`
      return finding({ type: `${kind}.migrated`, severity: "info", subject: `${g.kind}/${g.vmid}`, node: g.node, data: { vmid: g.vmid, name: g.name, from: change.from, to: g.node, summary } })
    }
    case "ServiceDown":
    case "ServiceUp": {
      const target = `service/${change.node}/${change.service}`
      const down = change._tag === "ServiceDown"
      const summary = `Service ${change.service} on ${change.node} is ${down ? "not running" : "running again"}`
      const key = `SERVICE_DOWN:${target}`
      return finding(
        { type: down ? "service.down" : "service.up", severity: down ? "error" : "info", subject: target, node: change.node, data: { condition: "SERVICE_DOWN", service: change.service, summary } },
        down
          ? { _tag: "Open", key, condition: "SERVICE_DOWN", target, node: change.node, severity: "error", summary }
          : { _tag: "Resolve", key, summary }
      )
    }
    case "PortConflict":
    case "PortConflictResolved": {
      const target = `port/${change.port}`
      const open = change._tag === "PortConflict"
      const summary = open
        ? `Port ${change.port} has listeners from several processes (${change.processes})`
        : `Port ${change.port} has a single owner again`
      const key = `PORT_CONFLICT:${target}`
      return finding(
        { type: open ? "port.conflict" : "port.conflict.resolved", severity: open ? "warning" : "info", subject: target, data: { condition: "PORT_CONFLICT", port: change.port, processes: change.processes, summary } },
        open
          ? { _tag: "Open", key, condition: "PORT_CONFLICT", target, node: undefined, severity: "warning", summary }
          : { _tag: "Resolve", key, summary }
      )
    }
  }
}

/** `DISK:node/pve1`: the incident key of a threshold family on a target. */
export const thresholdIncidentKey = (metric: Metric, target: string) => `${conditionFamily(metric)}:${target}`

export const fromThreshold = (t: Transition): Finding => {
  const m = t.measurement
  const key = thresholdIncidentKey(m.metric, m.target)
  const base = { subject: m.target, node: m.node }
  const data = (condition: string, summary: string) => ({
    condition,
    metric: m.metric,
    target: m.target,
    value: t.value === undefined ? null : Math.round(t.value * 10) / 10,
    threshold: t.level?.above ?? t.previous?.above ?? null,
    summary
  })
  switch (t.step._tag) {
    case "Fired": {
      const level = t.level!
      const condition = conditionOf(m.metric, level.severity)
      const summary = `${m.metric} on ${m.target} at ${pct(t.value)}, above ${level.above}%`
      return finding(
        { ...base, type: "threshold.violated", severity: level.severity, data: data(condition, summary) },
        { _tag: "Open", key, condition, target: m.target, node: m.node, severity: level.severity, summary }
      )
    }
    case "Escalated":
    case "Deescalated": {
      const level = t.level!
      const condition = conditionOf(m.metric, level.severity)
      const up = t.step._tag === "Escalated"
      const summary = `${m.metric} on ${m.target} at ${pct(t.value)}, ${up ? "above" : "back under"} ${up ? level.above : t.previous!.above}%`
      return finding(
        { ...base, type: up ? "threshold.escalated" : "threshold.deescalated", severity: level.severity, data: data(condition, summary) },
        { _tag: "Change", key, condition, severity: level.severity, summary }
      )
    }
    case "Resolved": {
      const condition = conditionOf(m.metric, t.previous!.severity)
      const summary = t.value === undefined
        ? `${m.metric} on ${m.target} no longer measured`
        : `${m.metric} on ${m.target} back to ${pct(t.value)}`
      return finding(
        { ...base, type: "threshold.resolved", severity: "info", data: data(condition, summary) },
        { _tag: "Resolve", key, summary }
      )
    }
  }
}
