import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { createProducer, follow } from "../../src/client/index.js"
import { subscribe } from "../../src/client/Consumer.js"
import { makeProducer } from "../../src/client/Producer.js"
import { waitUntil } from "../support/Clients.js"
import { eventually } from "../support/Eventually.js"
import { getJson, postEvents, startVigil, tempDir } from "../support/Vigil.js"

/** Every stored event from the given source, oldest first. */
const storedFrom = (url: string, source: string) =>
  Effect.gen(function*() {
    const out: Array<any> = []
    let after = 0
    while (true) {
      const page = (yield* getJson(`${url}/api/v1/events?source=${encodeURIComponent(source)}&after=${after}&limit=1000`)).body
      if (page.length === 0) return out
      out.push(...page.reverse())
      after = out.at(-1).sequence
    }
  })

describe("producer SDK", () => {
  it.scopedLive("delivers every event exactly once across a server stop and restart mid-run", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const first = yield* startVigil({}, dir)
      const producer = yield* makeProducer({
        url: first.url,
        source: "/test/producer",
        batchSize: 50,
        flushInterval: "20 millis",
        maxAttempts: 40,
        retryBase: "50 millis"
      })
      const emitter = yield* Effect.forEach(Array.from({ length: 600 }, (_, i) => i), (i) =>
        producer.emit({ type: "sdk.test", data: { i } }).pipe(Effect.zipRight(i % 20 === 0 ? Effect.sleep("10 millis") : Effect.void)), { discard: true }).pipe(Effect.fork)
      yield* eventually("some events are sent", producer.stats, (s) => s.sent > 0)
      yield* first.stop
      // The outage the producer rides out: emits go on while nothing answers.
      yield* Effect.sleep("400 millis")
      const second = yield* startVigil({ VIGIL_PORT: String(first.port) }, dir)
      yield* Fiber.join(emitter)
      yield* producer.flush
      const stats = yield* producer.stats
      expect(stats.sent + stats.duplicates).toBe(600)
      expect(stats).toMatchObject({ rejected: 0, dropped: 0, buffered: 0 })
      expect(stats.retried).toBeGreaterThan(0)
      const stored = yield* storedFrom(second.url, "/test/producer")
      expect(stored.map((e) => e.data.i)).toEqual(Array.from({ length: 600 }, (_, i) => i))
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("never retries what vigil refuses as invalid, and counts it", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const producer = yield* makeProducer({ url: vigil.url, flushInterval: "10 millis" })
      yield* producer.emit({ type: "ok.event" })
      yield* producer.emit({ type: "bad.event", severity: "loud" as never })
      yield* producer.flush
      yield* producer.emit({ type: "bad.again", severity: "loud" as never })
      yield* producer.flush
      expect(yield* producer.stats).toEqual({ sent: 1, duplicates: 0, rejected: 2, retried: 0, dropped: 0, buffered: 0 })
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("gives up after its attempts when vigil stays unreachable, and says so in its stats", () =>
    Effect.gen(function*() {
      const producer = yield* makeProducer({ url: "http://127.0.0.1:9", maxAttempts: 3, retryBase: "10 millis", flushInterval: "10 millis" })
      for (let i = 0; i < 5; i++) yield* producer.emit({ type: "lost.event" })
      yield* producer.flush
      expect(yield* producer.stats).toMatchObject({ sent: 0, dropped: 5, retried: 2, buffered: 0 })
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("the Promise facade emits without waiting and sends everything on close", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const client = createProducer({ url: vigil.url, source: "/test/promise" })
      for (let i = 0; i < 250; i++) client.emit({ type: "promise.event", data: { i } })
      yield* Effect.promise(() => client.close())
      const stored = yield* storedFrom(vigil.url, "/test/promise")
      expect(stored).toHaveLength(250)
    }))
})

describe("consumer helper", () => {
  it.scopedLive("follows the stream and resumes from its last sequence after a server restart", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const first = yield* startVigil({}, dir)
      const received: Array<number> = []
      const fiber = yield* subscribe({ url: first.url, after: 0, reconnectDelay: "100 millis" }).pipe(
        Stream.filter((e) => e.type === "resume.test"),
        Stream.runForEach((e) => Effect.sync(() => received.push((e as any).data.i))),
        Effect.provide(FetchHttpClient.layer),
        Effect.fork
      )
      yield* postEvents(first.url, Array.from({ length: 50 }, (_, i) => ({ specversion: "1.0", id: `r${i}`, source: "t", type: "resume.test", data: { i } })))
      yield* waitUntil("first half", () => received.length === 50)
      yield* first.stop
      const second = yield* startVigil({ VIGIL_PORT: String(first.port) }, dir)
      yield* postEvents(second.url, Array.from({ length: 50 }, (_, i) => ({ specversion: "1.0", id: `r${50 + i}`, source: "t", type: "resume.test", data: { i: 50 + i } })))
      // In order: once the last is here, nothing lost or repeated is still coming.
      yield* waitUntil("second half", () => received.includes(99))
      expect(received).toEqual(Array.from({ length: 100 }, (_, i) => i))
      yield* Fiber.interrupt(fiber)
    }))

  it.scopedLive("follow() is the same for code that does not use Effect", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const seen: Array<string> = []
      const stop = follow({ url: vigil.url, after: 0, filter: { type: "f.*" } }, (e) => seen.push(e.type))
      yield* postEvents(vigil.url, [
        { specversion: "1.0", id: "f1", source: "t", type: "f.one" },
        { specversion: "1.0", id: "g1", source: "t", type: "g.one" },
        { specversion: "1.0", id: "f2", source: "t", type: "f.two" }
      ])
      yield* waitUntil("two", () => seen.length === 2)
      expect(seen).toEqual(["f.one", "f.two"])
      yield* Effect.promise(stop)
    }))
})
