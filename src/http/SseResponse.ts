/**
 * The SSE transport: turns a bus subscription into a `text/event-stream` response.
 *
 * Frames: a `retry:` line, `event: connected`, then one frame per event (`id: <sequence>`, no
 * `event:` line, so `EventSource.onmessage` receives it) and named frames for signals. A comment
 * keeps idle connections open through proxies. The stream ends with a named frame saying why:
 * `lagged` (too slow; reconnect with Last-Event-ID), `shutdown`, `unavailable` (store error) or
 * `revoked` (its token no longer grants access).
 *
 * Every frame is rendered once per event (see StoredEvent.sseFrame); what a subscriber has queued
 * is written as one buffer per pull, so a burst costs one socket write per client, not one per
 * event.
 */
import * as Sse from "@effect/experimental/Sse"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { User } from "../access/Auth.js"
import { StreamGuard } from "../access/StreamGuard.js"
import { AppConfig } from "../AppConfig.js"
import { EventBus } from "../bus/EventBus.js"
import { type Delivery, Signal } from "../bus/Hub.js"
import { StoredEvent } from "../domain/Event.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { Heartbeats } from "../producers/Heartbeats.js"

const encoder = new TextEncoder()
const keepAliveFrame = encoder.encode(": keepalive\n\n")

/** A stalled client cannot even read its final frame; its socket is destroyed after this. */
const stalledClientGrace = Duration.seconds(10)

const concatFrames = (chunk: Chunk.Chunk<Delivery>): Uint8Array => {
  if (chunk.length === 1) return Chunk.unsafeHead(chunk).sseFrame
  let size = 0
  for (const d of chunk) size += d.sseFrame.length
  const out = new Uint8Array(size)
  let offset = 0
  for (const d of chunk) {
    out.set(d.sseFrame, offset)
    offset += d.sseFrame.length
  }
  return out
}

export const sseResponse = (filter: EventFilter, after: number | undefined, user: User) =>
  Effect.gen(function*() {
    const guard = yield* StreamGuard
    const release = yield* guard.admit(user)
    const bus = yield* EventBus
    const config = yield* AppConfig
    const heartbeats = yield* Heartbeats
    const request = yield* HttpServerRequest.HttpServerRequest
    let lastSequence: number | null = after ?? null

    const destroyIfStalled = Effect.sync(() => {
      const response = NodeHttpServerRequest.toServerResponse(request)
      setTimeout(() => {
        if (!response.writableFinished) response.destroy()
      }, Duration.toMillis(stalledClientGrace)).unref()
    })

    const ending = (name: string, reason: string) =>
      new Signal(name, { reason, lastSequence }).sseFrame

    const frames = bus.subscribe(filter, { after, transport: "sse" }).pipe(
      Stream.mapChunks((chunk) => {
        for (const d of chunk) if (d instanceof StoredEvent) lastSequence = d.sequence
        return Chunk.of(concatFrames(chunk))
      }),
      Stream.catchAll((ended) => {
        switch (ended._tag) {
          case "SubscriberLagged":
            return Stream.concat(
              Stream.make(ending("lagged", ended.message)),
              Stream.execute(destroyIfStalled)
            )
          case "ServerShuttingDown":
            return Stream.make(ending("shutdown", ended.message))
          case "StoreUnavailable":
            return Stream.make(ending("unavailable", `event store unavailable: ${ended.reason}`))
        }
      })
    )

    const keepAlive = Stream.fromSchedule(Schedule.spaced(config.sseKeepAlive)).pipe(Stream.as(keepAliveFrame))

    // The hub's heartbeat goes out at once, so a client knows who is alive without waiting 2.5 s.
    const hub = yield* heartbeats.hubSignal
    const opening = Stream.make(
      encoder.encode(Sse.encoder.write(new Sse.Retry({ duration: config.sseRetry, lastEventId: undefined }))),
      new Signal("connected", { resumeAfter: after ?? null, keepAliveMs: Duration.toMillis(config.sseKeepAlive) })
        .sseFrame,
      hub.sseFrame
    )

    // A revoked or expired token ends the stream with a last frame saying so.
    const revoked = Stream.fromEffect(guard.lost(user)).pipe(
      Stream.map(() => ending("revoked", "the token was revoked or has expired"))
    )
    const live = Stream.merge(frames, revoked, { haltStrategy: "either" })

    return HttpServerResponse.stream(
      Stream.concat(opening, Stream.merge(live, keepAlive, { haltStrategy: "left" })).pipe(Stream.ensuring(release)),
      {
        contentType: "text/event-stream; charset=utf-8",
        headers: {
          "cache-control": "no-cache, no-transform",
          // Tells nginx-style proxies not to buffer the stream.
          "x-accel-buffering": "no"
        }
      }
    )
  })
