/**
 * Threshold policy (pure data): the metrics, their ordered levels with hysteresis and an optional
 * "for" duration, overrides per node, guest, tag or storage pool, and the defaults (disk 90/95 %,
 * memory 85/95 %, CPU 95 %, storage pools 85/95 %, as the monitors vigil replaces used).
 */
import * as Schema from "effect/Schema"
import type { Severity } from "../domain/Severity.js"
import type { Measurement } from "./Thresholds.js"

export const Metric = Schema.Literal("cpu", "mem", "disk", "storage")
export type Metric = typeof Metric.Type

export const conditionPrefix: Record<Metric, string> = { cpu: "CPU", mem: "RAM", disk: "DISK", storage: "STORAGE" }

/** DISK, RAM, CPU, STORAGE: the family a metric's conditions belong to. */
export const conditionFamily = (metric: Metric) => conditionPrefix[metric]

/** DISK_HIGH / DISK_CRITICAL, RAM_HIGH / RAM_CRITICAL, CPU_HIGH, STORAGE_HIGH / STORAGE_CRITICAL. */
export const conditionOf = (metric: Metric, severity: Severity) =>
  `${conditionPrefix[metric]}_${severity === "critical" ? "CRITICAL" : "HIGH"}`

export interface Level {
  readonly severity: Severity
  /** Percent; the level fires when the value is strictly above it. */
  readonly above: number
}

export interface Rule {
  /** Ascending by `above`. */
  readonly levels: ReadonlyArray<Level>
  /** Percentage points below a level's trigger at which it clears. */
  readonly hysteresis: number
  /** How long a level must be exceeded before it fires or escalates. */
  readonly forMs: number
}

export interface Override {
  readonly metric: Metric
  readonly match: {
    readonly node?: string | undefined
    readonly vmid?: number | undefined
    readonly tag?: string | undefined
    readonly storage?: string | undefined
  }
  readonly levels?: ReadonlyArray<Level> | undefined
  readonly hysteresis?: number | undefined
  readonly forMs?: number | undefined
  readonly disabled?: boolean | undefined
}

export interface ThresholdPolicy {
  readonly rules: Readonly<Record<Metric, Rule>>
  readonly overrides: ReadonlyArray<Override>
}

/** The levels the monitors vigil replaces used for nodes and guests, and for storage pools. */
export const defaultPolicy: ThresholdPolicy = {
  rules: {
    disk: { levels: [{ severity: "error", above: 90 }, { severity: "critical", above: 95 }], hysteresis: 5, forMs: 0 },
    mem: { levels: [{ severity: "warning", above: 85 }, { severity: "critical", above: 95 }], hysteresis: 5, forMs: 0 },
    cpu: { levels: [{ severity: "warning", above: 95 }], hysteresis: 10, forMs: 0 },
    storage: {
      levels: [{ severity: "warning", above: 85 }, { severity: "critical", above: 95 }],
      hysteresis: 5,
      forMs: 0
    }
  },
  overrides: []
}

/** What overrides match on: a node, a guest (its vmid and tags) or a storage. */
export interface RuleSubject {
  readonly node: string
  readonly vmid?: number | undefined
  readonly tags: ReadonlyArray<string>
  readonly storage?: string | undefined
}

/** The rule for `metric` of one subject after overrides (later overrides win), or undefined when disabled. */
export const ruleOf = (policy: ThresholdPolicy, metric: Metric, subject: RuleSubject): Rule | undefined => {
  let rule: Rule = policy.rules[metric]
  let disabled = false
  for (const o of policy.overrides) {
    if (o.metric !== metric) continue
    const { node, vmid, tag, storage } = o.match
    if (node !== undefined && node !== subject.node) continue
    if (vmid !== undefined && vmid !== subject.vmid) continue
    if (tag !== undefined && !subject.tags.includes(tag)) continue
    if (storage !== undefined && storage !== subject.storage) continue
    disabled = o.disabled ?? disabled
    rule = {
      levels: o.levels ?? rule.levels,
      hysteresis: o.hysteresis ?? rule.hysteresis,
      forMs: o.forMs ?? rule.forMs
    }
  }
  return disabled ? undefined : rule
}

/** The rule for one measurement after overrides, or undefined when disabled. */
export const ruleFor = (policy: ThresholdPolicy, m: Measurement): Rule | undefined => ruleOf(policy, m.metric, m)
