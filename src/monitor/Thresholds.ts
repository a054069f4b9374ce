/**
 * Threshold violations (pure): percentages measured from a snapshot, checked against the policy's
 * ordered levels with hysteresis (a violation clears only below `trigger - hysteresis`, so a metric
 * hovering at the line does not flap) and an optional "for" duration before a level fires.
 *
 * Each measured target has a small state machine; a transition is one of fired, escalated,
 * de-escalated, resolved. Every firing is followed by exactly one resolution.
 */
import type { Severity } from "../domain/Severity.js"
import type { Guest, Snapshot } from "../domain/Snapshot.js"
import { guestKey } from "../domain/Snapshot.js"
import { conditionPrefix, type Level, type Metric, type Rule, ruleFor, ruleOf, type ThresholdPolicy } from "./ThresholdPolicy.js"

export interface Measurement {
  /** `disk:node/pve1`, `mem:qemu/101`, `storage:pve1/local-lvm`. */
  readonly key: string
  readonly metric: Metric
  /** What is measured: `node/pve1`, `qemu/101`, `storage/pve1/local`. */
  readonly target: string
  readonly node: string
  readonly vmid?: number | undefined
  readonly tags: ReadonlyArray<string>
  readonly storage?: string | undefined
  /** Percent. */
  readonly value: number
}

/** Used over total as a percentage; undefined when either is missing or the total is 0. */
export const percent = (used: number | undefined, total: number | undefined) =>
  used === undefined || total === undefined || total <= 0 ? undefined : (used / total) * 100

/** Threshold states by measurement key, as `evaluate` keeps them. */
export type ThresholdStates = ReadonlyMap<string, { readonly state: ThresholdState; readonly measurement: Measurement }>

/**
 * Every percentage the snapshot carries for the given metrics (offline nodes and stopped guests
 * have none). On the poll's hot path: one object literal of one shape per measurement, no spreads.
 *
 * Given the policy and the states `evaluate` will be given (`quiet`), a guest none of whose
 * figures crosses a level of its rule, and that has no state, is left out: `evaluate` would pass
 * over every one of its measurements, and most guests of a large cluster are such guests (the
 * result of `evaluate` is the same either way: property-tested).
 */
export const measure = (
  snapshot: Snapshot,
  metrics: ReadonlySet<Metric>,
  quiet?: { readonly policy: ThresholdPolicy; readonly states: ThresholdStates }
): Array<Measurement> => {
  const out: Array<Measurement> = []
  const add = (
    metric: Metric,
    target: string,
    node: string,
    vmid: number | undefined,
    tags: ReadonlyArray<string>,
    storage: string | undefined,
    value: number | undefined
  ) => {
    if (value !== undefined && Number.isFinite(value) && metrics.has(metric)) {
      out.push({ key: `${metric}:${target}`, metric, target, node, vmid, tags, storage, value })
    }
  }
  const cpu = metrics.has("cpu")
  const mem = metrics.has("mem")
  const disk = metrics.has("disk")
  if (cpu || mem || disk) {
    for (const n of snapshot.nodes) {
      if (n.status !== "online") continue
      const target = `node/${n.name}`
      if (cpu) add("cpu", target, n.name, undefined, noTags, undefined, n.cpu === undefined ? undefined : n.cpu * 100)
      if (mem) add("mem", target, n.name, undefined, noTags, undefined, percent(n.mem, n.maxmem))
      if (disk) add("disk", target, n.name, undefined, noTags, undefined, percent(n.disk, n.maxdisk))
    }
    const focus = quiet === undefined ? undefined : { policy: quiet.policy, stateful: vmidsWithState(quiet.states) }
    for (const g of snapshot.guests) {
      if (g.status !== "running" || g.template) continue
      const cpuValue = cpu && g.cpu !== undefined ? g.cpu * 100 : undefined
      const memValue = mem ? percent(g.mem, g.maxmem) : undefined
      // QEMU reports disk 0 without a guest agent: no figure, not "0 % used".
      const diskValue = disk && g.disk ? percent(g.disk, g.maxdisk) : undefined
      if (
        focus !== undefined && !focus.stateful.has(g.vmid) && below(focus.policy, "cpu", g, cpuValue) &&
        below(focus.policy, "mem", g, memValue) && below(focus.policy, "disk", g, diskValue)
      ) continue
      const target = guestKey(g)
      if (cpu) add("cpu", target, g.node, g.vmid, g.tags, undefined, cpuValue)
      if (mem) add("mem", target, g.node, g.vmid, g.tags, undefined, memValue)
      if (disk) add("disk", target, g.node, g.vmid, g.tags, undefined, diskValue)
    }
  }
  if (metrics.has("storage")) {
    for (const p of snapshot.storage) {
      if (p.status !== "available" && p.status !== "active") continue
      add("storage", `storage/${p.node}/${p.storage}`, p.node, undefined, noTags, p.storage, percent(p.used, p.total))
    }
  }
  return out
}

/** Whether `evaluate` passes over this figure of a guest with no state: none, disabled, or under every level. */
const below = (policy: ThresholdPolicy, metric: Metric, g: Guest, value: number | undefined) => {
  if (value === undefined || !Number.isFinite(value)) return true
  const rule = ruleOf(policy, metric, g)
  return rule === undefined || triggered(rule, value) < 0
}

const vmidsWithState = (states: ThresholdStates): ReadonlySet<number> => {
  const vmids = new Set<number>()
  for (const { measurement } of states.values()) if (measurement.vmid !== undefined) vmids.add(measurement.vmid)
  return vmids
}

const noTags: ReadonlyArray<string> = []
const noTargets: ReadonlySet<string> = new Set()

/**
 * The targets of a snapshot whose figures are unknown rather than gone: nodes that are not online,
 * the guests on them, and storage that is not available (or whose node is down).
 */
export const unmeasurable = (snapshot: Snapshot): ReadonlySet<string> => {
  const down = new Set(snapshot.nodes.filter((n) => n.status !== "online").map((n) => n.name))
  const held = new Set<string>()
  for (const n of down) held.add(`node/${n}`)
  for (const g of snapshot.guests) if (down.has(g.node) || g.status === "unknown") held.add(guestKey(g))
  for (const p of snapshot.storage) {
    if (down.has(p.node) || (p.status !== "available" && p.status !== "active")) held.add(`storage/${p.node}/${p.storage}`)
  }
  return held
}

// ---------------------------------------------------------------------------------------------
// The state machine

export interface ThresholdState {
  /** Index of the active level, -1 when clear. */
  readonly level: number
  /** A higher level being exceeded, waiting for its "for" duration. */
  readonly pending?: { readonly level: number; readonly since: number } | undefined
}

export type Step =
  | { readonly _tag: "Fired"; readonly to: number }
  | { readonly _tag: "Escalated"; readonly from: number; readonly to: number }
  | { readonly _tag: "Deescalated"; readonly from: number; readonly to: number }
  | { readonly _tag: "Resolved"; readonly from: number }

const clear: ThresholdState = { level: -1 }

/** Highest level whose trigger the value exceeds, or -1. */
const triggered = (rule: Rule, value: number) => {
  for (let i = rule.levels.length - 1; i >= 0; i--) if (value > rule.levels[i]!.above) return i
  return -1
}

/** Highest level at or below `active` the value still holds, counting the hysteresis band. */
const held = (rule: Rule, value: number, active: number) => {
  for (let i = Math.min(active, rule.levels.length - 1); i >= 0; i--) {
    if (value > rule.levels[i]!.above - rule.hysteresis) return i
  }
  return -1
}

/** One measurement against one rule. `value` undefined means the metric is gone (guest stopped, node offline). */
export const step = (
  rule: Rule,
  state: ThresholdState,
  value: number | undefined,
  now: number
): { readonly state: ThresholdState; readonly step: Step | undefined } => {
  if (value === undefined) {
    return state.level >= 0 ? { state: clear, step: { _tag: "Resolved", from: state.level } } : { state: clear, step: undefined }
  }
  const target = triggered(rule, value)
  if (target > state.level) {
    const since = state.pending !== undefined && state.pending.level <= target ? state.pending.since : now
    if (now - since < rule.forMs) return { state: { level: state.level, pending: { level: target, since } }, step: undefined }
    return {
      state: { level: target },
      step: state.level < 0 ? { _tag: "Fired", to: target } : { _tag: "Escalated", from: state.level, to: target }
    }
  }
  if (state.level < 0) return { state: clear, step: undefined }
  const hold = held(rule, value, state.level)
  if (hold === state.level) return { state: { level: state.level }, step: undefined }
  if (hold < 0) return { state: clear, step: { _tag: "Resolved", from: state.level } }
  return { state: { level: hold }, step: { _tag: "Deescalated", from: state.level, to: hold } }
}

export interface Transition {
  readonly step: Step
  readonly measurement: Measurement
  /** The level after the step (undefined when resolved) and before it. */
  readonly level: Level | undefined
  readonly previous: Level | undefined
  readonly value: number | undefined
}

/**
 * Evaluates every measurement; targets that had an active violation and are no longer measured
 * (or whose rule is now disabled) resolve. Only the given metrics are evaluated, so tiers that
 * look at different metrics share one state map without resolving each other's violations.
 */
export const evaluate = (
  policy: ThresholdPolicy,
  states: ThresholdStates,
  measurements: ReadonlyArray<Measurement>,
  metrics: ReadonlySet<Metric>,
  now: number,
  /**
   * Targets whose value is unknown rather than gone (a node that is down, its guests, a storage
   * that is unavailable): their violations are held as they were, neither resolved nor repeated.
   */
  held: ReadonlySet<string> = noTargets
) => {
  const next = new Map(states)
  const transitions: Array<Transition> = []
  const seen = new Set<string>()
  const record = (rule: Rule, m: Measurement, before: ThresholdState, value: number | undefined) => {
    const result = step(rule, before, value, now)
    if (result.state.level < 0 && result.state.pending === undefined) next.delete(m.key)
    else next.set(m.key, { state: result.state, measurement: m })
    if (result.step === undefined) return
    const levelIndex = result.step._tag === "Resolved" ? -1 : result.step.to
    transitions.push({
      step: result.step,
      measurement: m,
      level: rule.levels[levelIndex],
      previous: result.step._tag === "Fired" ? undefined : rule.levels[result.step.from],
      value
    })
  }
  for (const m of measurements) {
    const known = states.get(m.key)
    if (known !== undefined) seen.add(m.key)
    const before = known?.state ?? clear
    const rule = ruleFor(policy, m)
    // The common case, tens of thousands of times per poll: nothing pending and nothing crossed.
    if (before === clear && rule !== undefined && triggered(rule, m.value) < 0) continue
    if (rule === undefined) {
      if (before.level >= 0) record(policy.rules[m.metric], m, before, undefined)
      else next.delete(m.key)
      continue
    }
    record(rule, m, before, m.value)
  }
  for (const [key, { state, measurement }] of states) {
    if (seen.has(key) || !metrics.has(measurement.metric) || held.has(measurement.target)) continue
    record(ruleFor(policy, measurement) ?? policy.rules[measurement.metric], measurement, state, undefined)
  }
  return { states: next, transitions }
}

/**
 * Threshold states for violations already open (from the incidents table), so a restart does
 * not fire them again: the next evaluation escalates, holds or resolves them.
 */
export const statesFromIncidents = (
  policy: ThresholdPolicy,
  open: ReadonlyArray<{ readonly key: string; readonly target: string; readonly node: string | null; readonly severity: Severity }>
): Map<string, { readonly state: ThresholdState; readonly measurement: Measurement }> => {
  const states = new Map<string, { readonly state: ThresholdState; readonly measurement: Measurement }>()
  for (const incident of open) {
    const metric = (Object.keys(conditionPrefix) as Array<Metric>).find((m) => incident.key === `${conditionPrefix[m]}:${incident.target}`)
    if (metric === undefined) continue
    const levels = policy.rules[metric].levels
    let level = levels.findIndex((l) => l.severity === incident.severity)
    if (level < 0) level = levels.length - 1
    const measurement: Measurement = {
      key: `${metric}:${incident.target}`,
      metric,
      target: incident.target,
      node: incident.node ?? "",
      tags: [],
      value: 0
    }
    states.set(measurement.key, { state: { level }, measurement })
  }
  return states
}
