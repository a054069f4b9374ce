/**
 * How committed events reach the live Hub.
 *
 * One process (SQLite): the writer hands what it committed straight to the Hub.
 *
 * Several processes (PostgreSQL): every instance must see every instance's events, in sequence
 * order, with none skipped. Writers serialise on a transaction-scoped advisory lock and take their
 * sequence numbers under it, so commit order is sequence order: no sequence can become visible
 * after a larger one. Each commit sends `NOTIFY vigil_events` (payload: the newest sequence; NOTIFY
 * payloads are small, the events are read back from the table). Each instance runs one tailer that
 * reads `seq > last published` in order and publishes to its own Hub, woken by its own commits
 * and by notifications from the others. A missed notification only delays: the tailer also reads
 * on a timer.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { StoredEvent } from "../domain/Event.js"
import { everything } from "../domain/EventFilter.js"
import { Committed } from "../store/Committed.js"
import { EventRepo } from "../store/EventRepo.js"
import { SharedStore } from "../store/Shared.js"
import { Hub } from "./Hub.js"

export const eventsChannel = "vigil_events"

/** The store's Committed port, as the bus answers it. */
export const CommitFanoutLive = Layer.scoped(
  Committed,
  Effect.gen(function*() {
    const hub = yield* Hub
    const store = yield* SharedStore
    // One process: what the writer committed goes straight to the Hub.
    if (!store.shared) return { committed: (events: ReadonlyArray<StoredEvent>) => Effect.sync(() => hub.publish(events)) }

    const repo = yield* EventRepo
    const wake = yield* Queue.sliding<void>(1)
    let published = yield* repo.maxSequence()

    const catchUp = Effect.gen(function*() {
      while (true) {
        const page = yield* repo.after(everything, published, 1000)
        if (page.length === 0) return
        hub.publish(page)
        published = page[page.length - 1]!.sequence
      }
    })

    yield* Queue.take(wake).pipe(
      Effect.timeout("1 second"),
      Effect.ignore,
      Effect.zipRight(catchUp),
      Effect.catchAllCause((cause) => Effect.logWarning("event tailer round failed", cause)),
      Effect.forever,
      Effect.forkScoped
    )
    yield* store.listen(eventsChannel).pipe(Stream.runForEach(() => Queue.offer(wake, undefined)), Effect.forkScoped)

    return {
      committed: (events: ReadonlyArray<StoredEvent>) =>
        events.length === 0
          ? Effect.void
          : Effect.zipRight(Queue.offer(wake, undefined), store.notify(eventsChannel, String(events[events.length - 1]!.sequence)))
    }
  })
)
