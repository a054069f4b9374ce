/**
 * Retention: keeps events for at most `VIGIL_RETENTION_MAX_AGE` and at most
 * `VIGIL_RETENTION_MAX_EVENTS`, on a schedule. What it removes is reported (a `system.retention`
 * event and a log line) and remembered as a watermark, so a reader resuming from a sequence that
 * was deleted is told about the gap instead of silently missing events.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import { positiveInt } from "../domain/ConfigFormats.js"
import { EventBus, retentionWatermarkKey } from "./EventBus.js"
import { makeEvent } from "../domain/Event.js"
import { EventRepo } from "../store/EventRepo.js"
import { retentionRemoved } from "../telemetry/Instruments.js"

export interface RetentionReport {
  readonly removed: number
  /** Highest sequence deleted so far (this run or before), if any. */
  readonly deletedThrough: number | undefined
}

export class Retention extends Effect.Service<Retention>()("vigil/Retention", {
  scoped: Effect.gen(function*() {
    const repo = yield* EventRepo
    const bus = yield* EventBus
    const config = yield* Config.all({
      retentionMaxAge: Config.duration("VIGIL_RETENTION_MAX_AGE").pipe(Config.withDefault(Duration.days(30))),
      retentionMaxEvents: positiveInt("VIGIL_RETENTION_MAX_EVENTS", 1_000_000),
      retentionInterval: Config.duration("VIGIL_RETENTION_INTERVAL").pipe(Config.withDefault(Duration.minutes(30)))
    })

    /** Runs once: deletes what is too old or beyond the count, and reports it. */
    const run = Effect.gen(function*() {
      const byAge = yield* repo.lastSequenceBefore((yield* Clock.currentTimeMillis) - Duration.toMillis(config.retentionMaxAge))
      const byCount = yield* repo.lastSequenceBeyondNewest(config.retentionMaxEvents)
      const upTo = Math.max(byAge ?? 0, byCount ?? 0)
      const previous = yield* repo.getMeta(retentionWatermarkKey)
      if (upTo === 0) {
        return { removed: 0, deletedThrough: previous === undefined ? undefined : Number(previous) }
      }
      // The watermark is written first: a reader must never be told "no gap" for a sequence that
      // is about to disappear.
      yield* repo.setMeta(retentionWatermarkKey, String(Math.max(upTo, Number(previous ?? 0))))
      const removed = yield* repo.deleteUpTo(upTo)
      retentionRemoved.inc(removed)
      yield* Effect.logInfo("retention removed events", { removed, deletedThrough: upTo })
      if (removed > 0) {
        yield* bus.publishOne(makeEvent({
          type: "system.retention",
          severity: "info",
          data: {
            removed,
            deletedThrough: upTo,
            maxAge: Duration.format(config.retentionMaxAge),
            maxEvents: config.retentionMaxEvents
          }
        }))
      }
      return { removed, deletedThrough: upTo } satisfies RetentionReport
    }).pipe(Effect.withSpan("Retention.run"))

    // Runs at start (a server that was down for a while may hold too much) and then every
    // interval. A failed run is logged and retried at the next tick; it never takes the server down.
    yield* run.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("retention run failed", cause)),
      Effect.repeat(Schedule.spaced(config.retentionInterval)),
      Effect.forkScoped
    )

    return { run } as const
  })
}) {}
