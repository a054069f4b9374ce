/**
 * `VIGIL_THRESHOLDS` (JSON) or `VIGIL_THRESHOLDS_FILE`: partial rules and overrides on top of the
 * default policy, checked at start with errors that name the variable and the field.
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { Severity as SeveritySchema } from "../domain/Severity.js"
import { defaultPolicy, Metric, type Rule, type ThresholdPolicy } from "./ThresholdPolicy.js"

const LevelConfig = Schema.Struct({
  severity: SeveritySchema,
  above: Schema.Number.pipe(Schema.between(0, 100))
})
const Levels = Schema.Array(LevelConfig).pipe(
  Schema.minItems(1),
  Schema.filter((levels) =>
    levels.every((l, i) => i === 0 || l.above > levels[i - 1]!.above) || "levels must be in ascending order of above"
  )
)
const RuleConfig = Schema.Struct({
  levels: Schema.optional(Levels),
  hysteresis: Schema.optional(Schema.Number.pipe(Schema.between(0, 100))),
  for: Schema.optional(Schema.String)
})
const OverrideConfig = Schema.Struct({
  metric: Metric,
  match: Schema.Struct({
    node: Schema.optional(Schema.String),
    vmid: Schema.optional(Schema.Int),
    tag: Schema.optional(Schema.String),
    storage: Schema.optional(Schema.String)
  }),
  levels: Schema.optional(Levels),
  hysteresis: Schema.optional(Schema.Number.pipe(Schema.between(0, 100))),
  for: Schema.optional(Schema.String),
  disabled: Schema.optional(Schema.Boolean)
})
export const ThresholdConfig = Schema.Struct({
  cpu: Schema.optional(RuleConfig),
  mem: Schema.optional(RuleConfig),
  disk: Schema.optional(RuleConfig),
  storage: Schema.optional(RuleConfig),
  overrides: Schema.optional(Schema.Array(OverrideConfig))
  // A misspelt key must not be ignored: it would be a threshold that silently does not apply.
}).annotations({ parseOptions: { onExcessProperty: "error" } })
export type ThresholdConfig = typeof ThresholdConfig.Type

const millis = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined
  const d = Duration.decodeUnknown(text)
  if (d._tag === "None") throw new Error(`"${text}" is not a duration (e.g. "2 minutes")`)
  return Duration.toMillis(d.value)
}

/** A violation must be able to clear: the band below the lowest level has to stay above 0 %. */
const checked = (what: string, rule: Rule): Rule => {
  if (rule.hysteresis >= rule.levels[0]!.above) {
    throw new Error(`${what}: hysteresis ${rule.hysteresis} must be below the lowest level (${rule.levels[0]!.above}), or it could never clear`)
  }
  return rule
}

/** Applies a parsed configuration to the defaults. Throws with a readable message on a bad duration. */
export const policyFromConfig = (config: ThresholdConfig): ThresholdPolicy => {
  const rule = (metric: Metric): Rule => {
    const base = defaultPolicy.rules[metric]
    const c = config[metric]
    return checked(metric, {
      levels: c?.levels ?? base.levels,
      hysteresis: c?.hysteresis ?? base.hysteresis,
      forMs: millis(c?.for) ?? base.forMs
    })
  }
  return {
    rules: { cpu: rule("cpu"), mem: rule("mem"), disk: rule("disk"), storage: rule("storage") },
    overrides: (config.overrides ?? []).map((o) => {
      const base = rule(o.metric)
      checked(`override of ${o.metric}`, { ...base, levels: o.levels ?? base.levels, hysteresis: o.hysteresis ?? base.hysteresis })
      return {
        metric: o.metric,
        match: o.match,
        levels: o.levels,
        hysteresis: o.hysteresis,
        forMs: millis(o.for),
        disabled: o.disabled
      }
    })
  }
}
