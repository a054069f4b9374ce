/**
 * Threshold transitions as events and incident operations (pure): fired, escalated, de-escalated,
 * resolved. Incidents are keyed by family and target (`DISK:node/pve1`), so a disk that escalates
 * from DISK_HIGH to DISK_CRITICAL stays one incident whose condition and severity follow it.
 */
import { finding, type Finding, pct } from "./Findings.js"
import { type Transition } from "./Thresholds.js"
import { conditionFamily, conditionOf, type Metric } from "./ThresholdPolicy.js"

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
