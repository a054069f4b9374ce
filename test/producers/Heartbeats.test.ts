import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { EventRepo } from "../../src/store/EventRepo.js"
import { everything, makeFilter } from "../../src/domain/EventFilter.js"
import { Incidents } from "../../src/store/Incidents.js"
import { Heartbeats } from "../../src/producers/Heartbeats.js"
import { Leadership } from "../../src/scale/Leadership.js"
import { TestBackbone } from "../support/Backbone.js"
import { openSse, waitUntil } from "../support/Clients.js"
import { getJson, startVigil } from "../support/Vigil.js"

const HeartbeatsTest = Heartbeats.Default.pipe(
  Layer.provideMerge(Layer.merge(Incidents.Default, Leadership.Default)),
  Layer.provideMerge(TestBackbone({ VIGIL_HEARTBEAT_TTL: "30 seconds", VIGIL_HEARTBEAT_TTLS: '{"worker":"5 seconds"}' }))
)

const stored = (type: string) =>
  Effect.flatMap(EventRepo, (repo) => repo.recent(makeFilter({ type }), {}, 100))

describe("producer liveness (TestClock)", () => {
  it.scoped("a producer silent past its TTL is lost once, and recovered once when it beats again", () =>
    Effect.gen(function*() {
      const heartbeats = yield* Heartbeats
      yield* heartbeats.beat("agent", "planner-1", "ok", { tasks: 2 })
      yield* TestClock.adjust("25 seconds")
      expect(yield* stored("agent.lost")).toHaveLength(0)
      yield* TestClock.adjust("10 seconds")
      const [lost] = yield* stored("agent.lost")
      expect(lost?.subject).toBe("agent/planner-1")
      yield* TestClock.adjust("2 minutes")
      expect(yield* stored("agent.lost")).toHaveLength(1)
      const incidents = yield* Effect.flatMap(Incidents, (i) => i.list({ status: "open" }))
      expect(incidents.map((i) => i.key)).toEqual(["AGENT_LOST:agent/planner-1"])

      const again = yield* heartbeats.beat("agent", "planner-1", "ok", undefined)
      expect(again.recovered).toBe(true)
      expect(yield* stored("agent.recovered")).toHaveLength(1)
      expect(yield* Effect.flatMap(Incidents, (i) => i.list({ status: "open" }))).toEqual([])
      // Beats themselves are never stored.
      const all = yield* Effect.flatMap(EventRepo, (repo) => repo.recent(everything, {}, 100))
      expect(all.map((e) => e.type).sort()).toEqual(["agent.lost", "agent.recovered"])
    }).pipe(Effect.provide(HeartbeatsTest)))

  it.scoped("each kind has its own TTL", () =>
    Effect.gen(function*() {
      const heartbeats = yield* Heartbeats
      yield* heartbeats.beat("worker", "w1", "ok", undefined)
      yield* heartbeats.beat("agent", "a1", "ok", undefined)
      yield* TestClock.adjust("8 seconds")
      expect((yield* stored("agent.lost")).map((e) => e.subject)).toEqual(["worker/w1"])
      const list = yield* heartbeats.list
      expect(list.map((p) => [p.kind, p.id, p.lost])).toEqual([["agent", "a1", false], ["worker", "w1", true]])
    }).pipe(Effect.provide(HeartbeatsTest)))
})

describe("POST /api/v1/heartbeats/{kind}/{id}", () => {
  it.scopedLive("reaches a connected SSE client at once as a heartbeat frame, without touching the store", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_HEARTBEAT_INTERVAL: "1 hour" })
      const client = openSse(vigil.url, "?backfill=0")
      yield* waitUntil("the hub heartbeat on connect", () => client.heartbeats.length === 1)
      expect(client.heartbeats[0]).toMatchObject({ type: "hub", online: {}, ids: {} })
      const before = (yield* getJson(`${vigil.url}/api/v1/events/stats`)).body.total
      const answer = yield* Effect.promise(() =>
        fetch(`${vigil.url}/api/v1/heartbeats/worker/gpu-7`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ status: "busy", details: { queue: 3 } })
        }).then(async (r) => ({ status: r.status, body: await r.json() }))
      )
      expect(answer).toEqual({ status: 202, body: { kind: "worker", id: "gpu-7", status: "busy", recovered: false } })
      yield* waitUntil("the worker's beat", () => client.heartbeats.length === 2)
      expect(client.heartbeats[1]).toMatchObject({ type: "worker", id: "gpu-7", status: "busy", details: { queue: 3 } })
      expect((yield* getJson(`${vigil.url}/api/v1/events/stats`)).body.total).toBe(before)
      const list = (yield* getJson(`${vigil.url}/api/v1/heartbeats`)).body
      expect(list).toEqual([expect.objectContaining({ kind: "worker", id: "gpu-7", status: "busy", alive: true })])
      client.close()
    }))

  it.scopedLive("the hub beats on its interval with who is online per kind", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_HEARTBEAT_INTERVAL: "100 millis" })
      yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/heartbeats/hive/h1`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }))
      const client = openSse(vigil.url, "?backfill=0")
      yield* waitUntil("hub beats", () => client.heartbeats.filter((h) => h.type === "hub").length >= 3)
      expect(client.heartbeats.at(-1)).toMatchObject({ type: "hub", online: { hive: 1 }, ids: { hive: ["h1"] } })
      client.close()
    }))

  it.scopedLive("refuses a bad kind or id with a 400 naming it", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      for (const [path, name] of [["Worker/x", "kind"], ["worker/has%20space", "id"]] as const) {
        const r = yield* Effect.promise(() =>
          fetch(`${vigil.url}/api/v1/heartbeats/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
            .then(async (r) => ({ status: r.status, body: await r.json() as any }))
        )
        expect(r.status, path).toBe(400)
        expect(JSON.stringify(r.body.issues), path).toContain(`"${name}"`)
      }
    }))
})
