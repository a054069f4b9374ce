/**
 * The WebSocket transport: the same content as the SSE stream, as JSON messages.
 *
 * Server → client: `{"type":"connected"}`, `{"type":"event","event":<CloudEvent>}`, signals as
 * `{"type":<name>,"data":...}` (heartbeat, gap), `{"type":"ping"}`, and before closing
 * `{"type":"lagged"|"shutdown"|"unavailable","data":{reason,lastSequence}}`.
 * Client → server: `{"type":"subscribe","filter":{type,severity,node,source},"after":N}` (replaces
 * the current subscription; query parameters give the first one), `{"type":"pong"}`,
 * `{"type":"ping"}` (answered with pong).
 *
 * Liveness: a ping every interval; a client that sent nothing since the previous ping is closed
 * (4000). Slowness: the WebSocket API has no backpressure, so the socket's unsent bytes are
 * watched instead; past the bound the client is told `lagged` and closed (4001), and resumes
 * from its last sequence.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberHandle from "effect/FiberHandle"
import * as ParseResult from "effect/ParseResult"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { User } from "../api/Security.js"
import { StreamGuard } from "../access/StreamGuard.js"
import { EventBus } from "../bus/EventBus.js"
import { Signal, SubscriberLagged } from "../bus/Hub.js"
import { StoredEvent } from "../domain/Event.js"
import { type EventFilter, FilterParams, makeFilter } from "../domain/EventFilter.js"
import { decodeUtf8, parseUntrusted } from "../domain/UntrustedJson.js"
import { Heartbeats } from "../producers/Heartbeats.js"
import { ServerConfig } from "./ServerConfig.js"
import { wsMessage } from "./Wire.js"

const ClientMessage = Schema.Union(
  Schema.Struct({
    type: Schema.Literal("subscribe"),
    filter: Schema.optional(Schema.Struct(FilterParams)),
    after: Schema.optional(Schema.Int.pipe(Schema.nonNegative()))
  }),
  Schema.Struct({ type: Schema.Literal("ping") }),
  Schema.Struct({ type: Schema.Literal("pong") })
)

const decodeClientMessage = Schema.decodeUnknownEither(ClientMessage, { errors: "first" })

/** The first thing wrong with a message, short: an error answer must not echo a large value back. */
const describeIssue = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (issue === undefined) return "invalid message"
  const text = `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

export const closeCodes = { pingTimeout: 4000, lagged: 4001, revoked: 4003, goingAway: 1001, unavailable: 1011 } as const

export const webSocketSession = (filter: EventFilter, after: number | undefined, user: User) =>
  Effect.gen(function*() {
    const guard = yield* StreamGuard
    const release = yield* guard.admit(user)
    yield* Effect.addFinalizer(() => release)
    const bus = yield* EventBus
    const config = yield* ServerConfig
    const heartbeats = yield* Heartbeats
    const request = yield* HttpServerRequest.HttpServerRequest
    const rawSocket = NodeHttpServerRequest.toIncomingMessage(request).socket
    const socket = yield* request.upgrade
    const write = yield* socket.writer
    const subscription = yield* FiberHandle.make<void, never>()
    let lastSequence: number | null = after ?? null
    let heardFromClient = true

    const closeWith = (name: string, reason: string, code: number) =>
      write(wsMessage(new Signal(name, { reason, lastSequence }))).pipe(
        Effect.zipRight(write(new Socket.CloseEvent(code, name))),
        Effect.ignore
      )

    const pump = (filter: EventFilter, after: number | undefined) =>
      bus.subscribe(filter, { after, transport: "ws" }).pipe(
        Stream.runForEachChunk((chunk) =>
          Effect.gen(function*() {
            for (const d of chunk) {
              yield* write(wsMessage(d))
              if (d instanceof StoredEvent) lastSequence = d.sequence
            }
            if (rawSocket.writableLength > config.maxBufferedBytes) {
              return yield* new SubscriberLagged({ buffered: rawSocket.writableLength })
            }
          })
        ),
        Effect.catchAll((ended) => {
          switch (ended._tag) {
            case "SubscriberLagged":
              return closeWith("lagged", ended.message, closeCodes.lagged)
            case "ServerShuttingDown":
              return closeWith("shutdown", ended.message, closeCodes.goingAway)
            case "StoreUnavailable":
              return closeWith("unavailable", `event store unavailable: ${ended.reason}`, closeCodes.unavailable)
            case "SocketError":
              return Effect.void
          }
        })
      )

    const subscribe = (filter: EventFilter, after: number | undefined) =>
      FiberHandle.run(subscription, pump(filter, after))

    const refuse = (message: string) => write(wsMessage(new Signal("error", { message }))).pipe(Effect.ignore)

    /** What a client message asks for. Untrusted: bounded before parsing, and never throws. */
    const handle = (data: string | Uint8Array): Effect.Effect<void> => {
      heardFromClient = true
      const text = typeof data === "string" ? Either.right(data) : decodeUtf8(data)
      if (Either.isLeft(text)) return refuse(`unrecognised message: ${text.left.message}`)
      if (text.right.length > config.maxJsonBytes) {
        return refuse(`message exceeds the limit of ${config.maxJsonBytes} bytes (VIGIL_MAX_JSON_BYTES)`)
      }
      const json = parseUntrusted(text.right, { maxDepth: config.maxJsonDepth })
      if (Either.isLeft(json)) {
        const { message, path } = json.left
        return refuse(`unrecognised message: ${path === "" ? "" : `${path} `}${message}`)
      }
      const decoded = decodeClientMessage(json.right)
      if (Either.isLeft(decoded)) return refuse(`unrecognised message: ${describeIssue(decoded.left)}`)
      const m = decoded.right
      switch (m.type) {
        case "subscribe":
          lastSequence = m.after ?? null
          // The viewer stays the connection's user, whatever the message asks.
          return subscribe(makeFilter(m.filter ?? {}, user.name), m.after)
        case "ping":
          return write(`{"type":"pong"}`).pipe(Effect.ignore)
        case "pong":
          return Effect.void
      }
    }

    // The platform calls this from the socket's own event listener, outside any fiber: whatever
    // goes wrong in it must come back as a value, never as a throw, or it takes the process down.
    const onMessage = (data: string | Uint8Array): Effect.Effect<void> => {
      try {
        return handle(data).pipe(
          Effect.catchAllDefect((defect) =>
            Effect.zipRight(Effect.logWarning("WebSocket message handler failed", defect), refuse("the message could not be handled"))
          )
        )
      } catch (defect) {
        return Effect.zipRight(Effect.logWarning("WebSocket message handler threw", defect), refuse("the message could not be handled"))
      }
    }

    const pinger = Effect.gen(function*() {
      if (!heardFromClient) return yield* closeWith("timeout", "no answer to ping", closeCodes.pingTimeout)
      heardFromClient = false
      yield* write(`{"type":"ping"}`).pipe(Effect.ignore)
    }).pipe(Effect.repeat(Schedule.spaced(config.wsPingInterval)), Effect.delay(config.wsPingInterval))

    const hub = yield* heartbeats.hubSignal
    yield* write(wsMessage(new Signal("connected", { resumeAfter: after ?? null }))).pipe(
      Effect.zipRight(write(wsMessage(hub))),
      Effect.forkScoped
    )
    yield* subscribe(filter, after)
    yield* Effect.forkScoped(pinger)
    yield* guard.lost(user).pipe(
      Effect.zipRight(closeWith("revoked", "the token was revoked or has expired", closeCodes.revoked)),
      Effect.forkScoped
    )
    yield* socket.runRaw(onMessage).pipe(Effect.ignore)
    return HttpServerResponse.empty()
  }).pipe(Effect.scoped)
