/**
 * Records metric history from the snapshots the watch takes (only the leader polls, so only the
 * leader records), and keeps the table in shape on a schedule: roll-ups into the coarser tiers
 * and retention, once a minute, never in the poll's path.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { pointsOf } from "../domain/MetricHistory.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { Leadership } from "../scale/Leadership.js"
import { MetricHistory } from "../store/MetricHistory.js"
import { HistoryConfig } from "./HistoryConfig.js"
import { ClusterWatch } from "./Monitor.js"

/** How often finished buckets are rolled up and old ones removed. */
const upkeepEvery = "1 minute"

export class HistoryRecorder extends Effect.Service<HistoryRecorder>()("vigil/HistoryRecorder", {
  scoped: Effect.gen(function*() {
    const config = yield* HistoryConfig
    const history = yield* MetricHistory
    const watch = yield* ClusterWatch
    const leadership = yield* Leadership

    /** Rolls up what is complete and removes what is past its tier's retention; the leader's job. */
    const upkeep = Effect.gen(function*() {
      if (!(yield* leadership.isLeader)) return
      const now = yield* Clock.currentTimeMillis
      yield* history.rollUp(now)
      yield* history.retain(now, config.retention)
    }).pipe(Effect.withSpan("HistoryRecorder.upkeep"))

    // Nothing watched, nothing to keep. With history off the upkeep still runs: what an earlier
    // run recorded is removed as its retention ends.
    if (Option.isNone(watch)) return { upkeep } as const
    yield* upkeep.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("metric history upkeep failed", cause)),
      Effect.repeat(Schedule.spaced(upkeepEvery)),
      Effect.forkScoped
    )
    if (!config.enabled) return { upkeep } as const

    let previous: Snapshot | undefined
    const record = Effect.fn("HistoryRecorder.record")(function*(snapshot: Snapshot) {
      const points = pointsOf(previous, snapshot)
      previous = snapshot
      yield* history.record(snapshot.takenAt, points)
    })

    // A sliding buffer of one between the watch and the table: a slow write skips a snapshot
    // (the next one's rates span both polls) instead of queueing them or holding the watch up.
    yield* watch.value.changes.pipe(
      Stream.filterMap((s) => s),
      Stream.buffer({ capacity: 1, strategy: "sliding" }),
      Stream.runForEach((s) => record(s).pipe(Effect.catchAllCause((cause) => Effect.logWarning("could not record metric history", cause)))),
      Effect.forkScoped
    )
    return { upkeep } as const
  })
}) {}
