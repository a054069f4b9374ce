/**
 * An internal consumer that follows the stream durably: it resumes after the last record it
 * handled (across restarts), and a record it cannot handle never stops it. A failure is retried
 * with backoff (the store may be away for a moment); a defect, or a failure that outlasts the
 * retries, is recorded as a dead letter with its cause and the consumer moves past the record.
 * If even the dead letter cannot be written, nothing is skipped: the consumer stops and resumes
 * from the same record a second later.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { StoredEvent } from "../domain/Event.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { DeadLetters } from "../store/DeadLetters.js"
import { EventRepo } from "../store/EventRepo.js"
import { EventBus } from "./EventBus.js"
import { ServerShuttingDown } from "./Hub.js"

/** About half a minute of retries before a record is given up on. */
const retries = Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(5)))

export interface FollowOptions<E, R> {
  /** Names the consumer in logs and dead letters. */
  readonly consumer: string
  readonly filter: EventFilter
  /** The highest sequence this consumer already handled, from its own records; undefined if none. */
  readonly handledThrough: Effect.Effect<number | undefined, unknown, R>
  readonly handle: (event: StoredEvent) => Effect.Effect<void, E, R>
}

/** Forks the consumer into the current scope. */
export const followDurably = <E, R>(
  options: FollowOptions<E, R>
): Effect.Effect<void, unknown, EventBus | EventRepo | DeadLetters | R | Scope.Scope> =>
  Effect.gen(function*() {
    const bus = yield* EventBus
    const repo = yield* EventRepo
    const deadLetters = yield* DeadLetters
    const handled = yield* options.handledThrough
    const skipped = yield* deadLetters.lastSkipped(options.consumer)
    // A consumer that never ran starts with what happens from now on.
    let cursor = handled === undefined && skipped === undefined
      ? yield* repo.maxSequence()
      : Math.max(handled ?? 0, skipped ?? 0)

    const giveUp = (event: StoredEvent, cause: Cause.Cause<unknown>) =>
      Effect.gen(function*() {
        const error = Cause.pretty(cause)
        yield* Effect.logWarning(`${options.consumer} skipped event ${event.sequence} (${event.type}) it could not handle`, error)
        yield* deadLetters.record({
          consumer: options.consumer,
          sequence: event.sequence,
          type: event.type,
          eventId: event.id,
          eventSource: event.source,
          error,
          attempts: Cause.isDie(cause) ? 1 : 6,
          failedAt: yield* Clock.currentTimeMillis
        })
      })

    const one = (event: StoredEvent) =>
      options.handle(event).pipe(
        Effect.retry(retries),
        Effect.catchAllCause((cause): Effect.Effect<void, unknown> =>
          Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : giveUp(event, cause)
        ),
        Effect.zipRight(Effect.sync(() => (cursor = event.sequence)))
      )

    yield* Stream.suspend(() => bus.subscribe(options.filter, { after: cursor, transport: "internal" })).pipe(
      Stream.runForEach((delivery) => (delivery instanceof StoredEvent ? one(delivery) : Effect.void)),
      // At shutdown the stream ends for good; wait to be interrupted instead of resubscribing.
      Effect.catchIf((error) => error instanceof ServerShuttingDown, () => Effect.never),
      Effect.catchAllCause((cause) => Effect.logWarning(`${options.consumer} stopped; resuming from ${cursor}`, cause)),
      Effect.repeat(Schedule.spaced("1 second")),
      Effect.forkScoped
    )
  })
