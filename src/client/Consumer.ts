/**
 * The consumer helper: follows vigil's SSE stream and, after any disconnect (network error, a
 * server restart, being cut off as too slow), reconnects with `Last-Event-ID` set to the last
 * sequence it delivered, so the caller sees every event once, in order.
 */
import * as Sse from "@effect/experimental/Sse"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { networkReason } from "../domain/NetworkReason.js"

export interface ConsumerOptions {
  readonly url: string
  readonly token?: string | undefined
  readonly filter?: {
    readonly type?: string | undefined
    readonly severity?: string | undefined
    readonly node?: string | undefined
    readonly source?: string | undefined
  } | undefined
  /** Start after this sequence; without it, follow live from now. */
  readonly after?: number | undefined
  /** Pause before reconnecting. */
  readonly reconnectDelay?: Duration.DurationInput | undefined
  /** Called with each named frame (heartbeat, gap, lagged, shutdown), if given. */
  readonly onSignal?: ((name: string, data: unknown) => void) | undefined
  /** Called when a connection attempt fails or a connection drops, with why, before the retry. */
  readonly onDisconnect?: ((reason: string) => void) | undefined
  /** Called each time the stream is (re)established. */
  readonly onConnect?: (() => void) | undefined
}

/** A received CloudEvent; `sequence` is always present on what vigil sends. */
export interface ReceivedEvent {
  readonly sequence: number
  readonly type: string
  readonly [attribute: string]: unknown
}

/** The stream endpoint answered something other than 200 (auth, a bad filter, a server going down). */
export class StreamRefused extends Data.TaggedError("StreamRefused")<{ readonly status: number }> {
  override get message() {
    return `the event stream answered ${this.status}`
  }
}

export const subscribe = (options: ConsumerOptions): Stream.Stream<ReceivedEvent, never, HttpClient.HttpClient> => {
  let last = options.after
  const delay = Duration.decode(options.reconnectDelay ?? "1 second")

  const connect = Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(options.filter ?? {})) if (v !== undefined) params.set(k, v)
    if (last === undefined) params.set("backfill", "0")
    let request = HttpClientRequest.get(`${options.url}/api/v1/events/stream?${params}`).pipe(
      HttpClientRequest.setHeader("accept", "text/event-stream")
    )
    if (last !== undefined) request = HttpClientRequest.setHeader(request, "last-event-id", String(last))
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    const response = yield* client.execute(request)
    if (response.status !== 200) return yield* new StreamRefused({ status: response.status })
    options.onConnect?.()
    // The parser, not Sse.makeChannel: the channel treats the server's `retry:` advice as "stop
    // and restart after the delay", and this helper does its own reconnecting.
    const frames: Array<Sse.Event> = []
    const parser = Sse.makeParser((frame) => {
      if (frame._tag === "Event") frames.push(frame)
    })
    return response.stream.pipe(
      Stream.decodeText(),
      Stream.mapConcat((text) => {
        parser.feed(text)
        return frames.splice(0)
      }),
      Stream.filterMap((frame) => {
        if (frame.event !== "message") {
          options.onSignal?.(frame.event, frame.data === "" ? null : JSON.parse(frame.data))
          return Option.none()
        }
        const event = JSON.parse(frame.data) as ReceivedEvent
        // A duplicate can only come from a replay overlapping what was delivered: skip it.
        if (last !== undefined && event.sequence <= last) return Option.none()
        last = event.sequence
        return Option.some(event)
      })
    )
  })

  // Each round connects from the latest sequence; when it ends or fails, wait and go again.
  return Stream.unwrapScoped(connect).pipe(
    Stream.catchAll((error) => {
      // The refusal's status, or the network's own error code.
      options.onDisconnect?.(error instanceof StreamRefused ? error.message : networkReason(error))
      return Stream.empty
    }),
    Stream.concat(Stream.fromEffect(Effect.sleep(delay)).pipe(Stream.drain)),
    Stream.forever
  )
}
