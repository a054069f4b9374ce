/**
 * Metric history's settings: `VIGIL_HISTORY` (`on`/`off`, on by default) and
 * `VIGIL_HISTORY_RETENTION`, a JSON object of tier → duration (`{"raw": "6 hours"}`) over the
 * defaults. Checked at start like the rest: a bad one names the variable and the tier.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { DurationString, jsonConfig } from "../domain/ConfigFormats.js"
import { type Retention, tiers } from "../domain/MetricHistory.js"

/**
 * Like the peers (Proxmox's RRD, Netdata's tiers): polled points for a few hours, minute buckets
 * for a day, hourly ones for a month, daily ones for a year.
 */
export const defaultRetention: Retention = {
  raw: Duration.toMillis(Duration.hours(3)),
  minute: Duration.toMillis(Duration.days(1)),
  hour: Duration.toMillis(Duration.days(31)),
  day: Duration.toMillis(Duration.days(366))
}

const RetentionJson = Schema.Record({ key: Schema.String, value: DurationString }).pipe(
  Schema.filter((r) => {
    const unknown = Object.keys(r).find((k) => !(tiers as ReadonlyArray<string>).includes(k))
    if (unknown !== undefined) return { path: [unknown], message: `unknown tier "${unknown}" (tiers: ${tiers.join(", ")})` }
    const empty = Object.entries(r).find(([, d]) => Duration.toMillis(d) <= 0)
    return empty === undefined || { path: [empty[0]], message: "must be a positive duration" }
  })
)

export const historyConfig = Config.all({
  enabled: Config.literal("on", "off")("VIGIL_HISTORY").pipe(Config.withDefault("on"), Config.map((v) => v === "on")),
  retention: jsonConfig("VIGIL_HISTORY_RETENTION", RetentionJson).pipe(
    Config.option,
    Config.map(Option.match({
      onNone: () => defaultRetention,
      onSome: (given): Retention => ({
        ...defaultRetention,
        ...Object.fromEntries(Object.entries(given).map(([tier, d]) => [tier, Duration.toMillis(d)]))
      })
    }))
  )
})

export class HistoryConfig extends Context.Tag("vigil/HistoryConfig")<HistoryConfig, Config.Config.Success<typeof historyConfig>>() {
  static readonly layer = Layer.effect(HistoryConfig, historyConfig)
}
