/**
 * What every request must satisfy before any route sees it.
 *
 * vigil listens on loopback without authentication by default, and the operator's browser is on
 * that machine: a web page must not be able to reach it. So:
 * - `Host` must name this server (DNS rebinding), whenever authentication is off or
 *   `VIGIL_ALLOWED_HOSTS` lists names;
 * - an `Origin` other than this server's own (or one `VIGIL_CORS_ORIGINS` lists) is refused on
 *   WebSocket upgrades and on every request that changes something (a browser sends `Origin` on
 *   those, including the "simple" ones it sends without a CORS preflight);
 * - a body must be JSON by its media type: `text/plain`, form and multipart bodies, which a page
 *   can send without a preflight, never reach a handler;
 * - a body must fit the size limit, be well-formed UTF-8, nest at most `VIGIL_MAX_JSON_DEPTH`
 *   deep and hold only well-formed strings (see UntrustedJson).
 * The body is read and parsed once, here; routes get the parsed value from `request.json`.
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { IncomingMessage } from "node:http"
import { AccessConfig } from "../access/AccessConfig.js"
import { decodeUtf8, parseUntrusted } from "../domain/UntrustedJson.js"
import { ServerConfig } from "./ServerConfig.js"

/** The media types a JSON body may have; none of them is one a browser sends without a preflight. */
const jsonMediaType = /^application\/(json|cloudevents\+json|cloudevents-batch\+json)\s*(;|$)/i

/** Methods that change nothing, and so carry no body and need no origin check. */
const safeMethods = new Set(["GET", "HEAD", "OPTIONS"])

/** Past this many bytes a body is no longer drained to answer 413 politely: the socket is cut. */
const drainLimit = (maxBytes: number) => maxBytes * 4 + 1024 * 1024

const refuse = (status: number, tag: string, message: string, extra: Record<string, unknown> = {}) =>
  HttpServerResponse.unsafeJson({ _tag: tag, message, ...extra }, { status })

type Body =
  | { readonly _tag: "Bytes"; readonly bytes: Buffer }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "Failed"; readonly reason: string }

/**
 * Reads the raw body. Past the limit the rest is drained and discarded, so the client, which is
 * still sending, gets to read the 413 instead of a reset connection.
 */
const readBody = (incoming: IncomingMessage, maxBytes: number) =>
  Effect.async<Body>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) chunks.push(chunk)
      else if (size > drainLimit(maxBytes)) {
        cleanup()
        incoming.destroy()
        resume(Effect.succeed({ _tag: "TooLarge" }))
      }
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(size > maxBytes ? { _tag: "TooLarge" } : { _tag: "Bytes", bytes: Buffer.concat(chunks, size) }))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.succeed({ _tag: "Failed", reason: error.message }))
    }
    const cleanup = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
    }
    incoming.on("data", onData)
    incoming.on("end", onEnd)
    incoming.on("error", onError)
    return Effect.sync(cleanup)
  })

/**
 * The request as routes see it: the same request, except that its body was already read, so
 * `text` and `json` answer with what was read here instead of reading a consumed stream. (The
 * platform caches the body only when it read it itself, which cannot drain past the limit.)
 */
const withBody = (request: HttpServerRequest.HttpServerRequest, text: string, json: unknown) =>
  Object.create(request, {
    text: { value: Effect.succeed(text) },
    json: { value: Effect.succeed(json) }
  }) as HttpServerRequest.HttpServerRequest

const hasBody = (request: HttpServerRequest.HttpServerRequest) => {
  const length = request.headers["content-length"]
  return (length !== undefined && length !== "0") || request.headers["transfer-encoding"] !== undefined
}

const loopbackName = (hostname: string) =>
  hostname === "localhost" || hostname.endsWith(".localhost") || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname)

/** `Host: name:port` → `name`, lower-cased; IPv6 literals keep their brackets. */
const hostnameOf = (host: string) => {
  const h = host.trim().toLowerCase()
  return h.startsWith("[") ? h.slice(0, h.indexOf("]") + 1) : h.replace(/:\d*$/, "")
}

/** The path of the one route whose bodies are event batches: its own (larger) limit, and its items are checked one by one. */
const ingestPath = "/api/v1/events"

/** A path no route matches (or whose parameters do not decode as UTF-8) gets a 404 that says so. */
const routed = <E, R>(app: HttpApp.Default<E, R>, request: HttpServerRequest.HttpServerRequest): HttpApp.Default<E, R> =>
  Effect.catchIf(
    app,
    (error) => typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "RouteNotFound",
    () => Effect.succeed(refuse(404, "NotFound", `no route for ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`))
  )

export const makeRequestGuard = Effect.gen(function*() {
  const access = yield* AccessConfig
  const config = yield* ServerConfig
  const allowedHosts = new Set(access.allowedHosts.map((h) => hostnameOf(h)))
  const checkHost = !access.auth || allowedHosts.size > 0
  const corsOrigins = new Set(access.corsOrigins)

  const hostAllowed = (host: string | undefined) => {
    if (!checkHost) return true
    if (host === undefined) return false
    const name = hostnameOf(host)
    return allowedHosts.has(name) || (allowedHosts.size === 0 && loopbackName(name))
  }

  const originAllowed = (origin: string, host: string | undefined) => {
    if (corsOrigins.has(origin)) return true
    try {
      const url = new URL(origin)
      return host !== undefined && (url.protocol === "http:" || url.protocol === "https:") && url.host === host.toLowerCase()
    } catch {
      // "null" (sandboxed frames, file: pages) and anything else unparsable
      return false
    }
  }

  const readJson = (request: HttpServerRequest.HttpServerRequest, ingest: boolean) =>
    Effect.gen(function*() {
      const contentType = request.headers["content-type"]
      if (contentType === undefined || !jsonMediaType.test(contentType)) {
        return yield* Effect.fail(refuse(
          415,
          "UnsupportedMediaType",
          `content-type ${contentType ?? "(none)"} is not accepted; send application/json` +
            (ingest ? " or application/cloudevents-batch+json" : "")
        ))
      }
      const limit = ingest ? config.maxBodyBytes : config.maxJsonBytes
      const tooLarge = refuse(413, "PayloadTooLarge", `request body exceeds the limit of ${limit} bytes (${ingest ? "VIGIL_MAX_BODY_BYTES; split the batch" : "VIGIL_MAX_JSON_BYTES"})`, { limitBytes: limit })
      if (Number(request.headers["content-length"] ?? "0") > drainLimit(limit)) return yield* Effect.fail(tooLarge)
      const body = yield* readBody(NodeHttpServerRequest.toIncomingMessage(request), limit)
      switch (body._tag) {
        case "TooLarge":
          return yield* Effect.fail(tooLarge)
        case "Failed":
          return yield* Effect.fail(refuse(400, "BadRequest", `could not read the body: ${body.reason}`))
      }
      const text = decodeUtf8(body.bytes)
      if (Either.isLeft(text)) return yield* Effect.fail(refuse(400, "BadRequest", `body ${text.left.message}`))
      if (text.right.trim() === "") {
        return yield* Effect.fail(refuse(400, "BadRequest", ingest ? "body is empty; send a CloudEvent or an array of them" : "body is empty; send a JSON value"))
      }
      // Ingest checks strings item by item, so one bad event does not refuse the good ones.
      const parsed = parseUntrusted(text.right, { maxDepth: config.maxJsonDepth }, { checkStrings: !ingest })
      if (Either.isLeft(parsed)) {
        const { message, path } = parsed.left
        const where = path === "" ? "body" : `body field ${path}`
        const limitNote = /deeper/.test(message) ? "; VIGIL_MAX_JSON_DEPTH" : ""
        return yield* Effect.fail(refuse(400, "BadRequest", `${where} ${message}${limitNote}`, { path }))
      }
      return withBody(request, text.right, parsed.right)
    })

  /** Wraps the whole application: refusals are answered here, everything else goes on with its body read. */
  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const host = request.headers.host
      if (!hostAllowed(host)) {
        return Effect.succeed(refuse(
          421,
          "MisdirectedRequest",
          `Host ${host ?? "(none)"} is not a name this server answers to; add it to VIGIL_ALLOWED_HOSTS`
        ))
      }
      const origin = request.headers.origin
      const upgrade = (request.headers.upgrade ?? "").toLowerCase() === "websocket"
      if (origin !== undefined && (upgrade || !safeMethods.has(request.method)) && !originAllowed(origin, host)) {
        return Effect.succeed(refuse(
          403,
          "ForbiddenOrigin",
          `Origin ${origin} may not ${upgrade ? "open streams" : "make changes"} here; list it in VIGIL_CORS_ORIGINS to allow it`
        ))
      }
      if (safeMethods.has(request.method) || !hasBody(request)) return routed(app, request)
      const ingest = request.method === "POST" && request.url.split("?")[0] === ingestPath
      return readJson(request, ingest).pipe(
        Effect.matchEffect({
          onFailure: Effect.succeed,
          onSuccess: (withRead) => Effect.provideService(routed(app, request), HttpServerRequest.HttpServerRequest, withRead)
        })
      )
    })
})
