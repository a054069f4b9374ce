/**
 * A check the leader runs on a tier's schedule (Ceph, ZFS, replication): only while this instance
 * leads, told when a new term begins (what the last term told is then unknown: start from the open
 * incidents), and never ended by a failed round (it is logged; the next round tries again).
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { Leadership } from "../scale/Leadership.js"

export const leaderRounds = (
  name: string,
  interval: Duration.Duration,
  offset: Duration.Duration,
  round: (newTerm: boolean) => Effect.Effect<void, unknown>
) =>
  Effect.gen(function*() {
    const leadership = yield* Leadership
    let leading = false
    const once = Effect.gen(function*() {
      const leads = yield* leadership.isLeader
      const newTerm = leads && !leading
      leading = leads
      if (leads) yield* round(newTerm)
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning(`${name} round failed`, cause)),
      Effect.withSpan(`${name}.round`)
    )
    const delay = Duration.millis(Math.min(Duration.toMillis(offset), Duration.toMillis(interval) / 2))
    yield* once.pipe(Effect.repeat(Schedule.spaced(interval).pipe(Schedule.jittered)), Effect.delay(delay), Effect.forkScoped)
  })
