import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { Retention } from "../../src/bus/Retention.js"
import { assertStrictlyIncreasing, openSse, openWs, waitUntil } from "../support/Clients.js"
import { cloudEvent, getJson, postEvents, startVigil, tempDir } from "../support/Vigil.js"

/** Every stored event, oldest first, paging through the recent-events API. */
const allEvents = (url: string) =>
  Effect.gen(function*() {
    const out: Array<any> = []
    let after = 0
    while (true) {
      const page = (yield* getJson(`${url}/api/v1/events?after=${after}&limit=1000`)).body as Array<any>
      if (page.length === 0) return out
      page.reverse()
      out.push(...page)
      after = page.at(-1).sequence
    }
  })

describe("start-up and shutdown", () => {
  it.scopedLive("shutdown ends SSE and WebSocket streams with a final frame and loses no acknowledged event", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const vigil = yield* startVigil({}, dir)
      const sse = openSse(vigil.url, "?backfill=0")
      const ws = openWs(vigil.url, "?backfill=0")
      yield* waitUntil("clients connected", () => sse.named.length > 0 && ws.messages.length > 0)

      // Producers post until the server stops answering; what got a 200 was acknowledged.
      const acknowledged: Array<{ id: string; sequence: number }> = []
      const producer = Effect.gen(function*() {
        while (true) {
          const events = Array.from({ length: 10 }, () => cloudEvent({ type: "shutdown.test" }))
          const answer = yield* Effect.tryPromise(() =>
            fetch(`${vigil.url}/api/v1/events`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(events)
            }).then(async (r) => ({ status: r.status, body: await r.json() as any }))
          )
          if (answer.status !== 200) return
          for (const r of answer.body.results) acknowledged.push({ id: r.id, sequence: r.sequence })
        }
      }).pipe(Effect.ignore)
      const producers = yield* Effect.forkAll(Array.from({ length: 5 }, () => producer))
      yield* waitUntil("some events acknowledged", () => acknowledged.length >= 200)
      yield* vigil.stop
      yield* Fiber.join(producers)

      const shutdown = sse.named.find((n) => n.name === "shutdown")
      expect(shutdown?.data.lastSequence).toBe(sse.events.at(-1)!.sequence)
      assertStrictlyIncreasing(sse.events)
      expect(sse.events.at(-1)!.event.type).toBe("system.offline")
      sse.close()
      const closed = yield* Effect.promise(() => ws.closed)
      expect(closed.code).toBe(1001)
      expect(ws.messages.some((m) => m.type === "shutdown")).toBe(true)

      const restarted = yield* startVigil({}, dir)
      const stored = new Map((yield* allEvents(restarted.url)).map((e) => [e.sequence, e.id]))
      for (const a of acknowledged) expect(stored.get(a.sequence)).toBe(a.id)
    }))

  it.scopedLive("an EventSource reconnects across a server restart and resumes from its last sequence", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const env = { VIGIL_SSE_RETRY: "100 millis" }
      const first = yield* startVigil(env, dir)
      const client = openSse(first.url, "?last_event_id=0")
      yield* postEvents(first.url, Array.from({ length: 10 }, () => cloudEvent({ type: "before.restart" })))
      yield* waitUntil("first events", () => client.events.length >= 11)
      yield* first.stop
      const second = yield* startVigil({ ...env, VIGIL_PORT: String(first.port) }, dir)
      yield* postEvents(second.url, Array.from({ length: 10 }, () => cloudEvent({ type: "after.restart" })))
      yield* waitUntil("events after the restart", () =>
        client.events.filter((e) => e.event.type === "after.restart").length === 10)
      assertStrictlyIncreasing(client.events)
      const stored = yield* allEvents(second.url)
      expect(client.events.map((e) => e.sequence)).toEqual(stored.map((e) => e.sequence))
      expect(client.events.map((e) => e.event.type)).toEqual(expect.arrayContaining(["system.offline", "system.online"]))
      client.close()
    }))

  it.scopedLive("announces system.online at start", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const [online] = yield* allEvents(vigil.url)
      expect(online).toMatchObject({ type: "system.online", source: "vigil", sequence: 1 })
    }))
})

describe("retention", () => {
  it.scopedLive("keeps the newest events by count, reports what it removed, and tells a resuming reader about the gap", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_RETENTION_MAX_EVENTS: "10" })
      yield* postEvents(vigil.url, Array.from({ length: 30 }, () => cloudEvent()))
      const report = yield* vigil.use(Effect.flatMap(Retention, (r) => r.run))
      expect(report).toEqual({ removed: 21, deletedThrough: 21 })
      const stats = (yield* getJson(`${vigil.url}/api/v1/events/stats`)).body
      expect(stats).toMatchObject({ total: 11, firstSequence: 22, lastSequence: 32, retainedFrom: 21 })
      const notice = (yield* getJson(`${vigil.url}/api/v1/events?type=system.retention`)).body[0]
      expect(notice.data).toMatchObject({ removed: 21, deletedThrough: 21, maxEvents: 10 })

      const behind = openSse(vigil.url, "?last_event_id=5")
      yield* waitUntil("replayed", () => behind.events.length === 11)
      expect(behind.named.map((n) => n.name)).toEqual(["connected", "gap"])
      expect(behind.named[1]!.data).toEqual({ requestedAfter: 5, deletedThrough: 21, firstAvailable: 22 })
      expect(behind.events[0]!.sequence).toBe(22)
      behind.close()

      const current = openSse(vigil.url, "?last_event_id=25")
      yield* waitUntil("replayed", () => current.events.length === 7)
      expect(current.named.map((n) => n.name)).toEqual(["connected"])
      current.close()
    }))

  it.scopedLive("removes events older than the maximum age, and nothing when there is nothing to remove", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_RETENTION_MAX_AGE: "300 millis" })
      yield* postEvents(vigil.url, Array.from({ length: 5 }, () => cloudEvent()))
      const run = vigil.use(Effect.flatMap(Retention, (r) => r.run))
      expect((yield* run).removed).toBe(0)
      yield* Effect.sleep("400 millis")
      expect(yield* run).toEqual({ removed: 6, deletedThrough: 6 })
      const stats = (yield* getJson(`${vigil.url}/api/v1/events/stats`)).body
      expect(stats.byType).toEqual({ "system.retention": 1 })
    }))
})
