/**
 * The single writer. Producers enqueue their events and wait; one fiber takes everything
 * waiting, commits it in one transaction (group commit: a hundred concurrent producers cost one
 * commit), hands what it committed to the Committed port in sequence order (the bus listens), and only
 * then answers each producer. So: persisted before published, and acknowledged only once durable.
 * A producer whose own state must agree with what it told (the monitor's watch state) hands it
 * over with the events and it is written in the same transaction: a process killed between the
 * two cannot leave a successor comparing against a state older than the events already told.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import type { NewEvent, StoredEvent } from "../domain/Event.js"
import { commitBatchSize, commitDuration, eventsStored } from "../telemetry/Instruments.js"
import { Committed } from "./Committed.js"
import { EventRepo, type InsertOutcome } from "./EventRepo.js"
import { SharedStore } from "./Shared.js"
import { StoreConfig } from "./StoreConfig.js"

export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  reason: Schema.String
}) {}

export class StoreClosed extends Schema.TaggedError<StoreClosed>()("StoreClosed", {}) {
  override get message() {
    return "the event store is shutting down"
  }
}

/** A `vigil_meta` entry written in the same transaction as the events it goes with. */
export interface StateWrite {
  readonly key: string
  readonly value: string
}

type Request =
  | {
    readonly _tag: "Append"
    readonly events: ReadonlyArray<NewEvent>
    readonly state: ReadonlyArray<StateWrite>
    /** The publisher's span: the commit that stores these events links to it. */
    readonly span: Option.Option<Tracer.AnySpan>
    readonly done: Deferred.Deferred<ReadonlyArray<InsertOutcome>, StoreUnavailable>
  }
  | { readonly _tag: "Flush"; readonly done: Deferred.Deferred<void> }

/** Splits waiting requests into transactions of at most `max` events (a bigger request alone). */
const groupByEventCount = <R extends { readonly events: ReadonlyArray<unknown> }>(
  requests: ReadonlyArray<R>,
  max: number
): Array<Array<R>> => {
  const groups: Array<Array<R>> = []
  let current: Array<R> = []
  let count = 0
  for (const r of requests) {
    if (current.length > 0 && count + r.events.length > max) {
      groups.push(current)
      current = []
      count = 0
    }
    current.push(r)
    count += r.events.length
  }
  if (current.length > 0) groups.push(current)
  return groups
}

export class EventStore extends Effect.Service<EventStore>()("vigil/EventStore", {
  scoped: Effect.gen(function*() {
    const repo = yield* EventRepo
    const fanout = yield* Committed
    const shared = yield* SharedStore
    const { writerMaxBatch } = yield* StoreConfig
    const queue = yield* Queue.unbounded<Request>()
    let accepting = true

    const commit: (requests: ReadonlyArray<Extract<Request, { _tag: "Append" }>>) => Effect.Effect<void> = Effect.fn(
      "EventStore.commit"
    )(function*(requests: ReadonlyArray<Extract<Request, { _tag: "Append" }>>) {
      const events = requests.length === 1 ? requests[0]!.events : requests.flatMap((r) => r.events)
      const started = yield* Clock.currentTimeNanos
      // One commit serves many publishers, each in its own trace: the commit links to them all.
      const links = requests.flatMap((r) => Option.toArray(r.span)).map((span): Tracer.SpanLink => ({ _tag: "SpanLink", span, attributes: {} }))
      if (links.length > 0) yield* Effect.linkSpanCurrent(links)
      yield* Effect.annotateCurrentSpan({ requests: requests.length, events: events.length })
      const writeState = Effect.forEach(requests, (r) => Effect.forEach(r.state, (w) => repo.setMeta(w.key, w.value)), { discard: true })
      const insert = Effect.flatMap(Clock.currentTimeMillis, (now) => repo.insert(events, now))
      const outcomes = yield* repo.withTransaction(Effect.zipRight(shared.lockWriters, Effect.zipLeft(insert, writeState))).pipe(
        Effect.mapError((error) => new StoreUnavailable({ reason: error.message })),
        Effect.either
      )
      if (outcomes._tag === "Left") {
        // One producer's events must not fail another's: a shared transaction that failed is
        // retried request by request, so only the request that cannot be stored is refused.
        if (requests.length > 1) return yield* Effect.forEach(requests, (r) => commit([r]), { discard: true })
        yield* Effect.logError("event commit failed", outcomes.left.reason)
        for (const r of requests) Deferred.unsafeDone(r.done, Effect.fail(outcomes.left))
        return
      }
      const committed: Array<StoredEvent> = []
      for (const o of outcomes.right) if (o._tag === "Inserted") committed.push(o.event)
      yield* fanout.committed(committed)
      commitBatchSize.observe(events.length)
      commitDuration.observe(Number((yield* Clock.currentTimeNanos) - started) / 1e9)
      eventsStored.inc(committed.length)
      let offset = 0
      for (const r of requests) {
        Deferred.unsafeDone(r.done, Effect.succeed(outcomes.right.slice(offset, offset + r.events.length)))
        offset += r.events.length
      }
    })

    const writer = Effect.gen(function*() {
      const first = yield* Queue.take(queue)
      const rest = yield* Queue.takeAll(queue)
      let appends: Array<Extract<Request, { _tag: "Append" }>> = []
      const flushAppends = Effect.suspend(() => {
        const pending = appends
        appends = []
        return Effect.forEach(groupByEventCount(pending, writerMaxBatch), commit, { discard: true })
      })
      for (const request of [first, ...rest]) {
        if (request._tag === "Append") {
          appends.push(request)
        } else {
          // Everything queued before the flush is committed before the flush is answered.
          yield* flushAppends
          yield* Deferred.succeed(request.done, undefined)
        }
      }
      yield* flushAppends
    }).pipe(Effect.forever)

    yield* Effect.forkScoped(writer)

    /**
     * Commits the events (in order) and answers once they are durable and published. An event
     * whose (source, id) is already stored comes back as a Duplicate with its original sequence.
     * `state` is written in the same transaction.
     */
    const append = (events: ReadonlyArray<NewEvent>, state: ReadonlyArray<StateWrite> = []): Effect.Effect<
      ReadonlyArray<InsertOutcome>,
      StoreUnavailable | StoreClosed
    > =>
      events.length === 0 && state.length === 0 ? Effect.succeed([]) : Effect.flatMap(
        Deferred.make<ReadonlyArray<InsertOutcome>, StoreUnavailable>(),
        (done) =>
          Effect.suspend((): Effect.Effect<ReadonlyArray<InsertOutcome>, StoreUnavailable | StoreClosed> => {
            if (!accepting) return Effect.fail(new StoreClosed())
            return Effect.flatMap(Effect.option(Effect.currentSpan), (span) => {
              queue.unsafeOffer({ _tag: "Append", events, state, span, done })
              return Deferred.await(done)
            })
          })
      )

    /** Waits until everything accepted so far is committed. */
    const flush = Effect.gen(function*() {
      const done = yield* Deferred.make<void>()
      yield* Queue.offer(queue, { _tag: "Flush", done })
      yield* Deferred.await(done)
    })

    // Runs before the writer fiber is interrupted: stop taking appends, commit what was accepted.
    yield* Effect.addFinalizer(() => Effect.zipRight(Effect.sync(() => (accepting = false)), flush))

    return { append, flush } as const
  })
}) {}
