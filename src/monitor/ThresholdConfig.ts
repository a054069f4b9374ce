/**
 * `VIGIL_THRESHOLDS` (JSON) or `VIGIL_THRESHOLDS_FILE`: partial rules and overrides on top of the
 * default policy, checked at start with errors that name the variable and the field.
 */
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
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
/** How long a level must hold before it fires, as people write it: "2 minutes". */
const For = Schema.String.pipe(
  Schema.filter((text) => Option.isSome(Duration.decodeUnknown(text)) || `"${text}" is not a duration (e.g. "2 minutes")`)
)
const RuleConfig = Schema.Struct({
  levels: Schema.optional(Levels),
  hysteresis: Schema.optional(Schema.Number.pipe(Schema.between(0, 100))),
  for: Schema.optional(For)
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
  for: Schema.optional(For),
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

const millis = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Option.match(Duration.decodeUnknown(text), { onNone: () => undefined, onSome: Duration.toMillis })

/** A violation must be able to clear: the band below the lowest level has to stay above 0 %. */
const unclearable = (what: string, rule: Pick<Rule, "levels" | "hysteresis">): string | undefined =>
  rule.hysteresis >= rule.levels[0]!.above
    ? `${what}: hysteresis ${rule.hysteresis} must be below the lowest level (${rule.levels[0]!.above}), or it could never clear`
    : undefined

/** Applies a parsed configuration to the defaults, or says which rule could never clear. */
export const policyFromConfig = (config: ThresholdConfig): Either.Either<ThresholdPolicy, string> => {
  const rule = (metric: Metric): Rule => {
    const base = defaultPolicy.rules[metric]
    const c = config[metric]
    return { levels: c?.levels ?? base.levels, hysteresis: c?.hysteresis ?? base.hysteresis, forMs: millis(c?.for) ?? base.forMs }
  }
  const rules = { cpu: rule("cpu"), mem: rule("mem"), disk: rule("disk"), storage: rule("storage") }
  const overrides = config.overrides ?? []
  const problems = [
    ...Metric.literals.map((m) => unclearable(m, rules[m])),
    ...overrides.map((o) =>
      unclearable(`override of ${o.metric}`, {
        levels: o.levels ?? rules[o.metric].levels,
        hysteresis: o.hysteresis ?? rules[o.metric].hysteresis
      })
    )
  ].filter((p) => p !== undefined)
  if (problems.length > 0) return Either.left(problems.join("; "))
  return Either.right({
    rules,
    overrides: overrides.map((o) => ({
      metric: o.metric,
      match: o.match,
      levels: o.levels,
      hysteresis: o.hysteresis,
      forMs: millis(o.for),
      disabled: o.disabled
    }))
  })
}
