/**
 * How the cluster is watched: the poll tiers, the thresholds (`VIGIL_THRESHOLDS` or
 * `VIGIL_THRESHOLDS_FILE`), how long a lock may be held, and how long a node that came back has to
 * start what ran on it. `VIGIL_*` variables, checked at start like the rest.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import { jsonConfig } from "../domain/ConfigFormats.js"
import { policyFromConfig, ThresholdConfig } from "./ThresholdConfig.js"
import { defaultPolicy, type ThresholdPolicy } from "./ThresholdPolicy.js"

const positiveDuration = (name: string, fallback: Duration.Duration) =>
  Config.duration(name).pipe(
    Config.validate({ message: "must be a positive duration", validation: (d) => Duration.toMillis(d) > 0 }),
    Config.withDefault(fallback)
  )

export const watchConfig = Config.all({
  tiers: Config.all({
    critical: positiveDuration("VIGIL_POLL_CRITICAL", Duration.seconds(12)),
    important: positiveDuration("VIGIL_POLL_IMPORTANT", Duration.seconds(32)),
    routine: positiveDuration("VIGIL_POLL_ROUTINE", Duration.minutes(5)),
    background: positiveDuration("VIGIL_POLL_BACKGROUND", Duration.minutes(30))
  }),
  thresholds: jsonConfig("VIGIL_THRESHOLDS", ThresholdConfig).pipe(Config.option),
  thresholdsFile: Config.string("VIGIL_THRESHOLDS_FILE").pipe(Config.option),
  /** A guest lock held longer than this is reported stuck. */
  lockStuckAfter: positiveDuration("VIGIL_LOCK_STUCK_AFTER", Duration.hours(3)),
  /** How long a node that came back has to start what ran on it before that counts as lost. */
  nodeReturnGrace: Config.duration("VIGIL_NODE_RETURN_GRACE").pipe(Config.withDefault(Duration.minutes(5)))
})

const invalid = (name: string, message: string) => ConfigError.InvalidData([name], message)

/**
 * The threshold policy from the variable, or from the file it names (read once, here, when the
 * layer is built), or the defaults; a bad one names its variable (and file) and the field.
 */
const policyOf = (config: Config.Config.Success<typeof watchConfig>): Effect.Effect<ThresholdPolicy, ConfigError.ConfigError> =>
  Effect.gen(function*() {
    const fromFile = Option.isSome(config.thresholdsFile)
    const name = fromFile ? "VIGIL_THRESHOLDS_FILE" : "VIGIL_THRESHOLDS"
    const parsed = yield* Option.match(config.thresholdsFile, {
      onNone: () => Effect.succeed(config.thresholds),
      onSome: (file) =>
        Effect.try({ try: () => readFileSync(file, "utf8"), catch: (e) => invalid(name, (e as Error).message) }).pipe(
          Effect.flatMap((text) =>
            Schema.decodeUnknown(Schema.parseJson(ThresholdConfig))(text).pipe(
              Effect.mapError((e) => invalid(name, `${file}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`))
            )
          ),
          Effect.map(Option.some)
        )
    })
    if (Option.isNone(parsed)) return defaultPolicy
    return yield* Either.mapLeft(policyFromConfig(parsed.value), (problem) => invalid(name, problem))
  })

export class WatchConfig extends Context.Tag("vigil/WatchConfig")<
  WatchConfig,
  Omit<Config.Config.Success<typeof watchConfig>, "thresholds" | "thresholdsFile"> & { readonly thresholds: ThresholdPolicy }
>() {
  static readonly layer = Layer.effect(
    WatchConfig,
    Effect.gen(function*() {
      const config = yield* watchConfig
      const thresholds = yield* policyOf(config)
      const { thresholds: _variable, thresholdsFile: _file, ...rest } = config
      return { ...rest, thresholds }
    })
  )
}
