import { expect, layer } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { EventBus } from "../../src/bus/EventBus.js"
import { Hub, Signal } from "../../src/bus/Hub.js"
import { StoredEvent } from "../../src/domain/Event.js"
import { everything, makeFilter } from "../../src/domain/EventFilter.js"
import { TestBackbone, testEvents } from "../support/Backbone.js"

const sequences = (deliveries: Chunk.Chunk<unknown>) =>
  Chunk.toReadonlyArray(deliveries).flatMap((d) => (d instanceof StoredEvent ? [d.sequence] : []))

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const lastSequence = (outcomes: ReadonlyArray<{ _tag: string; event?: StoredEvent }>) =>
  outcomes.at(-1)!.event!.sequence

for (const dialect of ["sqlite", "pg"] as const) {
layer(TestBackbone({ VIGIL_SUBSCRIBER_BUFFER: "16" }, dialect))(`EventBus on ${dialect}`, (it) => {
  it.scoped("replays after a sequence, then follows live, with no gap and no duplicate at the seam", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const backlog = yield* bus.publish(testEvents(700))
      const from = backlog[100]!._tag === "Inserted" ? (backlog[100] as any).event.sequence : 0
      // Publish 600 more in small batches while the subscriber replays and goes live.
      const publisher = yield* Effect.forEach(range(1, 60), () => bus.publish(testEvents(10)), {
        concurrency: 3
      }).pipe(Effect.fork)
      const received = yield* bus.subscribe(everything, { after: from, transport: "internal" }).pipe(
        Stream.filter((d): d is StoredEvent => d instanceof StoredEvent),
        Stream.takeUntil((e) => e.sequence >= from + 1199),
        Stream.runCollect
      )
      yield* Fiber.join(publisher)
      expect(sequences(received)).toEqual(range(from + 1, from + 1199))
    }))

  it.scoped("a subscriber whose buffer overflows while replaying reads the store again instead of being cut off", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const first = yield* bus.publish(testEvents(1))
      const start = lastSequence(first as any)
      yield* bus.publish(testEvents(2000))
      const gate = yield* Deferred.make<void>()
      // The consumer stops after the first page until 300 live events (far past the buffer of
      // 16) have been published, so the live buffer overflows mid-replay.
      const consumer = yield* bus.subscribe(everything, { after: start, transport: "internal" }).pipe(
        Stream.filter((d): d is StoredEvent => d instanceof StoredEvent),
        Stream.tap((e) => e.sequence === start + 600 ? Deferred.await(gate) : Effect.void),
        Stream.takeUntil((e) => e.sequence >= start + 2300),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.forEach(range(1, 30), () => bus.publish(testEvents(10)), { discard: true })
      yield* Deferred.succeed(gate, undefined)
      const received = yield* Fiber.join(consumer)
      expect(sequences(received)).toEqual(range(start + 1, start + 2300))
    }))

  it.scoped("a live subscriber that stops reading is cut off, and the others still get everything", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const hub = yield* Hub
      const filter = makeFilter({ type: "lag.*" })
      const gate = yield* Deferred.make<void>()
      const subscribed = yield* Deferred.make<void>()
      const stalled = yield* bus.subscribe(filter, { transport: "internal" }).pipe(
        Stream.tap(() => Deferred.await(gate)),
        Stream.runCollect,
        Effect.either,
        Effect.fork
      )
      const healthy = yield* Effect.forEach(range(1, 5), () =>
        bus.subscribe(filter, { transport: "internal" }).pipe(
          Stream.filter((d): d is StoredEvent => d instanceof StoredEvent),
          Stream.take(100),
          Stream.runCollect,
          Effect.fork
        ))
      yield* Effect.yieldNow().pipe(Effect.repeatN(20))
      yield* Deferred.succeed(subscribed, undefined)
      expect(hub.size()).toBeGreaterThanOrEqual(6)
      for (let i = 0; i < 10; i++) yield* bus.publish(testEvents(10, { type: "lag.test" }))
      const results = yield* Effect.forEach(healthy, Fiber.join)
      for (const r of results) expect(Chunk.size(r)).toBe(100)
      yield* Deferred.succeed(gate, undefined)
      const outcome = yield* Fiber.join(stalled)
      expect(Either.isLeft(outcome) && outcome.left._tag).toBe("SubscriberLagged")
    }))

  it.scoped("an event the replay read before it was published reaches the subscriber once", () =>
    Effect.gen(function*() {
      // On PostgreSQL another instance's commit is published here only when the tailer reads it,
      // and even locally the writer publishes after its commit returns: a replay can read events
      // the Hub has not published yet. Publishing them later must not deliver them twice.
      const hub = yield* Hub
      const events = testEvents(3).map((e, i) => new StoredEvent(1000 + i, e, Date.now()))
      const received: Array<number> = []
      const sink = {
        events: (es: ReadonlyArray<StoredEvent>) => {
          for (const e of es) received.push(e.sequence)
        },
        signal: () => {},
        end: () => {},
        isBehind: () => false
      }
      const subscription = hub.attach(everything, "internal", sink, true)
      // The replay read 1000 and 1001 from the store (delivered by it, not by the Hub) and goes live.
      expect(hub.goLive(subscription, 1001)).toBe(true)
      hub.publish(events.slice(0, 2))
      hub.publish(events.slice(2))
      hub.detach(subscription)
      expect(received).toEqual([1002])
    }))

  it.scoped("signals reach live subscribers and are never stored", () =>
    Effect.gen(function*() {
      const bus = yield* EventBus
      const fiber = yield* bus.subscribe(everything, { transport: "internal" }).pipe(
        Stream.filter((d): d is Signal => d instanceof Signal),
        Stream.take(1),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.yieldNow().pipe(Effect.repeatN(20))
      yield* bus.signal("heartbeat", { id: "worker-1" })
      const [signal] = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      expect(signal?.name).toBe("heartbeat")
      expect(JSON.parse(signal!.json)).toEqual({ id: "worker-1" })
    }))
})
}
