/**
 * Live fan-out: publishing is a synchronous loop that hands each commit to every subscriber's
 * sink. Nobody waits for anybody: a subscriber already a full buffer behind is ended with
 * `SubscriberLagged` (it resumes from the store with its last sequence), so one slow reader never
 * slows the writer or the other readers.
 *
 * A sink is whatever fits the transport: a Mailbox read as a Stream (WebSocket, internal
 * consumers), or the SSE response body itself, which writes the commit's pre-rendered frames
 * with no fiber or queue per connection (see SseSink).
 *
 * Why not an Effect `PubSub`: a bounded PubSub makes the publisher wait for the slowest
 * subscriber, and an unbounded one lets a stalled subscriber grow without limit. Per-subscriber
 * sinks give each reader its own bound and its own fate.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { positiveInt } from "../domain/ConfigFormats.js"
import { StoredEvent } from "../domain/Event.js"
import { type EventFilter, matches } from "../domain/EventFilter.js"

/**
 * A live-only message that takes no sequence and is never stored: heartbeats, and the
 * per-connection notices (connected, gap). Its payload is rendered to JSON once.
 */
export class Signal {
  readonly json: string
  constructor(readonly name: string, payload: unknown) {
    this.json = JSON.stringify(payload)
  }
}

export type Delivery = StoredEvent | Signal

export class SubscriberLagged extends Schema.TaggedError<SubscriberLagged>()("SubscriberLagged", {
  buffered: Schema.Number
}) {
  override get message() {
    return `subscriber fell too far behind (${this.buffered} buffered) and was cut off; resume from the last sequence received`
  }
}

export class ServerShuttingDown extends Schema.TaggedError<ServerShuttingDown>()("ServerShuttingDown", {}) {
  override get message() {
    return "server shutting down; reconnect with the last sequence received"
  }
}

/** Why a live subscription ended. Either way the subscriber loses nothing by resuming. */
export type SubscriptionEnded = SubscriberLagged | ServerShuttingDown

export type Transport = "sse" | "ws" | "internal"

/**
 * Where a subscriber's messages go. The Hub calls these synchronously from `publish`; a sink
 * must not block. `events` receives only events that match the subscriber's filter, in sequence
 * order, one commit at a time (the very array published when every event matched, so a sink can
 * cache what it derives from a commit).
 */
export interface Sink {
  readonly events: (events: ReadonlyArray<StoredEvent>) => void
  readonly signal: (signal: Signal) => void
  /** The subscription is over (after what the sink already has); the sink says so to its client. */
  readonly end: (reason: SubscriptionEnded) => void
  /** True when the client is a full buffer behind: the next commit cuts it off. */
  readonly isBehind: () => boolean
}

export interface Subscription {
  readonly filter: EventFilter
  readonly transport: Transport
  readonly sink: Sink
  /**
   * While the subscriber replays from the store, live events matching it are held here instead
   * of reaching the sink; `goLive` hands over those the replay did not already deliver.
   * Undefined once live.
   */
  held: Array<StoredEvent> | undefined
  /** More than a buffer's worth arrived while replaying: what was held is dropped, read the store again. */
  missed: boolean
  /**
   * Where the replay ended: events at or below it were delivered by the replay. A replay can read
   * an event that is committed but not yet published here (the writer publishes after its commit
   * returns; on PostgreSQL the tailer publishes later still), so this holds after going live too.
   */
  replayedThrough: number
}

/**
 * The events of `events` after `through` that match, without copying when all of them do.
 * `events` is in sequence order.
 */
const matching = (filter: EventFilter, through: number, events: ReadonlyArray<StoredEvent>): ReadonlyArray<StoredEvent> => {
  let out: Array<StoredEvent> | undefined
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    if (event.sequence > through && matches(filter, event)) {
      out?.push(event)
    } else if (out === undefined) {
      out = events.slice(0, i)
    }
  }
  return out ?? events
}

export class Hub extends Effect.Service<Hub>()("vigil/Hub", {
  effect: Effect.gen(function*() {
    /**
     * Events a Mailbox subscriber may have queued before it is cut off as too slow; also how many
     * live events a replaying subscriber may have held back before it re-reads the store.
     */
    const subscriberBuffer = yield* positiveInt("VIGIL_SUBSCRIBER_BUFFER", 4096)
    const entries = new Set<Subscription>()
    let closed = false
    // Plain counts, read when metrics are scraped: counting on the fan-out path costs an addition.
    const delivered: Record<Transport, number> = { sse: 0, ws: 0, internal: 0 }
    const cutOffs: Record<Transport, number> = { sse: 0, ws: 0, internal: 0 }

    const cutOff = (entry: Subscription) => {
      cutOffs[entry.transport]++
      entries.delete(entry)
      entry.sink.end(new SubscriberLagged({ buffered: subscriberBuffer }))
    }

    /**
     * Offers committed events, in sequence order, to every subscriber whose filter they match.
     * The bound is checked once per commit, not per event: a subscriber that was keeping up takes
     * the whole commit (a group commit can hold more events than the buffer), one that was
     * already a full buffer behind is cut off.
     */
    const publish = (events: ReadonlyArray<StoredEvent>): void => {
      for (const entry of entries) {
        const held = entry.held
        if (held !== undefined) {
          if (entry.missed) continue
          for (const event of matching(entry.filter, entry.replayedThrough, events)) held.push(event)
          if (held.length > subscriberBuffer) {
            entry.missed = true
            entry.held = []
          }
          continue
        }
        if (entry.sink.isBehind()) {
          cutOff(entry)
          continue
        }
        const mine = matching(entry.filter, entry.replayedThrough, events)
        if (mine.length > 0) {
          delivered[entry.transport] += mine.length
          entry.sink.events(mine)
        }
      }
    }

    /** Offers an ephemeral signal to every subscriber (signals are not filtered by event filters). */
    const signal = (signal: Signal): void => {
      for (const entry of entries) {
        if (entry.held === undefined && entry.sink.isBehind()) cutOff(entry)
        else entry.sink.signal(signal)
      }
    }

    /**
     * Adds a subscriber until `detach`. When `replaying`, live events are held until `goLive`.
     * After `closeAll`, the sink is ended at once.
     */
    const attach = (filter: EventFilter, transport: Transport, sink: Sink, replaying: boolean): Subscription => {
      const entry: Subscription = { filter, transport, sink, held: replaying ? [] : undefined, missed: false, replayedThrough: 0 }
      if (closed) sink.end(new ServerShuttingDown())
      else entries.add(entry)
      return entry
    }

    const detach = (entry: Subscription): void => {
      entries.delete(entry)
    }

    /**
     * Ends a replay that has read the store up to `cursor`. If live events overflowed meanwhile,
     * answers false: the held ones are gone, read the store again from `cursor`. Otherwise hands
     * the sink the held events past `cursor` (the replay delivered the others) and answers true:
     * from now on commits reach the sink directly.
     */
    const goLive = (entry: Subscription, cursor: number): boolean => {
      if (entry.missed) {
        entry.missed = false
        entry.held = []
        return false
      }
      const held = entry.held ?? []
      entry.held = undefined
      entry.replayedThrough = cursor
      const pending = held.filter((event) => event.sequence > cursor)
      if (pending.length > 0) {
        delivered[entry.transport] += pending.length
        entry.sink.events(pending)
      }
      return true
    }

    /** Ends every subscription with ServerShuttingDown, after what each has already buffered. */
    const closeAll = Effect.sync(() => {
      closed = true
      for (const entry of entries) entry.sink.end(new ServerShuttingDown())
      entries.clear()
    })

    const countByTransport = (): Record<Transport, number> => {
      const counts: Record<Transport, number> = { sse: 0, ws: 0, internal: 0 }
      for (const entry of entries) counts[entry.transport]++
      return counts
    }

    return {
      publish,
      signal,
      attach,
      detach,
      goLive,
      /** Events a subscriber may have waiting before the next commit cuts it off. */
      bufferSize: subscriberBuffer,
      closeAll,
      countByTransport,
      /** Live events handed to subscribers and subscribers cut off as too slow, by transport, since start. */
      counters: () => ({ delivered: { ...delivered }, cutOffs: { ...cutOffs } }),
      size: () => entries.size
    } as const
  })
}) {}
