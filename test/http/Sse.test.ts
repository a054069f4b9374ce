import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import { assertStrictlyIncreasing, openSse, waitUntil } from "../support/Clients.js"
import { streamHead } from "../../src/http/SseSink.js"
import { cloudEvent, getJson, postEvents, startVigil } from "../support/Vigil.js"

/** Posts `batches` batches of `size` events from `producers` concurrent producers; returns every accepted sequence. */
const burst = (url: string, producers: number, batches: number, size: number, fields: Record<string, unknown> = {}) =>
  Effect.forEach(
    Array.from({ length: producers }),
    () =>
      Effect.forEach(Array.from({ length: batches }), () =>
        Effect.map(
          postEvents(url, Array.from({ length: size }, () => cloudEvent(fields))),
          (answer) => answer.body.results.map((r: any) => r.sequence as number)
        )),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((all) => all.flat(2).sort((a, b) => a - b)))

/** The raw bytes of a stream, as text, up to the first chunk that contains `marker`. */
const readStreamUntil = (url: string, marker: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    const reader = response.body!.getReader()
    let text = ""
    while (!text.includes(marker)) text += new TextDecoder().decode((await reader.read()).value)
    await reader.cancel()
    return { text, type: response.headers.get("content-type") }
  })

describe("GET /api/v1/events/stream (SSE)", () => {
  it.scopedLive("opens with retry and a connected frame, then delivers each event with its sequence as id", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const raw = yield* readStreamUntil(`${vigil.url}/api/v1/events/stream?last_event_id=0`, "system.online")
      expect(raw.type).toContain("text/event-stream")
      expect(raw.text).toMatch(
        /^retry: \d+\n\nevent: connected\ndata: \{.*\}\n\nevent: heartbeat\ndata: \{"type":"hub".*\}\n\nid: 1\ndata: \{"specversion":"1.0"/
      )
    }))

  it.scopedLive("keeps an idle connection alive with a comment frame, one timer for every connection", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_SSE_KEEPALIVE: "100 millis" })
      const { text } = yield* readStreamUntil(`${vigil.url}/api/v1/events/stream?backfill=0`, ": keepalive\n\n")
      expect(text).toMatch(/^retry: \d+\n\nevent: connected\n.*\n\nevent: heartbeat\n.*\n\n: keepalive\n\n$/)
    }))

  it.scopedLive("answers HEAD with the stream's headers and opens no subscription", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      yield* postEvents(vigil.url, Array.from({ length: 20 }, () => cloudEvent()))
      for (const query of ["?last_event_id=0", "?backfill=0", ""]) {
        const response = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/events/stream${query}`, { method: "HEAD" }))
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toContain("text/event-stream")
      }
      expect((yield* getJson(`${vigil.url}/api/v1/events/stats`)).body.subscribers.sse).toBe(0)
    }))

  it.scopedLive("without a resume point, starts with the latest events (backfill), so curl shows what just happened", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_STREAM_BACKFILL: "3" })
      yield* postEvents(vigil.url, Array.from({ length: 5 }, (_, i) => cloudEvent({ type: `b.${i}` })))
      const tail = openSse(vigil.url)
      const two = openSse(vigil.url, "?backfill=2&type=b.*")
      const none = openSse(vigil.url, "?backfill=0")
      yield* waitUntil("backfilled", () => tail.events.length === 3 && two.events.length === 2)
      yield* waitUntil("live-only client connected", () => none.named.length > 0)
      yield* postEvents(vigil.url, [cloudEvent({ type: "b.live" })])
      yield* waitUntil("live event everywhere", () => [tail, two, none].every((c) => c.events.at(-1)?.event.type === "b.live"))
      expect(tail.events.map((e) => e.event.type)).toEqual(["b.2", "b.3", "b.4", "b.live"])
      expect(two.events.map((e) => e.event.type)).toEqual(["b.3", "b.4", "b.live"])
      expect(none.events.map((e) => e.event.type)).toEqual(["b.live"])
      for (const c of [tail, two, none]) c.close()
    }))

  it.scopedLive("replays then follows live with no gap and no duplicate across a reconnect in the middle of a burst", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const first = openSse(vigil.url, "?backfill=0")
      yield* waitUntil("connected", () => first.named.some((n) => n.name === "connected"))
      const producers = yield* burst(vigil.url, 4, 25, 20, { type: "burst.event" }).pipe(Effect.fork)
      yield* waitUntil("300 events arrived", () => first.events.length >= 300)
      first.close()
      const resumeFrom = first.events.at(-1)!.sequence
      const second = openSse(vigil.url, `?last_event_id=${resumeFrom}`)
      const accepted = yield* producers.await.pipe(Effect.flatten)
      yield* waitUntil("the resumed client caught up", () => second.events.at(-1)?.sequence === accepted.at(-1))
      const received = [...first.events, ...second.events]
      assertStrictlyIncreasing(received)
      expect(received.map((r) => r.sequence)).toEqual(accepted)
      second.close()
    }))

  it.scopedLive("filters the stream by type prefix, severity and node, in replay and live alike", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      yield* postEvents(vigil.url, [
        cloudEvent({ type: "vm.crashed", severity: "error", node: "pve1" }),
        cloudEvent({ type: "vm.crashed", severity: "info", node: "pve1" }),
        cloudEvent({ type: "ct.crashed", severity: "error", node: "pve1" })
      ])
      const client = openSse(vigil.url, "?type=vm.*&severity=warning&node=pve1&last_event_id=0")
      yield* waitUntil("connected", () => client.named.some((n) => n.name === "connected"))
      yield* postEvents(vigil.url, [
        cloudEvent({ type: "vm.started", severity: "critical", node: "pve1" }),
        cloudEvent({ type: "vm.started", severity: "critical", node: "pve2" }),
        cloudEvent({ type: "vm.end", severity: "critical", node: "pve1" })
      ])
      // Streams keep order: once the last event matching the filter is here, nothing else is coming.
      yield* waitUntil("the last event", () => client.events.some((e) => e.event.type === "vm.end"))
      expect(client.events.map((e) => [e.event.type, e.event.severity])).toEqual([
        ["vm.crashed", "error"],
        ["vm.started", "critical"],
        ["vm.end", "critical"]
      ])
      client.close()
    }))

  it.scopedLive("a stalled client is cut off with a lagged frame while 50 others receive everything", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_MAX_BUFFERED_BYTES: "262144" })
      const clients = Array.from({ length: 50 }, () => openSse(vigil.url, "?backfill=0"))
      yield* waitUntil("50 clients connected", () => clients.every((c) => c.named.some((n) => n.name === "connected")))

      // A raw HTTP client that reads the response head and then stops reading altogether.
      const stalled = new Net.Socket()
      const received: Array<Buffer> = []
      let ended = false
      yield* Effect.promise(() =>
        new Promise<void>((resolve) => {
          stalled.connect(vigil.port, "127.0.0.1", () => {
            stalled.write(`GET /api/v1/events/stream?backfill=0 HTTP/1.1\r\nHost: 127.0.0.1:${vigil.port}\r\nAccept: text/event-stream\r\n\r\n`)
          })
          stalled.once("data", (chunk) => {
            received.push(chunk)
            stalled.pause()
            resolve()
          })
        })
      )
      stalled.on("end", () => (ended = true))
      const sse = () => Effect.map(getJson(`${vigil.url}/api/v1/events/stats`), (r) => r.body.subscribers.sse as number)
      expect(yield* sse()).toBe(51)

      // 1000 events of 8 KiB: more than the stalled socket's kernel buffers absorb (loopback
      // buffers autotune to several MiB).
      const accepted = yield* burst(vigil.url, 4, 25, 10, { type: "big.event", data: "x".repeat(8192) })
      yield* waitUntil("every healthy client got every event", () =>
        clients.every((c) => c.events.length === accepted.length), 60_000)
      for (const c of clients) {
        assertStrictlyIncreasing(c.events)
        expect(c.events.map((e) => e.sequence)).toEqual(accepted)
      }
      expect(yield* sse()).toBe(50)

      // When it finally reads, it finds the events it had buffered, then the lagged frame.
      stalled.on("data", (chunk) => received.push(chunk))
      stalled.resume()
      yield* waitUntil("the stalled connection ended", () => ended, 20_000)
      const text = Buffer.concat(received).toString("utf8")
      const lagged = text.match(/event: lagged\ndata: (.*)\n\n/)
      expect(lagged).not.toBeNull()
      const { lastSequence } = JSON.parse(lagged![1]!)
      const delivered = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
      expect(lastSequence).toBe(delivered.at(-1))
      expect(delivered.length).toBeLessThan(accepted.length)
      for (const c of clients) c.close()
      stalled.destroy()
    }))
})

describe("the stream's head", () => {
  it("is a 200 with every header given, closing the connection, and leaves out a header that would break its lines", () => {
    const head = new TextDecoder().decode(streamHead({
      "content-type": "text/event-stream; charset=utf-8",
      "x-injected": "a\r\nset-cookie: b=c",
      "bad:name": "v",
      "cache-control": "no-cache"
    }))
    expect(head).toBe("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n")
  })
})
