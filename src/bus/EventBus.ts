/**
 * The one way in and the one way out of the event stream.
 *
 * `publish` persists, then publishes (through the EventStore writer). `subscribe` replays from
 * the store everything after a sequence and then follows live, with no gap and no duplicate at
 * the seam: it registers with the Hub *before* reading the backlog, and drops live events the
 * backlog already delivered. `signal` carries ephemeral messages (heartbeats) that take no
 * sequence and are never stored.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { type NewEvent, StoredEvent } from "../domain/Event.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { EventRepo } from "../store/EventRepo.js"
import { EventStore, StoreUnavailable } from "../store/EventStore.js"
import { type Delivery, Hub, Signal, type SubscriptionEnded, type Transport } from "./Hub.js"

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
        // One page of backlog; when the backlog is exhausted either go live, or, if the mailbox
        // overflowed meanwhile, drop what it holds and keep reading the store (nothing is lost:
        // every published event was committed first).
        const nextPage = Effect.gen(function*() {
          const page = yield* repo.after(filter, cursor, replayPage).pipe(Effect.mapError(storeError))
          if (page.length > 0) cursor = page[page.length - 1]!.sequence
          if (page.length === replayPage) return [page, Option.some(undefined)] as const
          if (!subscriber.missed) {
            subscriber.replaying = false
            return [page, Option.none()] as const
          }
          subscriber.missed = false
          yield* subscriber.mailbox.clear.pipe(Effect.ignore)
          return [page, Option.some(undefined)] as const
        })
        const backlog = Stream.paginateChunkEffect(undefined, () =>
          Effect.map(nextPage, ([page, next]) => [Chunk.unsafeFromArray<Delivery>(page), next] as const))
        const gap = yield* gapNotice(after)
        const head = Option.match(gap, { onNone: () => Stream.empty, onSome: Stream.make })
        const afterReplay = live.pipe(
          Stream.filter((d) => !(d instanceof StoredEvent) || d.sequence > cursor)
        )
        return head.pipe(Stream.concat(backlog), Stream.concat(afterReplay))
      }))

    return { publish, publishOne, signal, subscribe, subscriberCounts: hub.countByTransport } as const
  })
}) {}
