/**
 * Handlers for the events group. Ingest validates item by item and answers after the accepted
 * ones are committed; the read endpoints go straight to the repository; the streams hand off to
 * their transports.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Duration from "effect/Duration"
import { AccessConfig } from "../access/AccessConfig.js"
import { CurrentUser } from "../api/Security.js"
import { EventBus, retentionWatermarkKey } from "../bus/EventBus.js"
import { type NewEvent, validateEvent } from "../domain/Event.js"
import { traceparentOf, withTraceContext } from "../domain/TraceContext.js"
import { mayHoldSurrogates } from "../domain/UntrustedJson.js"
import { type EventFilter, makeFilter } from "../domain/EventFilter.js"
import { type Severity, severityOfRank } from "../domain/Severity.js"
import { DeadLetters } from "../store/DeadLetters.js"
import { EventRepo } from "../store/EventRepo.js"
import { VigilApi } from "../api/Api.js"
import { BadRequest, storeUnavailable } from "../api/ApiErrors.js"
import { eventsIngested, eventsRejected } from "../telemetry/Instruments.js"
import { EventsRejected, IngestResponse, maxEventsPerRequest } from "../api/EventsApi.js"
import { SseStreams } from "./SseStreams.js"
import { isUpgrade, WebSocketStreams } from "./WebSocketStreams.js"
import { ServerConfig } from "./ServerConfig.js"
import { cloudEventJson } from "./Wire.js"

type ItemResult = (typeof IngestResponse.Type)["results"][number]

const unavailable = storeUnavailable

const lastEventIdHeader = (header: string | undefined) => {
  if (header === undefined || header.trim() === "") return Effect.succeed(undefined)
  const n = Number(header)
  return Number.isSafeInteger(n) && n >= 0
    ? Effect.succeed(n)
    : Effect.fail(new BadRequest({ message: `Last-Event-ID header must be a sequence number, got "${header}"` }))
}

/** What a W3C `tracestate` header may hold: printable ASCII, at most 512 characters. */
const traceStateFormat = /^[\x20-\x7e]{1,512}$/

/**
 * A caller's `tracestate` goes with its trace: the events it sends carry it beside the request's
 * span (as their `traceparent`), unless they bring their own trace context.
 */
const withCallersTraceState = (events: ReadonlyArray<NewEvent>, tracestate: string | undefined) =>
  Effect.map(Effect.option(Effect.currentSpan), (span) =>
    tracestate === undefined || !traceStateFormat.test(tracestate) || Option.isNone(span)
      ? events
      : events.map((e) => withTraceContext(e, { traceparent: traceparentOf(span.value), tracestate })))

export const EventsHttp = HttpApiBuilder.group(VigilApi, "events", (handlers) =>
  Effect.gen(function*() {
    const bus = yield* EventBus
    const repo = yield* EventRepo
    const config = yield* ServerConfig
    const access = yield* AccessConfig
    const limiter = yield* RateLimiter.RateLimiter
    const sse = yield* SseStreams
    const ws = yield* WebSocketStreams
    const deadLetters = yield* DeadLetters

    /**
     * Where a stream starts: after `Last-Event-ID` (header, which wins) or `last_event_id`; with
     * neither, just before the latest `backfill` matching events, as `tail -f` shows the last
     * lines first (so `curl -N .../stream` shows what just happened); `backfill=0` is live only.
     */
    const startingPoint = (
      filter: EventFilter,
      header: string | undefined,
      params: { readonly last_event_id?: number | undefined; readonly backfill?: number | undefined }
    ) =>
      Effect.gen(function*() {
        const resume = (yield* lastEventIdHeader(header)) ?? params.last_event_id
        if (resume !== undefined) return resume
        const backfill = params.backfill ?? config.streamBackfill
        if (backfill === 0) return undefined
        const latest = yield* repo.recent(filter, {}, backfill).pipe(Effect.mapError(unavailable))
        // With nothing to show yet, start after the newest sequence rather than "live only", so
        // an event committed between this query and the subscription is not missed.
        if (latest.length === 0) return yield* repo.maxSequence().pipe(Effect.mapError(unavailable))
        return latest[latest.length - 1]!.sequence - 1
      })

    return handlers
      .handleRaw("ingest", ({ request }) =>
        Effect.gen(function*() {
          // The request guard has read, bounded and parsed the body; without one there is nothing to take.
          if (request.headers["content-length"] === "0" || (request.headers["content-length"] === undefined && request.headers["transfer-encoding"] === undefined)) {
            return yield* new BadRequest({ message: "body is empty; send a CloudEvent or an array of them" })
          }
          const body = yield* Effect.orDie(request.json)
          const checkStrings = mayHoldSurrogates(yield* Effect.orDie(request.text))
          const items: ReadonlyArray<unknown> = Array.isArray(body) ? body : [body]
          const user = yield* CurrentUser
          // Per-token rate limit, counted in events (a batch of 100 spends 100).
          const limited = yield* limiter.consume({
            algorithm: "token-bucket",
            onExceeded: "fail",
            window: "1 second",
            limit: access.ingestRate,
            key: `ingest:${user.tokenId ?? "anonymous"}`,
            tokens: Math.min(items.length, access.ingestRate)
          }).pipe(Effect.either)
          if (limited._tag === "Left") {
            eventsRejected.inc({ reason: "rate_limited" }, items.length)
            const retryAfter = limited.left._tag === "RateLimiterError" && "retryAfter" in limited.left
              ? Math.max(1, Math.ceil(Duration.toSeconds((limited.left as { retryAfter: Duration.Duration }).retryAfter)))
              : 1
            return HttpServerResponse.unsafeJson(
              {
                _tag: "TooManyRequests",
                message: `ingest rate limit of ${access.ingestRate} events/s for this token exceeded; retry after ${retryAfter} s`,
                retryAfterSeconds: retryAfter
              },
              { status: 429, headers: { "retry-after": String(retryAfter) } }
            )
          }
          if (items.length === 0) {
            return yield* new BadRequest({ message: `body is an empty array; send 1 to ${maxEventsPerRequest} events` })
          }
          if (items.length > maxEventsPerRequest) {
            eventsRejected.inc({ reason: "too_many" }, items.length)
            return yield* new BadRequest({
              message: `body holds ${items.length} events; at most ${maxEventsPerRequest} per request`
            })
          }
          const receivedAt = new Date()
          const results: Array<ItemResult> = new Array(items.length)
          const valid: Array<NewEvent> = []
          const validIndex: Array<number> = []
          items.forEach((item, index) => {
            const checked = validateEvent(item, receivedAt, { checkStrings })
            if (Either.isRight(checked)) {
              valid.push(checked.right)
              validIndex.push(index)
            } else {
              results[index] = { index, status: "rejected", path: checked.left.path, reason: checked.left.message }
            }
          })
          if (valid.length < items.length) eventsRejected.inc({ reason: "invalid" }, items.length - valid.length)
          if (valid.length === 0) {
            const first = results[0] as Extract<ItemResult, { status: "rejected" }>
            return yield* new EventsRejected({
              message: items.length === 1
                ? `event rejected: ${first.path === "" ? "" : `${first.path} `}${first.reason}`
                : `all ${items.length} events were rejected; see results`,
              results
            })
          }
          const outcomes = yield* bus.publish(yield* withCallersTraceState(valid, request.headers["tracestate"])).pipe(
            Effect.mapError(unavailable)
          )
          let accepted = 0
          outcomes.forEach((outcome, i) => {
            const index = validIndex[i]!
            const { id, source } = valid[i]!
            if (outcome._tag === "Inserted") {
              accepted++
              results[index] = { index, status: "accepted", id, source, sequence: outcome.event.sequence }
            } else {
              results[index] = { index, status: "duplicate", id, source, sequence: outcome.sequence }
            }
          })
          eventsIngested.inc({ route: "events", result: "accepted" }, accepted)
          eventsIngested.inc({ route: "events", result: "duplicate" }, valid.length - accepted)
          return {
            accepted,
            duplicates: valid.length - accepted,
            rejected: items.length - valid.length,
            results
          }
        }))
      .handle("recent", ({ urlParams }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const events = yield* repo.recent(
            makeFilter(urlParams, user.name),
            { after: urlParams.after, before: urlParams.before },
            urlParams.limit ?? 100
          ).pipe(Effect.mapError(unavailable))
          // Each event's JSON is already rendered; the array is joined, not re-encoded.
          return HttpServerResponse.text(`[${events.map(cloudEventJson).join(",")}]`, {
            contentType: "application/json"
          })
        }))
      .handle("stats", () =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const counts = yield* repo.counts()
          const lastMinute = yield* repo.countSince(now - 60_000)
          const lastHour = yield* repo.countSince(now - 3_600_000)
          const watermark = yield* repo.getMeta(retentionWatermarkKey)
          const byType: Record<string, number> = {}
          const bySeverity: Record<Severity, number> = { debug: 0, info: 0, warning: 0, error: 0, critical: 0 }
          for (const g of counts.byTypeAndSeverity) {
            byType[g.type] = (byType[g.type] ?? 0) + g.n
            bySeverity[severityOfRank(g.severity)] += g.n
          }
          const subscribers = bus.subscriberCounts()
          return {
            total: counts.total,
            byType,
            bySeverity,
            lastMinute,
            lastHour,
            firstSequence: counts.first ?? null,
            lastSequence: counts.last ?? null,
            retainedFrom: watermark === undefined ? null : Number(watermark),
            subscribers: { ...subscribers, total: subscribers.sse + subscribers.ws + subscribers.internal }
          }
        }).pipe(Effect.mapError(unavailable)))
      .handle("deadLetters", ({ urlParams }) =>
        deadLetters.list({ consumer: urlParams.consumer, limit: urlParams.limit ?? 100 }).pipe(Effect.mapError(unavailable)))
      .handle("stream", ({ request, urlParams }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const filter = makeFilter(urlParams, user.name)
          const after = yield* startingPoint(filter, request.headers["last-event-id"], urlParams)
          return yield* sse.respond(filter, after, user)
        }))
      .handle("websocket", ({ request, urlParams }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const filter = makeFilter(urlParams, user.name)
          const after = yield* startingPoint(filter, request.headers["last-event-id"], urlParams)
          if (!isUpgrade(request)) return yield* new BadRequest({ message: "not a WebSocket upgrade: send Upgrade: websocket" })
          return yield* ws.accept(request, filter, after, user)
        }))
  })).pipe(Layer.provide([SseStreams.Default, WebSocketStreams.Default]))
