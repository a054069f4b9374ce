import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { assertStrictlyIncreasing, openWs, waitUntil } from "../support/Clients.js"
import { cloudEvent, getJson, postEvents, startVigil } from "../support/Vigil.js"

describe("GET /api/v1/events/ws (WebSocket)", () => {
  it.scopedLive("sends connected, replays after the query's last_event_id, then follows live", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      yield* postEvents(vigil.url, [cloudEvent(), cloudEvent()])
      const client = openWs(vigil.url, "?last_event_id=1")
      yield* Effect.promise(() => client.opened)
      yield* waitUntil("replayed", () => client.events().length >= 2)
      yield* postEvents(vigil.url, [cloudEvent({ type: "live.one" })])
      yield* waitUntil("live", () => client.events().length >= 3)
      expect(client.messages[0]).toMatchObject({ type: "connected", data: { resumeAfter: 1 } })
      expect(client.events().map((e) => e.sequence)).toEqual([2, 3, 4])
      expect(client.events()[2]!.event.type).toBe("live.one")
      expect((yield* getJson(`${vigil.url}/api/v1/events/stats`)).body.subscribers.ws).toBe(1)
      client.socket.close()
    }))

  it.scopedLive("a subscribe message replaces the subscription with its filter and resume point", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      yield* postEvents(vigil.url, [
        cloudEvent({ type: "vm.crashed", node: "pve1" }),
        cloudEvent({ type: "ct.crashed", node: "pve1" }),
        cloudEvent({ type: "vm.crashed", node: "pve2" })
      ])
      const client = openWs(vigil.url, "?backfill=0")
      yield* Effect.promise(() => client.opened)
      client.socket.send(JSON.stringify({ type: "subscribe", filter: { type: "vm.*", node: "pve1" }, after: 0 }))
      yield* waitUntil("replayed", () => client.events().length >= 1)
      yield* postEvents(vigil.url, [
        cloudEvent({ type: "vm.started", node: "pve1" }),
        cloudEvent({ type: "ct.started", node: "pve1" }),
        cloudEvent({ type: "vm.end", node: "pve1" })
      ])
      // In order: once the last matching event is here, nothing skipped is still coming.
      yield* waitUntil("live", () => client.events().some((e) => e.event.type === "vm.end"))
      expect(client.events().map((e) => e.event.type)).toEqual(["vm.crashed", "vm.started", "vm.end"])
      assertStrictlyIncreasing(client.events())
      client.socket.close()
    }))

  it.scopedLive("answers a malformed client message with an error message naming the problem, and stays open", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const client = openWs(vigil.url)
      yield* Effect.promise(() => client.opened)
      client.socket.send(JSON.stringify({ type: "subscribe", after: -5 }))
      client.socket.send("not json")
      client.socket.send(JSON.stringify({ type: "ping" }))
      yield* waitUntil("answers", () => client.messages.some((m) => m.type === "pong"))
      const errors = client.messages.filter((m) => m.type === "error")
      expect(errors).toHaveLength(2)
      expect(errors[0].data.message).toContain("after")
      expect(client.socket.readyState).toBe(client.socket.OPEN)
      client.socket.close()
    }))

  it.scopedLive("pings, keeps a client that answers, and closes one that does not", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_WS_PING_INTERVAL: "150 millis" })
      const answering = openWs(vigil.url)
      const silent = openWs(vigil.url, "", { answerPings: false })
      const closed = yield* Effect.promise(() => silent.closed)
      expect(closed.code).toBe(4000)
      expect(silent.messages.filter((m) => m.type === "ping").length).toBeGreaterThanOrEqual(1)
      // Several pings later, the client that answers them is still connected.
      yield* waitUntil("three pings", () => answering.messages.filter((m) => m.type === "ping").length >= 3)
      expect(answering.socket.readyState).toBe(answering.socket.OPEN)
      answering.socket.close()
    }))

  it.scopedLive("a client that stops reading is cut off with lagged (4001) while others receive everything", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_MAX_BUFFERED_BYTES: "65536" })
      const healthy = Array.from({ length: 10 }, () => openWs(vigil.url, "?backfill=0"))
      const stalled = openWs(vigil.url, "?backfill=0")
      yield* Effect.promise(() => Promise.all([...healthy, stalled].map((c) => c.opened)))
      yield* waitUntil("all connected", () => [...healthy, stalled].every((c) => c.messages.length > 0))
      // Stop reading from the socket: the kernel buffers fill, then the server's.
      ;(stalled.socket as any)._socket.pause()
      const batches = yield* Effect.forEach(Array.from({ length: 40 }), () =>
        postEvents(vigil.url, Array.from({ length: 25 }, () => cloudEvent({ data: "y".repeat(8192) }))))
      const accepted = batches.flatMap((b) => b.body.results.map((r: any) => r.sequence))
      yield* waitUntil("healthy clients got everything", () => healthy.every((c) => c.events().length === accepted.length), 60_000)
      for (const c of healthy) expect(c.events().map((e) => e.sequence)).toEqual(accepted)
      ;(stalled.socket as any)._socket.resume()
      const closed = yield* Effect.promise(() => stalled.closed)
      expect(closed.code).toBe(4001)
      const lagged = stalled.messages.find((m) => m.type === "lagged")
      expect(lagged.data.lastSequence).toBe(stalled.events().at(-1)!.sequence)
      for (const c of healthy) c.socket.close()
    }))
})
