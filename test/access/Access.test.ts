import * as HttpApi from "@effect/platform/HttpApi"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import { accessConfig } from "../../src/access/AccessConfig.js"
import { RequireAdmin, RequireIngest, RequireRead } from "../../src/api/Security.js"
import type { Scope } from "../../src/domain/Token.js"
import { Tokens } from "../../src/access/Tokens.js"
import { VigilApi } from "../../src/api/Api.js"
import { openSse, openWs, waitUntil } from "../support/Clients.js"
import { startVigil } from "../support/Vigil.js"
import { eventually } from "../support/Eventually.js"

interface Route {
  readonly method: string
  readonly path: string
  readonly scope: Scope | undefined
}

/** Every route of the API definition, with the scope its middleware requires. */
const routes = (): Array<Route> => {
  const out: Array<Route> = []
  HttpApi.reflect(VigilApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint, mergedAnnotations: _, middleware }) => {
      const scope = middleware.has(RequireAdmin as never) ? "admin" : middleware.has(RequireIngest as never) ? "ingest" : middleware.has(RequireRead as never) ? "read" : undefined
      out.push({ method: endpoint.method, path: endpoint.path.replace(/:(\w+)/g, (_, name) => (name === "kind" ? "worker" : name === "id" ? "7" : "x")), scope })
    }
  })
  return out
}

const call = (url: string, route: Route, token?: string) =>
  Effect.promise(async () => {
    const headers: Record<string, string> = { "content-type": "application/json" }
    if (token !== undefined) headers.authorization = `Bearer ${token}`
    const init: RequestInit = { method: route.method, headers }
    if (route.method !== "GET" && route.method !== "DELETE") init.body = "{}"
    const response = await fetch(`${url}${route.path}`, init)
    // An admitted stream never ends by itself: the status is all that is needed.
    if (response.status === 200 && route.path.endsWith("/stream")) {
      await response.body?.cancel()
      return { status: response.status, text: "" }
    }
    const text = await response.text()
    return { status: response.status, text }
  })

const withTokens = (vigil: { use: <A, E>(e: Effect.Effect<A, E, any>) => Effect.Effect<A, E> }) =>
  vigil.use(Effect.gen(function*() {
    const tokens = yield* Tokens
    const make = (user: string, scopes: Array<Scope>, expiresAt?: number) =>
      Effect.map(tokens.create({ user, scopes, expiresAt }), (c) => c.token)
    return {
      admin: yield* make("root", ["admin"]),
      read: yield* make("reader", ["read"]),
      ingest: yield* make("writer", ["ingest"]),
      readIngest: yield* make("both", ["read", "ingest"]),
      expired: yield* make("late", ["admin"], Date.now() - 1000),
      tokens
    }
  }))

describe("authentication and scopes", () => {
  it.scopedLive("every protected route refuses no token, a bad token and an expired token (401), and a token without its scope (403)", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on" })
      const t = yield* withTokens(vigil)
      const all = routes()
      expect(all.length).toBeGreaterThan(20)
      const publicRoutes = all.filter((r) => r.scope === undefined).map((r) => r.path)
      expect(publicRoutes).toEqual(["/api/v1/health"])
      const lacking: Record<Scope, string> = { read: t.ingest, ingest: t.read, admin: t.readIngest }
      for (const route of all.filter((r) => r.scope !== undefined)) {
        const label = `${route.method} ${route.path}`
        expect((yield* call(vigil.url, route)).status, `${label} without a token`).toBe(401)
        expect((yield* call(vigil.url, route, "vgl_nope_nope")).status, `${label} with a bad token`).toBe(401)
        const expired = yield* call(vigil.url, route, t.expired)
        expect(expired.status, `${label} with an expired token`).toBe(401)
        expect(expired.text).toContain("expired")
        const forbidden = yield* call(vigil.url, route, lacking[route.scope!])
        expect(forbidden.status, `${label} without the ${route.scope} scope`).toBe(403)
        expect(forbidden.text).toContain(`lacks the ${route.scope} scope`)
        const allowed = yield* call(vigil.url, route, t.admin)
        expect([401, 403], `${label} with an admin token`).not.toContain(allowed.status)
      }
      for (const path of ["/api/v1/health", "/api/openapi.json", "/docs"]) {
        expect((yield* call(vigil.url, { method: "GET", path, scope: undefined })).status, path).toBe(200)
      }
      const openapi = JSON.parse((yield* call(vigil.url, { method: "GET", path: "/api/openapi.json", scope: undefined })).text)
      expect(Object.keys(openapi.components.securitySchemes)).toEqual(expect.arrayContaining(["bearer", "query", "cookie"]))
    }))

  it.scopedLive("streams take the token as a query parameter or a cookie", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on" })
      const t = yield* withTokens(vigil)
      const query = openSse(vigil.url, `?access_token=${t.read}`)
      yield* waitUntil("query token accepted", () => query.named.length > 0)
      query.close()
      const cookie = yield* Effect.promise(() =>
        fetch(`${vigil.url}/api/v1/events?limit=1`, { headers: { cookie: `vigil_token=${t.read}` } }).then((r) => r.status)
      )
      expect(cookie).toBe(200)
      const ws = openWs(vigil.url, `?access_token=${t.read}`)
      yield* waitUntil("ws accepted", () => ws.messages.length > 0)
      ws.socket.close()
    }))

  it.scopedLive("revoking a token ends its open SSE and WebSocket streams", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on", VIGIL_AUTH_RECHECK: "200 millis" })
      const t = yield* withTokens(vigil)
      const victim = yield* vigil.use(Effect.flatMap(Tokens, (tokens) => tokens.create({ user: "mallory", scopes: ["read"] })))
      const sse = openSse(vigil.url, `?access_token=${victim.token}`)
      const ws = openWs(vigil.url, `?access_token=${victim.token}`)
      yield* waitUntil("connected", () => sse.named.length > 0 && ws.messages.length > 0)
      const revoked = yield* Effect.promise(() =>
        fetch(`${vigil.url}/api/v1/tokens/${victim.info.id}`, { method: "DELETE", headers: { authorization: `Bearer ${t.admin}` } }).then((r) => r.status)
      )
      expect(revoked).toBe(200)
      yield* waitUntil("the SSE stream was told", () => sse.named.some((n) => n.name === "revoked"), 5000)
      expect((yield* Effect.promise(() => ws.closed)).code).toBe(4003)
      // The EventSource's reconnection is refused too: a refused reconnection closes it for good.
      yield* waitUntil("the reconnection is refused", () => sse.source.readyState === sse.source.CLOSED, 5000)
      sse.close()

      // A revocation made outside this process (the CLI) is seen at the next recheck.
      const other = yield* vigil.use(Effect.flatMap(Tokens, (tokens) => tokens.create({ user: "eve", scopes: ["read"] })))
      // Two streams on one token: one recheck of the token ends both.
      const [sse2, sse3] = [openSse(vigil.url, `?access_token=${other.token}`), openSse(vigil.url, `?access_token=${other.token}`)]
      yield* waitUntil("connected", () => sse2.named.length > 0 && sse3.named.length > 0)
      yield* vigil.use(Effect.flatMap(Tokens, (tokens) => tokens.revoke(other.info.id)))
      yield* waitUntil("ended at the recheck", () => [sse2, sse3].every((c) => c.named.some((n) => n.name === "revoked")), 5000)
      sse2.close()
      sse3.close()
    }))

  it.scopedLive("limits ingest per token (429 with Retry-After) and open streams per token (429)", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on", VIGIL_INGEST_RATE_LIMIT: "10", VIGIL_MAX_STREAMS_PER_TOKEN: "2" })
      const t = yield* withTokens(vigil)
      const post = (n: number) =>
        Effect.promise(() =>
          fetch(`${vigil.url}/api/v1/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${t.readIngest}`, "content-type": "application/json" },
            body: JSON.stringify(Array.from({ length: n }, (_, i) => ({ specversion: "1.0", id: `r${Math.random()}${i}`, source: "t", type: "rate.test" })))
          }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get("retry-after"), body: await r.json() as any }))
        )
      expect((yield* post(10)).status).toBe(200)
      const limited = yield* post(5)
      expect(limited.status).toBe(429)
      expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1)
      expect(limited.body.message).toContain("rate limit")
      const a = openSse(vigil.url, `?access_token=${t.read}`)
      const b = openSse(vigil.url, `?access_token=${t.read}`)
      yield* waitUntil("two open", () => a.named.length > 0 && b.named.length > 0)
      const third = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/events/stream?access_token=${t.read}`).then((r) => r.status))
      expect(third).toBe(429)
      a.close()
      b.close()
    }))

  it.scopedLive("answers with security headers", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_CORS_ORIGINS: "https://hud.example" })
      const response = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/health`, { headers: { origin: "https://hud.example" } }))
      expect(response.headers.get("x-content-type-options")).toBe("nosniff")
      expect(response.headers.get("x-frame-options")).toBe("DENY")
      expect(response.headers.get("access-control-allow-origin")).toBe("https://hud.example")
      // The event stream takes its connection over from the platform after the headers are final:
      // it carries them all the same.
      const controller = new AbortController()
      const stream = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/events/stream`, { headers: { origin: "https://hud.example" }, signal: controller.signal }))
      expect(stream.status).toBe(200)
      expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8")
      expect(stream.headers.get("access-control-allow-origin")).toBe("https://hud.example")
      expect(stream.headers.get("access-control-allow-credentials")).toBe("true")
      expect(stream.headers.get("x-content-type-options")).toBe("nosniff")
      expect(stream.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
      expect(stream.headers.get("connection")).toBe("close")
      const first = yield* Effect.promise(() => stream.body!.getReader().read())
      expect(new TextDecoder().decode(first.value)).toMatch(/^retry: \d+/)
      controller.abort()
    }))

  it("refuses VIGIL_AUTH=off on a non-loopback address, and turns auth on there by default", () => {
    const read = (env: Record<string, string>) =>
      Effect.runSync(Effect.either(Effect.withConfigProvider(accessConfig, ConfigProvider.fromMap(new Map(Object.entries(env))))))
    const refused = read({ VIGIL_HOST: "0.0.0.0", VIGIL_AUTH: "off" })
    expect(Either.isLeft(refused) && String(refused.left)).toContain("VIGIL_AUTH")
    expect(Either.getOrThrow(read({ VIGIL_HOST: "0.0.0.0" })).auth).toBe(true)
    expect(Either.getOrThrow(read({})).auth).toBe(false)
    expect(Either.getOrThrow(read({ VIGIL_AUTH: "on" })).auth).toBe(true)
  })
})

describe("delivery to users", () => {
  const users = ["alice", "bob", "carol"]
  const arbRound = FastCheck.array(
    FastCheck.record({ audience: FastCheck.constantFrom(undefined, ...users), warn: FastCheck.boolean() }),
    { minLength: 1, maxLength: 12 }
  )

  it.scopedLive("no event or notification ever reaches another user's stream or list (random users, audiences, subscriptions)", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on" })
      const admin = yield* withTokens(vigil)
      const tokens: Record<string, string> = {}
      for (const u of users) {
        tokens[u] = (yield* vigil.use(Effect.flatMap(Tokens, (t) => t.create({ user: u, scopes: ["read"] })))).token
      }
      const streams = Object.fromEntries(users.map((u) => [u, openSse(vigil.url, `?access_token=${tokens[u]}&backfill=0`)]))
      const sockets = Object.fromEntries(users.map((u) => [u, openWs(vigil.url, `?access_token=${tokens[u]}&backfill=0`)]))
      yield* waitUntil("all connected", () => users.every((u) => streams[u]!.named.length > 0 && sockets[u]!.messages.length > 0))
      const sent: Array<{ id: string; audience: string | undefined; warn: boolean }> = []
      for (const round of FastCheck.sample(arbRound, { numRuns: 8, seed: 5 })) {
        const batch = round.map((r, i) => ({
          specversion: "1.0",
          id: `${sent.length + i}`,
          source: "/test/delivery",
          type: r.warn ? "system.warning" : "delivery.test",
          ...(r.audience ? { audience: r.audience } : {}),
          data: r.warn ? { title: `warning ${sent.length + i}` } : {}
        }))
        const answer = yield* Effect.promise(() =>
          fetch(`${vigil.url}/api/v1/events`, { method: "POST", headers: { authorization: `Bearer ${admin.admin}`, "content-type": "application/json" }, body: JSON.stringify(batch) }).then((r) => r.json() as any)
        )
        expect(answer.accepted).toBe(batch.length)
        sent.push(...round.map((r, i) => ({ id: `${sent.length + i}`, audience: r.audience, warn: r.warn })))
      }
      const mine = (u: string) => sent.filter((e) => e.audience === undefined || e.audience === u).map((e) => e.id)
      for (const u of users) {
        yield* waitUntil(`${u}'s streams`, () =>
          streams[u]!.events.filter((e) => e.event.source === "/test/delivery").length === mine(u).length &&
          sockets[u]!.events().filter((e) => e.event.source === "/test/delivery").length === mine(u).length)
        expect(streams[u]!.events.filter((e) => e.event.source === "/test/delivery").map((e) => e.event.id)).toEqual(mine(u))
        expect(sockets[u]!.events().filter((e) => e.event.source === "/test/delivery").map((e) => e.event.id)).toEqual(mine(u))
        const listed = yield* Effect.promise(() =>
          fetch(`${vigil.url}/api/v1/events?source=/test/delivery&limit=1000`, { headers: { authorization: `Bearer ${tokens[u]}` } }).then((r) => r.json() as any)
        )
        expect((listed as Array<any>).map((e) => e.id).reverse()).toEqual(mine(u))
        for (const e of listed) expect(e.audience === undefined || e.audience === u).toBe(true)
      }
      // Notifications: system.warning events become notifications, per user the same way.
      const warned = (u: string) =>
        sent.filter((e) => e.warn && (e.audience === undefined || e.audience === u)).map((e) => `warning ${e.id}`).sort()
      for (const u of users) {
        const list: Array<any> = yield* eventually(
          `${u}'s notifications`,
          Effect.promise(() =>
            fetch(`${vigil.url}/api/v1/notifications?limit=500`, { headers: { authorization: `Bearer ${tokens[u]}` } }).then((r) => r.json() as any)
          ),
          (l) => l.length >= warned(u).length
        )
        for (const n of list) expect(n.user === null || n.user === u).toBe(true)
        expect(list.map((n) => n.title).sort()).toEqual(warned(u))
      }
      for (const u of users) {
        streams[u]!.close()
        sockets[u]!.socket.close()
      }
    }))

  it.scopedLive("notifications: unread first, read one, read all, unread count", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_AUTH: "on" })
      const t = yield* withTokens(vigil)
      const api = (path: string, init: RequestInit = {}, token = t.read) =>
        Effect.promise(() => fetch(`${vigil.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } }).then(async (r) => ({ status: r.status, body: await r.json() as any })))
      yield* api("/api/v1/events", {
        method: "POST",
        body: JSON.stringify([
          { specversion: "1.0", id: "w1", source: "t", type: "system.warning", data: { title: "disk filling", priority: "high", category: "system" } },
          { specversion: "1.0", id: "w2", source: "t", type: "system.warning", audience: "reader", data: { title: "for you" } },
          { specversion: "1.0", id: "w3", source: "t", type: "system.warning", audience: "someone-else", data: { title: "not for you" } }
        ])
      }, t.admin)
      const list = yield* eventually("two notifications", Effect.map(api("/api/v1/notifications"), (r) => r.body), (l) => l.length >= 2)
      expect(list.map((n: any) => n.title)).toEqual(["for you", "disk filling"])
      expect((yield* api("/api/v1/notifications/unread-count")).body).toEqual({ unread: 2 })
      const read = yield* api(`/api/v1/notifications/${list[1].id}/read`, { method: "POST" })
      expect(read.body.read).toBe(true)
      const after = (yield* api("/api/v1/notifications")).body
      expect(after.map((n: any) => [n.title, n.read])).toEqual([["for you", false], ["disk filling", true]])
      expect((yield* api("/api/v1/notifications/read-all", { method: "POST" })).body).toEqual({ marked: 1 })
      expect((yield* api("/api/v1/notifications/unread-count")).body).toEqual({ unread: 0 })
      // Another user's read state is their own.
      expect((yield* api("/api/v1/notifications/unread-count", {}, t.ingest)).status).toBe(403)
      expect((yield* api("/api/v1/notifications/unread-count", {}, t.readIngest)).body).toEqual({ unread: 1 })
      expect((yield* api(`/api/v1/notifications/999999/read`, { method: "POST" })).status).toBe(404)
    }))
})
