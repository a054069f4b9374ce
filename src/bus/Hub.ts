/**
 * Live fan-out: every subscriber has its own bounded mailbox, and publishing is a synchronous
 * loop that offers to each one. Nobody waits for anybody: a subscriber whose mailbox is full is
 * ended with `SubscriberLagged` (it resumes from the store with its last sequence), so one slow
 * reader never slows the writer or the other readers.
 *
 * Why not an Effect `PubSub`: a bounded PubSub makes the publisher wait for the slowest
 * subscriber, and an unbounded one lets a stalled subscriber grow without limit. Per-subscriber
 * mailboxes give each reader its own bound and its own fate.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { AppConfig } from "../AppConfig.js"
import { StoredEvent } from "../domain/Event.js"
import { type EventFilter, matches } from "../domain/EventFilter.js"

const encoder = new TextEncoder()

/**
 * A live-only message that takes no sequence and is never stored: heartbeats, and the
 * per-connection notices (connected, gap). Rendered once, like a StoredEvent.
 */
export class Signal {
  #sseFrame: Uint8Array | undefined
  #wsMessage: string | undefined
  readonly json: string
  constructor(readonly name: string, payload: unknown) {
    this.json = JSON.stringify(payload)
  }
  /** A named SSE frame, so `onmessage` never sees it; clients add a listener for the name. */
  get sseFrame(): Uint8Array {
    if (this.#sseFrame === undefined) this.#sseFrame = encoder.encode(`event: ${this.name}\ndata: ${this.json}\n\n`)
    return this.#sseFrame
  }
  get wsMessage(): string {
    if (this.#wsMessage === undefined) this.#wsMessage = `{"type":${JSON.stringify(this.name)},"data":${this.json}}`
    return this.#wsMessage
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

export interface Subscriber {
  readonly filter: EventFilter
  readonly transport: Transport
  readonly mailbox: Mailbox.ReadonlyMailbox<Delivery, SubscriptionEnded>
  /**
   * While true the subscriber is still replaying from the store, so a full mailbox means "read
   * the store again", not "cut off": the bus sets `missed` and keeps it subscribed.
   */
  replaying: boolean
  missed: boolean
}

interface Entry extends Subscriber {
  readonly mailbox: Mailbox.Mailbox<Delivery, SubscriptionEnded>
}

export class Hub extends Effect.Service<Hub>()("vigil/Hub", {
  effect: Effect.gen(function*() {
    const { subscriberBuffer } = yield* AppConfig
    const entries = new Set<Entry>()
    let closed = false

    const overflow = (entry: Entry) => {
      if (entry.replaying) {
        entry.missed = true
        return
      }
      entries.delete(entry)
      entry.mailbox.unsafeDone(Exit.fail(new SubscriberLagged({ buffered: subscriberBuffer })))
    }

    /** True when the subscriber already holds its whole buffer's worth of undelivered messages. */
    const isBehind = (entry: Entry) => Option.getOrElse(entry.mailbox.unsafeSize(), () => 0) >= subscriberBuffer

    /**
     * Offers committed events, in sequence order, to every subscriber whose filter they match.
     * The bound is checked once per commit, not per event: a subscriber that was keeping up takes
     * the whole commit (a group commit can hold more events than the buffer), one that was
     * already a full buffer behind is cut off.
     */
    const publish = (events: ReadonlyArray<StoredEvent>): void => {
      for (const entry of entries) {
        if (entry.missed) continue
        if (isBehind(entry)) {
          overflow(entry)
          continue
        }
        for (const event of events) {
          if (matches(entry.filter, event)) entry.mailbox.unsafeOffer(event)
        }
      }
    }

    /** Offers an ephemeral signal to every subscriber (signals are not filtered by event filters). */
    const signal = (signal: Signal): void => {
      for (const entry of entries) {
        if (entry.missed) continue
        if (isBehind(entry)) overflow(entry)
        else entry.mailbox.unsafeOffer(signal)
      }
    }

    /** Adds a subscriber for the life of the scope. After `closeAll`, it ends at once. */
    const register = (
      filter: EventFilter,
      transport: Transport,
      replaying: boolean
    ): Effect.Effect<Subscriber, never, Scope.Scope> =>
      Effect.acquireRelease(
        Effect.map(Mailbox.make<Delivery, SubscriptionEnded>(), (mailbox) => {
          const entry: Entry = { filter, transport, mailbox, replaying, missed: false }
          if (closed) mailbox.unsafeDone(Exit.fail(new ServerShuttingDown()))
          else entries.add(entry)
          return entry
        }),
        (entry) => Effect.sync(() => entries.delete(entry as Entry))
      )

    /** Ends every subscription with ServerShuttingDown, after what each has already buffered. */
    const closeAll = Effect.sync(() => {
      closed = true
      for (const entry of entries) entry.mailbox.unsafeDone(Exit.fail(new ServerShuttingDown()))
      entries.clear()
    })

    const countByTransport = (): Record<Transport, number> => {
      const counts: Record<Transport, number> = { sse: 0, ws: 0, internal: 0 }
      for (const entry of entries) counts[entry.transport]++
      return counts
    }

    return { publish, signal, register, closeAll, countByTransport, size: () => entries.size } as const
  })
}) {}
