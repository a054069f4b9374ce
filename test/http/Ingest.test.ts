import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { cloudEvent, getJson, postEvents, startVigil } from "../support/Vigil.js"

describe("POST /api/v1/events", () => {
  it.scopedLive("answers one result per item: accepted with its sequence, duplicate, or rejected with the path", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const a = cloudEvent({ type: "vm.crashed", node: "pve1", data: { vmid: 101 } })
      const answer = yield* postEvents(vigil.url, [a, a, { ...cloudEvent(), time: "noon" }, cloudEvent({ severity: "error" })])
      expect(answer.status).toBe(200)
      expect(answer.body.accepted).toBe(2)
      expect(answer.body.duplicates).toBe(1)
      expect(answer.body.rejected).toBe(1)
      const [first, dup, bad, last] = answer.body.results
      expect(first).toMatchObject({ index: 0, status: "accepted", id: a.id, source: "test" })
      expect(dup).toEqual({ ...first, index: 1, status: "duplicate" })
      expect(bad).toMatchObject({ index: 2, status: "rejected", path: "time" })
      expect(last.sequence).toBeGreaterThan(first.sequence)
    }))

  it.scopedLive("stores an event retried in a later request once, and answers with the original sequence", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const event = cloudEvent()
      const answers = yield* Effect.all(Array.from({ length: 8 }, () => postEvents(vigil.url, event)), {
        concurrency: "unbounded"
      })
      const sequences = new Set(answers.map((a) => a.body.results[0].sequence))
      expect(sequences.size).toBe(1)
      expect(answers.filter((a) => a.body.accepted === 1)).toHaveLength(1)
      const stored = yield* getJson(`${vigil.url}/api/v1/events?source=test`)
      expect(stored.body.filter((e: any) => e.id === event.id)).toHaveLength(1)
    }))

  it.scopedLive("accepts a single object and the CloudEvents batch media type", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const one = yield* postEvents(vigil.url, cloudEvent(), { "content-type": "application/cloudevents+json" })
      const batch = yield* postEvents(vigil.url, [cloudEvent(), cloudEvent()], {
        "content-type": "application/cloudevents-batch+json; charset=utf-8"
      })
      expect([one.status, one.body.accepted, batch.status, batch.body.accepted]).toEqual([200, 1, 200, 2])
    }))

  const tooMany = Array.from({ length: 1001 }, () => cloudEvent())
  const cases: ReadonlyArray<[string, string | unknown, Record<string, string>, number, string]> = [
    ["not JSON", "{nope", {}, 400, "not valid JSON"],
    ["empty body", "", {}, 400, "body is empty"],
    ["an empty array", [], {}, 400, "empty array"],
    ["more than 1000 events", tooMany, {}, 400, "at most 1000"],
    ["a JSON number", 42, {}, 400, "each event must be a JSON object"],
    ["a missing type", { specversion: "1.0", id: "x", source: "s" }, {}, 400, "type is required"],
    ["a wrong specversion", { ...cloudEvent(), specversion: "2.0" }, {}, 400, "specversion"],
    ["a source that is not a URI-reference", { ...cloudEvent(), source: "has spaces" }, {}, 400, "source must be a URI-reference"],
    ["a bad severity", { ...cloudEvent(), severity: "loud" }, {}, 400, "severity"],
    ["an XML body", "<event/>", { "content-type": "application/xml" }, 415, "application/xml is not accepted"]
  ]

  it.scopedLive("refuses every malformed body with a 4xx that names the problem, and stores nothing", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const before = yield* getJson(`${vigil.url}/api/v1/events/stats`)
      for (const [label, body, headers, status, message] of cases) {
        const answer = yield* postEvents(vigil.url, body, headers)
        expect(answer.status, label).toBe(status)
        expect(answer.body.message, label).toContain(message)
      }
      const after = yield* getJson(`${vigil.url}/api/v1/events/stats`)
      expect(after.body.total).toBe(before.body.total)
    }))

  it.scopedLive("refuses a body over the limit with 413", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_MAX_BODY_BYTES: "2048" })
      const big = cloudEvent({ data: "x".repeat(4096) })
      const answer = yield* postEvents(vigil.url, big)
      expect(answer.status).toBe(413)
      expect(answer.body.message).toContain("2048 bytes")
      // Chunked, so the limit is enforced while reading, not from Content-Length.
      const chunked = yield* Effect.promise(async () => {
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(JSON.stringify(big)))
            controller.close()
          }
        })
        const response = await fetch(`${vigil.url}/api/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          duplex: "half"
        } as RequestInit)
        return response.status
      })
      expect(chunked).toBe(413)
    }))
})

describe("GET /api/v1/events", () => {
  it.scopedLive("lists recent events newest first with type, severity, node, source and sequence filters", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      yield* postEvents(vigil.url, [
        cloudEvent({ type: "vm.crashed", severity: "error", node: "pve1" }),
        cloudEvent({ type: "vm.started", severity: "info", node: "pve2" }),
        cloudEvent({ type: "node.offline", severity: "critical", node: "pve1" }),
        cloudEvent({ type: "vmx.other", severity: "warning", source: "other" })
      ])
      const types = (body: Array<any>) => body.map((e) => e.type)
      const q = (query: string) => Effect.map(getJson(`${vigil.url}/api/v1/events?${query}`), (r) => r.body)
      expect(types(yield* q("type=vm.*"))).toEqual(["vm.started", "vm.crashed"])
      expect(types(yield* q("type=vm.crashed,node.*"))).toEqual(["node.offline", "vm.crashed"])
      expect(types(yield* q("severity=error&source=test"))).toEqual(["node.offline", "vm.crashed"])
      expect(types(yield* q("node=pve1&limit=1"))).toEqual(["node.offline"])
      expect(types(yield* q("source=other"))).toEqual(["vmx.other"])
      const all = yield* q("source=test")
      const middle = all[1].sequence
      expect(types(yield* q(`source=test&before=${middle}`))).toEqual(["vm.crashed"])
      expect(types(yield* q(`source=test&after=${middle}`))).toEqual(["node.offline"])
    }))

  it.scopedLive("refuses bad query parameters with a 400 naming the parameter", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      for (const [query, name] of [["limit=0", "limit"], ["limit=5000", "limit"], ["after=-1", "after"], ["severity=loud", "severity"], ["before=x", "before"]]) {
        const answer = yield* getJson(`${vigil.url}/api/v1/events?${query}`)
        expect(answer.status, query).toBe(400)
        expect(JSON.stringify(answer.body.issues), query).toContain(`"${name}"`)
      }
    }))
})

describe("GET /api/v1/events/stats and /api/v1/health", () => {
  it.scopedLive("count by type and severity, recent windows, sequence range and subscribers", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      yield* postEvents(vigil.url, [cloudEvent({ type: "a", severity: "error" }), cloudEvent({ type: "a" }), cloudEvent({ type: "b" })])
      const stats = (yield* getJson(`${vigil.url}/api/v1/events/stats`)).body
      expect(stats.byType).toMatchObject({ a: 2, b: 1, "system.online": 1 })
      expect(stats.bySeverity).toMatchObject({ error: 1, info: 3 })
      expect(stats.total).toBe(4)
      expect(stats.lastMinute).toBe(4)
      expect(stats.lastHour).toBe(4)
      expect(stats.firstSequence).toBe(1)
      expect(stats.lastSequence).toBe(4)
      // The remediation engine and the notifications follow the stream too, as internal subscribers.
      expect(stats.subscribers).toEqual({ sse: 0, ws: 0, internal: 2, total: 2 })
      const health = (yield* getJson(`${vigil.url}/api/v1/health`)).body
      expect(health).toMatchObject({ status: "ok", store: { reachable: true, dialect: "sqlite" }, subscribers: 2 })
      expect(health.version).toMatch(/^\d+\.\d+\.\d+/)
    }))

  it.scopedLive("serves the OpenAPI document and the docs page", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const openapi = yield* getJson(`${vigil.url}/api/openapi.json`)
      expect(openapi.status).toBe(200)
      expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining([
        "/api/v1/health",
        "/api/v1/events",
        "/api/v1/events/stats",
        "/api/v1/events/stream",
        "/api/v1/events/ws"
      ]))
      const docs = yield* Effect.promise(() => fetch(`${vigil.url}/docs`).then((r) => r.text()))
      expect(docs).toContain("<html")
    }))
})
