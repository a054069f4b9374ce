/**
 * The metrics group: a resource's history of one metric over a range, in buckets of min, max and
 * average, from the tier that holds the range (raw points, minutes, hours, days).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { HistoryMetric, Tier } from "../domain/MetricHistory.js"
import { BadRequest, NotFound, ServiceUnavailable } from "./ApiErrors.js"
import { RequireRead } from "./Security.js"

/** A time: epoch milliseconds, or ISO 8601 (`2025-01-31T12:00:00Z`). */
const Instant = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) => {
    const ms = /^\d{1,15}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN
    return Number.isFinite(ms)
      ? ParseResult.succeed(ms)
      : ParseResult.fail(new ParseResult.Type(ast, text, `"${text}" is not a time (epoch milliseconds or ISO 8601)`))
  },
  encode: (ms) => ParseResult.succeed(String(ms))
})

/** A bucket width: seconds (`60`, as Prometheus takes it) or a duration in words (`5 minutes`), at least a second. */
const Step = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) => {
    const ms = /^\d+(\.\d+)?$/.test(text)
      ? Number(text) * 1000
      : Option.match(Duration.decodeUnknown(text), { onNone: () => Number.NaN, onSome: Duration.toMillis })
    if (!Number.isFinite(ms)) return ParseResult.fail(new ParseResult.Type(ast, text, `"${text}" is not a step (seconds, or e.g. "5 minutes")`))
    return ms >= 1000 ? ParseResult.succeed(ms) : ParseResult.fail(new ParseResult.Type(ast, text, "must be at least 1 second"))
  },
  encode: (ms) => ParseResult.succeed(String(ms / 1000))
})

export const HistoryQuery = Schema.Struct({
  resource: Schema.String.pipe(Schema.pattern(/^(node\/[^/]{1,64}|(qemu|lxc)\/\d{1,9}|storage\/[^/]{1,64}\/[^/]{1,64})$/, {
    message: () => "must be node/NAME, qemu/VMID, lxc/VMID or storage/NODE/STORAGE"
  })),
  metric: HistoryMetric,
  from: Schema.optional(Instant).annotations({ description: "Start (epoch ms or ISO 8601); an hour before `to` by default" }),
  to: Schema.optional(Instant).annotations({ description: "End, exclusive (epoch ms or ISO 8601); now by default" }),
  step: Schema.optional(Step).annotations({ description: "Bucket width: seconds or a duration (`5 minutes`); chosen from the range by default" })
})

export const HistoryPoint = Schema.Struct({
  t: Schema.Number.annotations({ description: "Start of the bucket, epoch ms" }),
  min: Schema.Number,
  max: Schema.Number,
  avg: Schema.Number
})

export const MetricHistoryView = Schema.Struct({
  resource: Schema.String,
  metric: HistoryMetric,
  unit: Schema.Literal("ratio", "bytes", "bytes/s"),
  tier: Tier.annotations({ description: "The tier the range was read from (and, past its last roll-up, the finer ones)" }),
  step: Schema.Number.annotations({ description: "Bucket width, ms" }),
  from: Schema.Number,
  to: Schema.Number,
  points: Schema.Array(HistoryPoint)
}).annotations({ identifier: "MetricHistory" })

export class MetricsApi extends HttpApiGroup.make("metrics")
  .add(
    HttpApiEndpoint.get("history", "/api/v1/metrics/history")
      .middleware(RequireRead)
      .setUrlParams(HistoryQuery)
      .addSuccess(MetricHistoryView)
      .addError(BadRequest)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
{}
