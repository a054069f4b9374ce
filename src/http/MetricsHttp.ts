/**
 * Handler for the metrics group: checks the metric belongs to the resource's kind, chooses the
 * tier from the range, and answers its buckets with their average.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { VigilApi } from "../api/Api.js"
import { BadRequest, NotFound, storeUnavailable } from "../api/ApiErrors.js"
import { average, chooseTier, metricsOf, unitOf } from "../domain/MetricHistory.js"
import { HistoryConfig } from "../monitor/HistoryConfig.js"
import { MetricHistory } from "../store/MetricHistory.js"

/** The range when none is asked for: the last hour. */
const defaultSpan = 3_600_000

export const MetricsHttp = HttpApiBuilder.group(VigilApi, "metrics", (handlers) =>
  Effect.gen(function*() {
    const history = yield* MetricHistory
    const config = yield* HistoryConfig

    return handlers.handle("history", ({ urlParams: q }) =>
      Effect.gen(function*() {
        if (!config.enabled) return yield* new NotFound({ message: "metric history is off (VIGIL_HISTORY=off)" })
        const metrics = metricsOf(q.resource) ?? []
        if (!metrics.includes(q.metric)) {
          return yield* new BadRequest({ message: `metric: ${q.resource} has no ${q.metric} history (it has ${metrics.join(", ")})` })
        }
        const now = yield* Clock.currentTimeMillis
        const to = q.to ?? now
        const from = q.from ?? to - defaultSpan
        if (from >= to) return yield* new BadRequest({ message: "from: must be before to" })
        const { step, tier } = chooseTier({ from, to, step: q.step, now }, config.retention)
        const buckets = yield* history.query({ resource: q.resource, metric: q.metric, from, to, tier, step }).pipe(Effect.mapError(storeUnavailable))
        return {
          resource: q.resource,
          metric: q.metric,
          unit: unitOf(q.metric),
          tier,
          step,
          from,
          to,
          points: buckets.map((b) => ({ t: b.t, min: b.min, max: b.max, avg: average(b) }))
        }
      }))
  }))
