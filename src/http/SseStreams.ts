/**
 * The SSE transport: turns a subscription into a `text/event-stream` response.
 *
 * Frames: a `retry:` line, `event: connected`, the hub's heartbeat, then one frame per event
 * (`id: <sequence>`, no `event:` line, so `EventSource.onmessage` receives it) and named frames for
 * signals. A comment keeps idle connections open through proxies. The stream ends with a named
 * frame saying why: `lagged` (too slow; reconnect with Last-Event-ID), `shutdown`, `unavailable`
 * (store error) or `revoked` (its token no longer grants access).
 *
 * Per connection there is only the response body (SseBody, which the Hub writes to) and, while it
 * replays a backlog, one fiber. The keep-alive is one timer for all connections, and tokens are
 * rechecked once per token (StreamGuard.watch), not once per stream.
 */
import * as Sse from "@effect/experimental/Sse"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Schedule from "effect/Schedule"
import type { User } from "../api/Security.js"
import { StreamGuard } from "../access/StreamGuard.js"
import { EventBus } from "../bus/EventBus.js"
import { Signal } from "../bus/Hub.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { Heartbeats } from "../producers/Heartbeats.js"
import { SseBody } from "./SseBody.js"
import { ServerConfig } from "./ServerConfig.js"

const encoder = new TextEncoder()

export class SseStreams extends Effect.Service<SseStreams>()("vigil/SseStreams", {
  scoped: Effect.gen(function*() {
    const bus = yield* EventBus
    const guard = yield* StreamGuard
    const heartbeats = yield* Heartbeats
    const config = yield* ServerConfig
    const run = yield* FiberSet.makeRuntime()
    const open = new Set<SseBody>()

    yield* Effect.sync(() => {
      for (const body of open) body.keepAlive()
    }).pipe(Effect.repeat(Schedule.spaced(config.sseKeepAlive)), Effect.forkScoped)

    const retryFrame = encoder.encode(Sse.encoder.write(new Sse.Retry({ duration: config.sseRetry, lastEventId: undefined })))

    const responseOptions = {
      contentType: "text/event-stream; charset=utf-8",
      headers: {
        "cache-control": "no-cache, no-transform",
        // Tells nginx-style proxies not to buffer the stream.
        "x-accel-buffering": "no"
      }
    } as const

    const respond = (filter: EventFilter, after: number | undefined, user: User) =>
      Effect.withSpan(Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        // HEAD (answered by the GET route) gets the stream's headers and no stream: its body would
        // never be read, so nothing would ever end the subscription.
        if (request.method === "HEAD") {
          return HttpServerResponse.empty({ status: 200, headers: { ...responseOptions.headers, "content-type": responseOptions.contentType } })
        }
        const release = yield* guard.admit(user)
        const body = new SseBody(after, config.maxBufferedBytes)
        body.write(retryFrame)
        body.signal(new Signal("connected", { resumeAfter: after ?? null, keepAliveMs: Duration.toMillis(config.sseKeepAlive) }))
        // The hub's heartbeat goes out at once, so a client knows who is alive without waiting for the next.
        body.signal(yield* heartbeats.hubSignal)

        const { detach, replay } = bus.follow(filter, after, "sse", body)
        // The replay runs in the background; its fiber is forgotten once done, so an idle
        // connection holds none.
        let replaying: Fiber.RuntimeFiber<void> | undefined
        if (after !== undefined) {
          const fiber = run(replay.pipe(
            Effect.catchAll((error) => Effect.sync(() => body.finish("unavailable", `event store unavailable: ${error.reason}`)))
          ))
          replaying = fiber
          fiber.addObserver(() => (replaying = undefined))
        }
        const unwatch = guard.watch(user, () => body.finish("revoked", "the token was revoked or has expired"))
        open.add(body)
        // Ended by the exchange however it ends: the body closes when it has been sent or the
        // client has gone; the response closes even if the body was never piped to it.
        NodeHttpServerRequest.toServerResponse(request).once("close", () => body.destroy())
        body.once("close", () => {
          open.delete(body)
          detach()
          unwatch()
          run(replaying === undefined ? release : Effect.andThen(Fiber.interrupt(replaying), release))
        })

        return HttpServerResponse.raw(body, responseOptions)
        // The span covers setting the stream up, not its life (hours): see HttpLive.
      }), "SseStreams.respond", { attributes: { after } })

    return { respond } as const
  })
}) {}
