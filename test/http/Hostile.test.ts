/**
 * Each defect found by probing vigil as an attacker would, reproduced against a real server on
 * loopback with real clients, and the class it belongs to closed.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Net from "node:net"
import WebSocket from "ws"
import { EventBus } from "../../src/bus/EventBus.js"
import { followDurably } from "../../src/bus/DurableFollower.js"
import { makeEvent } from "../../src/domain/Event.js"
import { makeFilter } from "../../src/domain/EventFilter.js"
import { freshDatabase } from "../support/Postgres.js"
import { openWs, waitUntil } from "../support/Clients.js"
import { cloudEvent, getJson, postEvents, startVigil } from "../support/Vigil.js"
import { eventually } from "../support/Eventually.js"

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

/** A deeply nested JSON text, built as text (JSON.stringify itself overflows on it). */
const deepText = (depth: number) => "[".repeat(depth) + "1" + "]".repeat(depth)

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

const send = (url: string, path: string, init: RequestInit = {}) =>
  Effect.promise(async (): Promise<Answer> => {
    const response = await fetch(`${url}${path}`, init)
    const text = await response.text()
    let body: any = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, headers: response.headers, body }
  })

const json = (body: string, extra: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...extra },
  body
})

/** Sends raw bytes and reads the status line: for requests fetch will not make (a foreign Host). */
const rawStatus = (port: number, request: string) =>
  Effect.promise(() =>
    new Promise<number>((resolve, reject) => {
      const socket = Net.connect(port, "127.0.0.1", () => socket.write(request))
      let head = ""
      socket.on("data", (chunk) => {
        head += chunk.toString("latin1")
        const m = /^HTTP\/1\.1 (\d{3})/.exec(head)
        if (m) {
          socket.destroy()
          resolve(Number(m[1]))
        }
      })
      socket.on("error", reject)
    })
  )

const alive = (url: string) => Effect.map(getJson(`${url}/api/v1/health`), (r) => r.status)

describe("hostile input", () => {
  it.scopedLive("1. a WebSocket subscribe with a filter nested 3,000 deep gets an error answer; the process and the connection live on", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const client = openWs(vigil.url, "?backfill=0")
      yield* Effect.promise(() => client.opened)
      client.socket.send(`{"type":"subscribe","filter":${deepText(3000)}}`)
      client.socket.send(JSON.stringify({ type: "subscribe", filter: { type: "x" }, after: 0 }).replace('"x"', `"${"\\ud83d"}"`))
      client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: true })
      client.socket.send(JSON.stringify({ type: "subscribe", filter: { type: Array.from({ length: 1100 }, (_, i) => `t${i}`).join(",") } }))
      client.socket.send(JSON.stringify({ type: "ping" }))
      yield* waitUntil("the ping is answered", () => client.messages.some((m) => m.type === "pong"))
      const errors = client.messages.filter((m) => m.type === "error").map((m) => m.data.message as string)
      expect(errors).toHaveLength(4)
      expect(errors[0]).toContain("deeper than 32 levels")
      expect(errors[1]).toContain("lone surrogate")
      expect(errors[2]).toContain("UTF-8")
      expect(errors[3]).toContain("at most 32 type patterns")
      expect(client.socket.readyState).toBe(client.socket.OPEN)
      expect(yield* alive(vigil.url)).toBe(200)
      client.socket.close()
    }))

  it.scopedLive("1. a WebSocket message over the size limit is refused by name, not read", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_MAX_JSON_BYTES: "1024" })
      const client = openWs(vigil.url, "?backfill=0")
      yield* Effect.promise(() => client.opened)
      client.socket.send(JSON.stringify({ type: "subscribe", filter: { node: "x".repeat(4000) } }))
      yield* waitUntil("refused", () => client.messages.some((m) => m.type === "error"))
      expect(client.messages.find((m) => m.type === "error").data.message).toContain("1024 bytes (VIGIL_MAX_JSON_BYTES)")
      client.socket.close()
    }))

  it.scopedLive("1. a WebSocket message of 10 MB is never held: the connection closes with 1009 and vigil answers on", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const client = openWs(vigil.url, "?backfill=0")
      yield* Effect.promise(() => client.opened)
      client.socket.send("x".repeat(10 * 1024 * 1024))
      expect((yield* Effect.promise(() => client.closed)).code).toBe(1009)
      expect(yield* alive(vigil.url)).toBe(200)
      const next = openWs(vigil.url, "?backfill=0")
      yield* Effect.promise(() => next.opened)
      next.socket.close()
    }))

  it.scopedLive("2. an agent.lost with data null is refused at ingest, and one already stored stops no notification", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const refused = yield* postEvents(vigil.url, cloudEvent({ type: "agent.lost", data: null }))
      expect(refused.status).toBe(400)
      expect(refused.body.results[0]).toMatchObject({ status: "rejected", path: "data" })
      // A producer cannot forge what vigil emits itself.
      const forged = yield* postEvents(vigil.url, cloudEvent({ type: "remediation.succeeded", source: "vigil/remediation", data: { incident: "x" } }))
      expect(forged.body.results[0]).toMatchObject({ status: "rejected", path: "source" })

      // One stored before the check existed (written straight to the bus, as an old version did).
      yield* vigil.use(Effect.flatMap(EventBus, (bus) =>
        bus.publish([
          { ...makeEvent({ type: "agent.lost", severity: "warning" }), data: "null" },
          { ...makeEvent({ type: "agent.lost", severity: "warning" }), data: "[1,2]" }
        ])))
      yield* postEvents(vigil.url, cloudEvent({ type: "system.warning", data: { title: "disk almost full" } }))
      const titles = yield* eventually(
        "the later warning is notified",
        Effect.map(getJson(`${vigil.url}/api/v1/notifications`), (r) => r.body.map((n: any) => n.title) as Array<string>),
        (t) => t.includes("disk almost full")
      )
      expect(titles).toEqual(["disk almost full", "agent.lost", "agent.lost"])
    }))

  it.scopedLive("2. a consumer moves past a record it cannot handle, says why, and an admin sees it", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const handled: Array<string> = []
      yield* followDurably({
        consumer: "probe",
        filter: makeFilter({ type: "probe.*" }),
        handledThrough: Effect.succeed(undefined),
        handle: (event) => (event.type === "probe.poison" ? Effect.die(new Error("cannot read this one")) : Effect.sync(() => handled.push(event.id)))
      }).pipe(Effect.provide(vigil.context))
      yield* postEvents(vigil.url, [cloudEvent({ type: "probe.ok", id: "a" }), cloudEvent({ type: "probe.poison", id: "b" }), cloudEvent({ type: "probe.ok", id: "c" })])
      yield* waitUntil("both good records handled", () => handled.length === 2)
      expect(handled).toEqual(["a", "c"])
      const letters = yield* getJson(`${vigil.url}/api/v1/dead-letters?consumer=probe`)
      expect(letters.status).toBe(200)
      expect(letters.body).toEqual([expect.objectContaining({ consumer: "probe", type: "probe.poison", eventId: "b", attempts: 1 })])
      expect(letters.body[0].error).toContain("cannot read this one")
    }))

  it.scopedLive("3. JSON nested 10,000 deep answers 400 naming the limit, wherever it is sent", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const deep = deepText(10_000)
      const bodies: ReadonlyArray<readonly [string, string]> = [
        ["/api/v1/events", `{"specversion":"1.0","id":"d","source":"/x","type":"t","data":${deep}}`],
        ["/api/v1/events", `{"specversion":"1.0","id":"d","source":"/x","type":"t","subject":${deep}}`],
        ["/api/v1/heartbeats/worker/w1", `{"details":{"a":${deep}}}`],
        ["/api/v1/proposals/p1/approve", `{"by":${deep}}`],
        ["/api/v1/tokens", deep]
      ]
      for (const [path, body] of bodies) {
        const answer = yield* send(vigil.url, path, json(body))
        expect(answer.status, path).toBe(400)
        expect(answer.body.message, path).toContain("nests deeper than 32 levels")
      }
      // Shallow enough to parse, still the wrong shape: a 400 with the field, never a 500.
      const by = yield* send(vigil.url, "/api/v1/proposals/p1/approve", json(JSON.stringify({ by: nested(20) })))
      expect(by.status).toBe(400)
      expect(JSON.stringify(by.body)).toContain("by")
      expect(yield* alive(vigil.url)).toBe(200)
    }))

  it.scopedLive("4. a heartbeat with deep or large details is refused, and the producer list keeps answering", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const deep = yield* send(vigil.url, "/api/v1/heartbeats/worker/w1", json(`{"details":{"a":${deepText(100)}}}`))
      expect(deep.status).toBe(400)
      const large = yield* send(vigil.url, "/api/v1/heartbeats/worker/w2", json(JSON.stringify({ details: { blob: "x".repeat(9000) } })))
      expect(large.status).toBe(400)
      expect(JSON.stringify(large.body)).toContain("at most 8192 bytes")
      const fine = yield* send(vigil.url, "/api/v1/heartbeats/worker/w3", json(JSON.stringify({ details: { queue: 3, deep: nested(10) } })))
      expect(fine.status).toBe(202)
      const list = yield* getJson(`${vigil.url}/api/v1/heartbeats`)
      expect(list.status).toBe(200)
      expect(list.body.map((p: any) => p.id)).toEqual(["w3"])
    }))

  it.scopedLive("5. more type patterns than the limit answer 400 naming the parameter, on queries and streams", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const types = Array.from({ length: 1100 }, (_, i) => `type${i}.*`).join(",")
      for (const path of ["/api/v1/events", "/api/v1/events/stream"]) {
        const answer = yield* send(vigil.url, `${path}?type=${types}`)
        expect(answer.status, path).toBe(400)
        expect(JSON.stringify(answer.body), path).toContain("at most 32 type patterns")
        expect(JSON.stringify(answer.body.issues), path).toContain('"type"')
      }
      const most = Array.from({ length: 32 }, (_, i) => `type${i}.*`).join(",")
      expect((yield* send(vigil.url, `/api/v1/events?type=${most}`)).status).toBe(200)
    }))

  for (const dialect of ["sqlite", "pg"] as const) {
    it.scopedLive(`6. an id with a lone surrogate or a control character is refused by path, and its batch's good events are stored (${dialect})`, () =>
      Effect.gen(function*() {
        const env = dialect === "pg" ? { VIGIL_DATABASE_URL: (yield* freshDatabase).url } : {}
        const vigil = yield* startVigil(env)
        const good = cloudEvent({ id: "good-1" })
        const body = `[${JSON.stringify(good)},{"specversion":"1.0","id":"lone-\\ud83d","source":"/x","type":"t"},` +
          `{"specversion":"1.0","id":"nul-\\u0000","source":"/x","type":"t"},` +
          `{"specversion":"1.0","id":"pair-\\ud83d\\ude00","source":"/x","type":"t","data":{"k\\udc00":1}}]`
        const answer = yield* send(vigil.url, "/api/v1/events", json(body))
        expect(answer.status).toBe(200)
        expect(answer.body.results.map((r: any) => [r.status, r.path ?? null])).toEqual([
          ["accepted", null],
          ["rejected", "id"],
          ["rejected", "id"],
          ["rejected", "data.k\udc00"]
        ])
        // A well-formed pair is fine, and comes back as it was sent.
        const pair = yield* postEvents(vigil.url, { specversion: "1.0", id: "pair-😀", source: "/x", type: "t" })
        expect(pair.body.accepted).toBe(1)
        const stored = (yield* getJson(`${vigil.url}/api/v1/events?source=/x`)).body
        expect(stored.map((e: any) => e.id)).toEqual(["pair-😀"])
      }))
  }

  it.scopedLive("7. bodies outside ingest are bounded: a 10 MB heartbeat or token request gets 413", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const big = JSON.stringify({ details: { blob: "x".repeat(10 * 1024 * 1024) } })
      for (const path of ["/api/v1/heartbeats/worker/w1", "/api/v1/tokens", "/api/v1/proposals/p/approve"]) {
        const answer = yield* send(vigil.url, path, json(big))
        expect(answer.status, path).toBe(413)
        expect(answer.body.message, path).toContain("65536 bytes (VIGIL_MAX_JSON_BYTES)")
      }
      expect((yield* getJson(`${vigil.url}/api/v1/heartbeats`)).body).toEqual([])
    }))

  it.scopedLive("8. every answer carries the security headers, errors included", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on" })
      const cases: ReadonlyArray<readonly [number, string, RequestInit]> = [
        [400, "/api/v1/events?limit=0", { headers: { authorization: "Bearer nope" } }],
        [401, "/api/v1/events", {}],
        [404, "/no/such/route", {}],
        [413, "/api/v1/tokens", json(JSON.stringify({ user: "x".repeat(100_000) }))],
        [415, "/api/v1/events", { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" }],
        [200, "/api/v1/health", {}],
        [200, "/", {}]
      ]
      for (const [status, path, init] of cases) {
        const answer = yield* send(vigil.url, path, init)
        if (status !== 400) expect(answer.status, path).toBe(status)
        expect(answer.headers.get("x-content-type-options"), path).toBe("nosniff")
        expect(answer.headers.get("x-frame-options"), path).toBe("DENY")
        expect(answer.headers.get("referrer-policy"), path).toBe("no-referrer")
        expect(answer.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'")
      }
      // 403 from a token without the scope, once one exists.
      const token = yield* vigil.use(Effect.flatMap(
        (yield* Effect.promise(() => import("../../src/access/Tokens.js"))).Tokens,
        (tokens) => tokens.create({ user: "r", scopes: ["read"] })
      ))
      const forbidden = yield* send(vigil.url, "/api/v1/tokens", { headers: { authorization: `Bearer ${token.token}` } })
      expect(forbidden.status).toBe(403)
      expect(forbidden.headers.get("x-content-type-options")).toBe("nosniff")
    }))

  it.scopedLive("9. a web page cannot reach a loopback vigil: foreign Origin, simple content types, foreign Host", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const evil = "https://evil.example"
      // A WebSocket opened by a foreign page is refused before it upgrades.
      const refused = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          const ws = new WebSocket(`${vigil.url.replace("http", "ws")}/api/v1/events/ws`, { origin: evil })
          ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))
          ws.on("open", () => resolve(101))
          ws.on("error", () => {})
        })
      )
      expect(refused).toBe(403)
      // The requests a page sends without a CORS preflight.
      const textPlain = yield* send(vigil.url, "/api/v1/events", { method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify(cloudEvent()) })
      expect(textPlain.status).toBe(415)
      const form = yield* send(vigil.url, "/api/v1/proposals/p1/approve", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "by=mallory" })
      expect(form.status).toBe(415)
      const killSwitch = yield* send(vigil.url, "/api/v1/remediation/kill-switch", { method: "POST", headers: { origin: evil } })
      expect(killSwitch.status).toBe(403)
      expect(killSwitch.body.message).toContain("Origin https://evil.example")
      const nullOrigin = yield* send(vigil.url, "/api/v1/events", json(JSON.stringify(cloudEvent()), { origin: "null" }))
      expect(nullOrigin.status).toBe(403)
      // DNS rebinding: the page's own name, resolved to 127.0.0.1.
      expect(yield* rawStatus(vigil.port, "GET /api/v1/events HTTP/1.1\r\nHost: evil.example:7070\r\n\r\n")).toBe(421)
      expect(yield* rawStatus(vigil.port, `GET /api/v1/events HTTP/1.1\r\nHost: localhost:${vigil.port}\r\n\r\n`)).toBe(200)
      // Nothing was stored or changed, and the HUD's own same-origin requests still work.
      expect((yield* getJson(`${vigil.url}/api/v1/events/stats`)).body.total).toBe(1)
      expect((yield* getJson(`${vigil.url}/api/v1/remediation`)).body.cap).toBe(4)
      const own = yield* send(vigil.url, "/api/v1/events", json(JSON.stringify(cloudEvent()), { origin: vigil.url }))
      expect(own.status).toBe(200)
      const ws = new WebSocket(`${vigil.url.replace("http", "ws")}/api/v1/events/ws`, { origin: vigil.url })
      yield* Effect.promise(() => new Promise<void>((resolve) => ws.once("open", () => resolve())))
      ws.close()
    }))

  it.scopedLive("9. with authentication on, VIGIL_ALLOWED_HOSTS still pins the names vigil answers to", () =>
    Effect.gen(function*() {
      const open = yield* startVigil({ VIGIL_AUTH: "on" })
      expect(yield* rawStatus(open.port, "GET /api/v1/health HTTP/1.1\r\nHost: vigil.example.lan\r\n\r\n")).toBe(200)
      const pinned = yield* startVigil({ VIGIL_AUTH: "on", VIGIL_ALLOWED_HOSTS: "vigil.example.lan" })
      expect(yield* rawStatus(pinned.port, "GET /api/v1/health HTTP/1.1\r\nHost: vigil.example.lan:7070\r\n\r\n")).toBe(200)
      expect(yield* rawStatus(pinned.port, "GET /api/v1/health HTTP/1.1\r\nHost: other.example\r\n\r\n")).toBe(421)
    }))
})
