import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { assertStrictlyIncreasing, openSse, waitUntil } from "../support/Clients.js"
import { freshDatabase } from "../support/Postgres.js"
import { cloudEvent, postEvents, startVigil } from "../support/Vigil.js"

describe("several instances on one PostgreSQL database", () => {
  it.scopedLive("an event ingested on any instance reaches the streams of every instance once, in order", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const env = { VIGIL_DATABASE_URL: db.url }
      const instances = [yield* startVigil(env), yield* startVigil(env), yield* startVigil(env)]
      const clients = instances.map((v) => openSse(v.url, "?backfill=0"))
      yield* waitUntil("connected", () => clients.every((c) => c.named.length > 0))
      // Producers on every instance at once: commits from three writers interleave.
      const answers = yield* Effect.forEach(
        Array.from({ length: 30 }, (_, i) => instances[i % 3]!),
        (v) => postEvents(v.url, Array.from({ length: 10 }, () => cloudEvent({ type: "shared.test" }))),
        { concurrency: 6 }
      )
      const accepted = answers.flatMap((a) => a.body.results.map((r: any) => r.sequence as number)).sort((a, b) => a - b)
      expect(accepted).toHaveLength(300)
      for (const c of clients) {
        yield* waitUntil("all delivered", () => c.events.filter((e) => e.event.type === "shared.test").length === 300, 20_000)
        assertStrictlyIncreasing(c.events)
        expect(c.events.filter((e) => e.event.type === "shared.test").map((e) => e.sequence)).toEqual(accepted)
      }
      for (const c of clients) c.close()
    }))

  it.scopedLive("a client resuming on another instance with its Last-Event-ID misses nothing", () =>
    Effect.gen(function*() {
      const db = yield* freshDatabase
      const env = { VIGIL_DATABASE_URL: db.url }
      const [a, b] = [yield* startVigil(env), yield* startVigil(env)]
      // Filtered by type: a live-only stream on A may still receive B's `system.online`, committed
      // just before it connected, if A's tailer had not yet published it to A's Hub.
      const first = openSse(a.url, "?backfill=0&type=resume.*")
      yield* waitUntil("connected", () => first.named.length > 0)
      yield* postEvents(a.url, Array.from({ length: 20 }, () => cloudEvent({ type: "resume.test" })))
      yield* waitUntil("20", () => first.events.length === 20)
      first.close()
      yield* postEvents(b.url, Array.from({ length: 20 }, () => cloudEvent({ type: "resume.test" })))
      const second = openSse(b.url, `?last_event_id=${first.events.at(-1)!.sequence}&type=resume.*`)
      yield* waitUntil("the rest", () => second.events.length === 20)
      const all = [...first.events, ...second.events]
      assertStrictlyIncreasing(all)
      expect(all).toHaveLength(40)
      second.close()
    }))
})
