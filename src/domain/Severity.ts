/**
 * Event severity: an ordered scale, so filters can ask for "warning and above".
 */
import * as Schema from "effect/Schema"

export const severities = ["debug", "info", "warning", "error", "critical"] as const

export type Severity = (typeof severities)[number]

export const Severity = Schema.Literal(...severities).annotations({
  identifier: "Severity",
  description: "debug < info < warning < error < critical"
})

/** Position on the scale; stored in SQL as this integer so `>=` filters use it directly. */
export const severityRank = (severity: Severity): number => severities.indexOf(severity)

export const severityOfRank = (rank: number): Severity => severities[rank] ?? "info"
