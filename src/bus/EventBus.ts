/**
 * The one way in and the one way out of the event stream.
 *
 * `publish` persists, then publishes (through the EventStore writer). `subscribe` replays from
 * the store everything after a sequence and then follows live, with no gap and no duplicate at
 * the seam: it attaches to the Hub *before* reading the backlog; the Hub holds live events back
 * until the replay has caught up and then hands over only those the backlog did not deliver
 * (`Hub.goLive`). If more than a buffer's worth arrives meanwhile, the replay simply reads the
 * store further: every published event was committed first. `follow` is the same subscription
 * pushed into a sink instead of read as a Stream. `signal` carries ephemeral messages
 * (heartbeats) that take no sequence and are never stored.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { NewEvent } from "../domain/Event.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { EventRepo } from "../store/EventRepo.js"
import { EventStore, StoreUnavailable } from "../store/EventStore.js"
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

    const publish = (events: ReadonlyArray<NewEvent>) => store.append(events)

    const publishOne = (event: NewEvent) =>
      Effect.map(store.append([event]), (outcomes) => outcomes[0]!)

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
     * A subscription read as a Stream: the backlog page by page as the reader pulls, then live
     * from the subscriber's mailbox.
     */
    const subscribe = (
      filter: EventFilter,
      options: SubscribeOptions
    ): Stream.Stream<Delivery, SubscriptionEnded | StoreUnavailable> =>
      Stream.unwrapScoped(Effect.gen(function*() {
        const after = options.after
        const subscriber = yield* hub.register(filter, options.transport, after !== undefined)
        const live = Mailbox.toStream(subscriber.mailbox)
        if (after === undefined) return live

        let cursor = after
        const nextPage = Effect.suspend(() => readPage(filter, cursor)).pipe(Effect.map((page) => {
          if (page.length > 0) cursor = page[page.length - 1]!.sequence
          const more = page.length === replayPage || !hub.goLive(subscriber, cursor)
          return [Chunk.unsafeFromArray<Delivery>(page), more ? Option.some(undefined) : Option.none()] as const
        }))
        const backlog = Stream.paginateChunkEffect(undefined, () => nextPage)
        const gap = yield* gapNotice(after)
        const head = Option.match(gap, { onNone: () => Stream.empty, onSome: Stream.make })
        return head.pipe(Stream.concat(backlog), Stream.concat(live))
      }))

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
      const replay = after === undefined ? Effect.void : Effect.gen(function*() {
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
      })
      return { replay, detach: () => hub.detach(subscription) }
    }

    return { publish, publishOne, signal, subscribe, follow, subscriberCounts: hub.countByTransport } as const
  })
}) {}
