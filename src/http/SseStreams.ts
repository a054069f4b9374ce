/**
 * The SSE transport: turns a subscription into a `text/event-stream` response.
 *
 * Frames: a `retry:` line, `event: connected`, the hub's heartbeat, then one frame per event
 * (`id: <sequence>`, no `event:` line, so `EventSource.onmessage` receives it) and named frames for
 * signals. A comment keeps idle connections open through proxies. The stream ends with a named
 * frame saying why: `lagged` (too slow; reconnect with Last-Event-ID), `shutdown`, `unavailable`
 * (store error) or `revoked` (its token no longer grants access).
 *
 * Per connection there is only the socket and the sink the Hub writes to (SseSink)
 * and, while it replays a backlog, one fiber: the route runs inside the platform like every other
 * (authentication, the request guard, CORS and security headers), then takes the connection over. The keep-alive is one timer for all connections, and tokens are
 * rechecked once per token (StreamGuard.watch), not once per stream.
 */
import * as Sse from "@effect/experimental/Sse"
import * as HttpApp from "@effect/platform/HttpApp"
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Schedule from "effect/Schedule"
import { ServerResponse } from "node:http"
import type { User } from "../api/Security.js"
import { StreamGuard } from "../access/StreamGuard.js"
import { EventBus } from "../bus/EventBus.js"
import { Signal } from "../bus/Hub.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { Heartbeats } from "../producers/Heartbeats.js"
import { SseSink, streamHead } from "./SseSink.js"
import { ServerConfig } from "./ServerConfig.js"

const encoder = new TextEncoder()

/** What one stream was asked for and was granted, until it takes its connection over. */
interface Stream {
  readonly filter: EventFilter
  readonly after: number | undefined
  readonly user: User
  readonly hub: Signal
  readonly release: Effect.Effect<void>
}

export class SseStreams extends Effect.Service<SseStreams>()("vigil/SseStreams", {
  scoped: Effect.gen(function*() {
    const bus = yield* EventBus
    const guard = yield* StreamGuard
    const heartbeats = yield* Heartbeats
    const config = yield* ServerConfig
    const run = yield* FiberSet.makeRuntime()
    const open = new Set<SseSink>()

    yield* Effect.sync(() => {
      for (const sink of open) sink.keepAlive()
    }).pipe(Effect.repeat(Schedule.spaced(config.sseKeepAlive)), Effect.forkScoped)

    const retryFrame = encoder.encode(Sse.encoder.write(new Sse.Retry({ duration: config.sseRetry, lastEventId: undefined })))

    const streamHeaders = {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // Tells nginx-style proxies not to buffer the stream.
      "x-accel-buffering": "no"
    } as const

    /**
     * Takes the connection over from the platform once the response's headers are final (CORS,
     * the security headers: every route's own path). The platform writes nothing to a response
     * that has ended, so its response lets go of the socket and ends, and the stream is written
     * to the socket from here on: the request's fiber ends, and what stays per connection is the
     * socket and the sink the Hub writes to.
     */
    const takeOver = (request: HttpServerRequest.HttpServerRequest, headers: Headers.Headers, stream: Stream) => {
      const { filter, after, user, hub, release } = stream
      const incoming = NodeHttpServerRequest.toIncomingMessage(request)
      const socket = incoming.socket
      // The client left before its stream began.
      if (socket.destroyed) return run(release)
      const placeholder = NodeHttpServerRequest.toServerResponse(request)
      placeholder.detachSocket(socket)
      placeholder.end()
      // Node counts a connection idle, and closes it at `server.close()`, unless its response is
      // unfinished: this one never finishes (nothing is written through it), so shutdown can stop
      // taking connections before it sends the streams' final frames.
      new ServerResponse(incoming).assignSocket(socket)
      socket.write(streamHead(headers))

      const sink = new SseSink(socket, after, config.maxBufferedBytes)
      sink.write(retryFrame)
      sink.signal(new Signal("connected", { resumeAfter: after ?? null, keepAliveMs: Duration.toMillis(config.sseKeepAlive) }))
      // The hub's heartbeat goes out at once, so a client knows who is alive without waiting for the next.
      sink.signal(hub)

      const { detach, replay } = bus.follow(filter, after, "sse", sink)
      // The replay runs in the background; its fiber is forgotten once done, so an idle
      // connection holds none.
      let replaying: Fiber.RuntimeFiber<void> | undefined
      if (after !== undefined) {
        const fiber = run(replay.pipe(
          Effect.catchAll((error) => Effect.sync(() => sink.finish("unavailable", `event store unavailable: ${error.reason}`)))
        ))
        replaying = fiber
        fiber.addObserver(() => (replaying = undefined))
      }
      const unwatch = guard.watch(user, () => sink.finish("revoked", "the token was revoked or has expired"))
      open.add(sink)
      socket.once("close", () => {
        open.delete(sink)
        detach()
        unwatch()
        run(replaying === undefined ? release : Effect.andThen(Fiber.interrupt(replaying), release))
      })
    }

    const respond = (filter: EventFilter, after: number | undefined, user: User) =>
      Effect.withSpan(Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const head = HttpServerResponse.empty({ status: 200, headers: streamHeaders })
        // HEAD (answered by the GET route) gets the stream's headers and no stream: its body would
        // never be read, so nothing would ever end the subscription.
        if (request.method === "HEAD") return head
        const hub = yield* heartbeats.hubSignal
        const release = yield* guard.admit(user)
        // Runs last, after every middleware and the other pre-response handlers.
        yield* HttpApp.appendPreResponseHandler((request, response) =>
          Effect.sync(() => {
            if (response.status !== 200) {
              run(release)
              return response
            }
            takeOver(request, response.headers, { filter, after, user, hub, release })
            return response
          })
        )
        return head
        // The span covers setting the stream up, not its life (hours): see HttpLive.
      }), "SseStreams.respond", { attributes: { after } })

    return { respond } as const
  })
}) {}
