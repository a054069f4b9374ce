/**
 * The one way in and the one way out of the event stream.
 *
 * `publish` persists, then publishes (through the EventStore writer). `follow` replays from the
 * store everything after a sequence into a sink and then follows live, with no gap and no
 * duplicate at the seam: it attaches to the Hub *before* reading the backlog; the Hub holds live
 * events back until the replay has caught up and then hands over only those the backlog did not
 * deliver (`Hub.goLive`). If more than a buffer's worth arrives meanwhile, the replay simply reads
 * the store further: every published event was committed first. `subscribe` is the same thing
 * read as a Stream. `signal` carries ephemeral messages (heartbeats) that take no sequence and
 * are never stored.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { NewEvent } from "../domain/Event.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { traceparentOf, withTraceContext } from "../domain/TraceContext.js"
import { EventRepo } from "../store/EventRepo.js"
import { EventStore, type StateWrite, StoreUnavailable } from "../store/EventStore.js"
import { type Delivery, Hub, Signal, type Sink, type SubscriptionEnded, type Transport } from "./Hub.js"

/** Events read from the store per query while replaying. */
const replayPage = 500

/** The meta key under which Retention records the highest sequence it has deleted. */
export const retentionWatermarkKey = "retention_watermark"

export interface SubscribeOptions {
  /** Replay every matching event with a greater sequence first; omit to follow live only. */
  readonly after?: number | undefined
  readonly transport: Transport
}

export class EventBus extends Effect.Service<EventBus>()("vigil/EventBus", {
  effect: Effect.gen(function*() {
    const store = yield* EventStore
    const repo = yield* EventRepo
    const hub = yield* Hub

    /**
     * Commits the events (and `state` in the same transaction), then publishes them; answers once
     * they are durable. Each event carries this publication's span as its trace context (unless
     * it brought its own), so what reacts to it continues the trace that produced it.
     */
    const publish = Effect.fn("EventBus.publish")(function*(events: ReadonlyArray<NewEvent>, state?: ReadonlyArray<StateWrite>) {
      const span = yield* Effect.currentSpan.pipe(Effect.option)
      const traced = Option.isNone(span) ? events : events.map((e) => withTraceContext(e, { traceparent: traceparentOf(span.value) }))
      yield* Effect.annotateCurrentSpan("events", events.length)
      return yield* store.append(traced, state)
    })

    const publishOne = (event: NewEvent) => Effect.map(publish([event]), (outcomes) => outcomes[0]!)

    const signal = (name: string, payload: unknown) => Effect.sync(() => hub.signal(new Signal(name, payload)))

    const storeError = (error: { readonly message: string }) => new StoreUnavailable({ reason: error.message })

    const readPage = (filter: EventFilter, cursor: number) =>
      repo.after(filter, cursor, replayPage).pipe(Effect.mapError(storeError))

    /**
     * If retention deleted events the subscriber asked for, a `gap` signal says so (with the first
     * sequence still held) before the replay starts.
     */
    const gapNotice = (after: number) =>
      Effect.gen(function*() {
        const watermark = yield* repo.getMeta(retentionWatermarkKey)
        if (watermark === undefined || after >= Number(watermark)) return Option.none<Signal>()
        const firstAvailable = yield* repo.minSequence()
        return Option.some(
          new Signal("gap", {
            requestedAfter: after,
            deletedThrough: Number(watermark),
            firstAvailable: firstAvailable ?? null
          })
        )
      }).pipe(Effect.mapError(storeError))

    /**
     * A subscription pushed into a sink, for transports that write straight to the client (SSE):
     * attaches at once, replays what follows `after` (waiting for `room` between pages, so a long
     * backlog is read no faster than the client takes it, and stopping when `room` says the sink
     * has ended), then leaves the sink to the Hub.
     * `replay` completes when the subscriber is live; `detach` ends the subscription.
     */
    const follow = (
      filter: EventFilter,
      after: number | undefined,
      transport: Transport,
      sink: Sink & { readonly room: Effect.Effect<boolean> }
    ) => {
      const subscription = hub.attach(filter, transport, sink, after !== undefined)
      const replay = after === undefined ? Effect.void : Effect.withSpan(Effect.gen(function*() {
        const gap = yield* gapNotice(after)
        if (Option.isSome(gap)) sink.signal(gap.value)
        let cursor = after
        while (true) {
          const page = yield* readPage(filter, cursor)
          if (page.length > 0) {
            cursor = page[page.length - 1]!.sequence
            sink.events(page)
            if (!(yield* sink.room)) return
          }
          if (page.length < replayPage && hub.goLive(subscription, cursor)) return
        }
      }), "EventBus.replay", { attributes: { after, transport } })
      return { replay, detach: () => hub.detach(subscription) }
    }

    /**
     * A subscription read as a Stream (WebSocket sessions, internal consumers): the same `follow`,
     * into a Mailbox. Live events are never dropped (the Hub cuts off a reader a full buffer
     * behind instead); the replay waits until the reader has taken most of a page before it
     * reads the next, so a long backlog is not read faster than it is consumed.
     */
    const subscribe = (
      filter: EventFilter,
      options: SubscribeOptions
    ): Stream.Stream<Delivery, SubscriptionEnded | StoreUnavailable> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const mailbox = yield* Mailbox.make<Delivery, SubscriptionEnded | StoreUnavailable>()
        const size = () => mailbox.unsafeSize()
        let onRoom: ((open: boolean) => void) | undefined
        const sink: Sink & { readonly room: Effect.Effect<boolean> } = {
          events: (events) => {
            for (const event of events) mailbox.unsafeOffer(event)
          },
          signal: (signal) => {
            mailbox.unsafeOffer(signal)
          },
          end: (reason) => {
            mailbox.unsafeDone(Exit.fail(reason))
          },
          isBehind: () => Option.getOrElse(size(), () => 0) >= hub.bufferSize,
          room: Effect.async<boolean>((resume) => {
            const waiting = size()
            if (Option.isNone(waiting) || waiting.value < replayPage) return resume(Effect.succeed(Option.isSome(waiting)))
            onRoom = (open) => resume(Effect.succeed(open))
          })
        }
        const { detach, replay } = follow(filter, options.after, options.transport, sink)
        yield* Effect.addFinalizer(() => Effect.sync(detach))
        yield* replay.pipe(Effect.catchAll((error) => mailbox.fail(error)), Effect.forkScoped)
        return Mailbox.toStream(mailbox).pipe(Stream.mapChunks((chunk) => {
          const waiting = size()
          if (onRoom !== undefined && (Option.isNone(waiting) || waiting.value < replayPage)) {
            const resume = onRoom
            onRoom = undefined
            resume(Option.isSome(waiting))
          }
          return chunk
        }))
      }))

    return { publish, publishOne, signal, subscribe, follow, subscriberCounts: hub.countByTransport } as const
  })
}) {}
