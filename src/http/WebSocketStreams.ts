/**
 * The WebSocket transport: the same content as the SSE stream, as JSON messages.
 *
 * Server → client: `{"type":"connected"}`, `{"type":"event","event":<CloudEvent>}`, signals as
 * `{"type":<name>,"data":...}` (heartbeat, gap), `{"type":"ping"}`, and before closing
 * `{"type":"lagged"|"shutdown"|"unavailable"|"revoked"|"timeout","data":{reason,lastSequence}}`.
 * Client → server: see WsClientMessage.
 *
 * The route runs inside the platform like every other (authentication, the request guard,
 * headers), then takes the connection over: the upgrade is done here, by a WebSocketServer of
 * vigil's own (its message size bounded, no compression), and the request's fiber ends. What is
 * left per connection is the socket, the `ws` object and a WsSink the Hub writes to; one timer
 * pings them all. That is what brought an idle connection near a bare `ws` server's cost
 * (bench/RESULTS.md): the platform's upgrade kept a fiber, a queue and a Stream per connection.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Schedule from "effect/Schedule"
import type { Socket } from "node:net"
import { type WebSocket, WebSocketServer } from "ws"
import { StreamGuard } from "../access/StreamGuard.js"
import type { User } from "../api/Security.js"
import { EventBus } from "../bus/EventBus.js"
import { Signal } from "../bus/Hub.js"
import { type EventFilter, makeFilter } from "../domain/EventFilter.js"
import { Heartbeats } from "../producers/Heartbeats.js"
import { ServerConfig } from "./ServerConfig.js"
import { readClientMessage } from "./WsClientMessage.js"
import { closeCodes, WsSink } from "./WsSink.js"

/** A protocol error (a message past maxPayload, a bad frame): `ws` closes the connection itself. */
const ignoreProtocolError = () => {}

/** The upgrade's first bytes past the handshake: none, as RFC 6455 has clients wait for the 101. */
const noHead = Buffer.alloc(0)

export class WebSocketStreams extends Effect.Service<WebSocketStreams>()("vigil/WebSocketStreams", {
  scoped: Effect.gen(function*() {
    const bus = yield* EventBus
    const guard = yield* StreamGuard
    const heartbeats = yield* Heartbeats
    const config = yield* ServerConfig
    const run = yield* FiberSet.makeRuntime()
    const open = new Set<WsSink>()
    const limits = { maxBytes: config.maxJsonBytes, maxDepth: config.maxJsonDepth }

    // Messages past the limit still get their refusal by name (WsClientMessage); far past it,
    // `ws` stops reading and closes with 1009, so a huge message is never held in memory.
    const server = new WebSocketServer({ noServer: true, maxPayload: Math.max(1024 * 1024, config.maxJsonBytes * 4), perMessageDeflate: false })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const client of server.clients) client.terminate()
        server.close()
      })
    )

    yield* Effect.sync(() => {
      for (const sink of open) sink.tick()
    }).pipe(Effect.repeat(Schedule.spaced(config.wsPingInterval)), Effect.delay(config.wsPingInterval), Effect.forkScoped)

    /** Wires one upgraded connection: the subscription, client messages, liveness, the token. */
    const serve = (ws: WebSocket, socket: Socket, filter: EventFilter, after: number | undefined, user: User, release: Effect.Effect<void>) => {
      const sink = new WsSink(ws, socket, after, config.maxBufferedBytes)
      let detach = () => {}
      let replaying: Fiber.RuntimeFiber<void> | undefined

      const subscribe = (filter: EventFilter, after: number | undefined) => {
        detach()
        if (replaying !== undefined) run(Fiber.interrupt(replaying))
        sink.lastSequence = after ?? null
        const subscription = bus.follow(filter, after, "ws", sink)
        detach = subscription.detach
        replaying = undefined
        if (after === undefined) return
        const fiber = run(subscription.replay.pipe(
          Effect.catchAll((error) => Effect.sync(() => sink.finish("unavailable", `event store unavailable: ${error.reason}`, closeCodes.unavailable)))
        ))
        replaying = fiber
        fiber.addObserver(() => {
          if (replaying === fiber) replaying = undefined
        })
      }

      // Called from the socket's own event listener, outside any fiber: nothing here may throw.
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        sink.heard()
        const message = readClientMessage(isBinary ? data : data.toString("utf8"), limits)
        if (Either.isLeft(message)) return sink.signal(new Signal("error", { message: message.left }))
        const m = message.right
        switch (m.type) {
          case "subscribe":
            // The viewer stays the connection's user, whatever the message asks.
            return subscribe(makeFilter(m.filter ?? {}, user.name), m.after)
          case "ping":
            return sink.send(`{"type":"pong"}`)
          case "pong":
            return
        }
      })
      ws.on("error", ignoreProtocolError)

      sink.signal(new Signal("connected", { resumeAfter: after ?? null }))
      run(Effect.map(heartbeats.hubSignal, (hub) => sink.signal(hub)))
      subscribe(filter, after)
      const unwatch = guard.watch(user, () => sink.finish("revoked", "the token was revoked or has expired", closeCodes.revoked))
      open.add(sink)
      ws.once("close", () => {
        open.delete(sink)
        detach()
        unwatch()
        run(replaying === undefined ? release : Effect.andThen(Fiber.interrupt(replaying), release))
      })
    }

    /**
     * Takes the connection over from the platform and upgrades it. The platform answers an upgrade
     * request through a response it creates on first use and writes nothing once that response has
     * ended; the response is created here, let go of the socket and ended, so the connection is
     * this module's alone. The request's fiber then ends with an empty answer nobody sends.
     */
    const accept = (request: HttpServerRequest.HttpServerRequest, filter: EventFilter, after: number | undefined, user: User) =>
      Effect.gen(function*() {
        const incoming = NodeHttpServerRequest.toIncomingMessage(request)
        const socket = incoming.socket
        const release = yield* guard.admit(user)
        const placeholder = NodeHttpServerRequest.toServerResponse(request)
        placeholder.detachSocket(socket)
        placeholder.end()
        const before = new Set(socket.listeners("close"))
        server.handleUpgrade(incoming, socket, noHead, (ws) => {
          const own = new Set(socket.listeners("close").filter((listener) => !before.has(listener)))
          serve(ws, socket, filter, after, user, release)
          // The platform watches the socket to interrupt the request's fiber if the client leaves
          // mid-request; that watch (and the finished fiber, request and response it holds) would
          // otherwise live as long as the connection. Once the fiber has ended, only the
          // WebSocket's own listeners stay.
          setImmediate(() => {
            for (const listener of socket.listeners("close")) {
              if (!own.has(listener)) socket.removeListener("close", listener as (...args: Array<unknown>) => void)
            }
          })
        })
        return HttpServerResponse.empty()
      })

    return { accept } as const
  })
}) {}

/** Whether the request asks for a WebSocket (a plain GET of the route is refused with 400). */
export const isUpgrade = (request: HttpServerRequest.HttpServerRequest) => request.headers.upgrade?.toLowerCase() === "websocket"
