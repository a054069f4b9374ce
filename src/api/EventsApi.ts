/**
 * The events group: batch ingest, recent events, stats, and the two live streams (SSE and
 * WebSocket). Payload and parameter schemas here are the contract the OpenAPI document shows.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import { RequireAdmin, RequireIngest, RequireRead } from "./Security.js"
import { CloudEvent, IngestItem } from "../domain/Event.js"
import { FilterParams } from "../domain/EventFilter.js"
import { Severity } from "../domain/Severity.js"
import { DeadLetter } from "../domain/DeadLetter.js"
import { BadRequest, PayloadTooLarge, ServiceUnavailable, TooManyStreams, UnsupportedMediaType } from "./ApiErrors.js"

/** Most events one ingest request may carry. */
export const maxEventsPerRequest = 1000

const Sequence = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "must be an integer sequence" }),
  Schema.nonNegative({ message: () => "must be 0 or greater" })
)

const filterParams = FilterParams

export const RecentQuery = Schema.Struct({
  ...filterParams,
  after: Schema.optional(Sequence.annotations({ description: "Only events with a greater sequence" })),
  before: Schema.optional(Sequence.annotations({ description: "Only events with a smaller sequence" })),
  limit: Schema.optional(
    Schema.NumberFromString.pipe(
      Schema.int({ message: () => "must be an integer" }),
      Schema.between(1, 1000, { message: () => "must be between 1 and 1000" })
    ).annotations({ description: "Default 100, at most 1000" })
  )
})

export const StreamQuery = Schema.Struct({
  ...filterParams,
  last_event_id: Schema.optional(Sequence.annotations({
    description: "Resume after this sequence (the Last-Event-ID header does the same and wins)"
  })),
  backfill: Schema.optional(
    Schema.NumberFromString.pipe(
      Schema.int({ message: () => "must be an integer" }),
      Schema.between(0, 1000, { message: () => "must be between 0 and 1000" })
    ).annotations({
      description: "Without a resume point, start with this many of the latest matching events (default " +
        "VIGIL_STREAM_BACKFILL, 50); 0 follows live only"
    })
  )
})

const ItemResult = Schema.Union(
  Schema.Struct({
    index: Schema.Int,
    status: Schema.Literal("accepted"),
    id: Schema.String,
    source: Schema.String,
    sequence: Schema.Int
  }),
  Schema.Struct({
    index: Schema.Int,
    status: Schema.Literal("duplicate"),
    id: Schema.String,
    source: Schema.String,
    sequence: Schema.Int.annotations({ description: "The sequence the event was first stored under" })
  }),
  Schema.Struct({
    index: Schema.Int,
    status: Schema.Literal("rejected"),
    path: Schema.String.annotations({ description: "The attribute that is wrong, empty for the whole item" }),
    reason: Schema.String
  })
).annotations({ identifier: "IngestItemResult" })

export const IngestResponse = Schema.Struct({
  accepted: Schema.Int,
  duplicates: Schema.Int,
  rejected: Schema.Int,
  results: Schema.Array(ItemResult)
}).annotations({ identifier: "IngestResponse" })

/** The token's ingest rate limit is spent; `Retry-After` says when to try again. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()(
  "TooManyRequests",
  { message: Schema.String, retryAfterSeconds: Schema.Int.annotations({ description: "As the Retry-After header" }) },
  HttpApiSchema.annotations({ status: 429 })
) {}

/** Every item of the request was rejected: nothing was stored. The body says why, per item. */
export class EventsRejected extends Schema.TaggedError<EventsRejected>()(
  "EventsRejected",
  { message: Schema.String, results: Schema.Array(ItemResult) },
  HttpApiSchema.annotations({ status: 400 })
) {}

export const Stats = Schema.Struct({
  total: Schema.Int,
  byType: Schema.Record({ key: Schema.String, value: Schema.Int }),
  bySeverity: Schema.Record({ key: Severity, value: Schema.Int }),
  lastMinute: Schema.Int,
  lastHour: Schema.Int,
  firstSequence: Schema.NullOr(Schema.Int),
  lastSequence: Schema.NullOr(Schema.Int),
  retainedFrom: Schema.NullOr(Schema.Int).annotations({
    description: "Retention deleted every event up to and including this sequence"
  }),
  subscribers: Schema.Struct({ sse: Schema.Int, ws: Schema.Int, internal: Schema.Int, total: Schema.Int })
}).annotations({ identifier: "EventStats" })

const EventStream = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })
).annotations({
  description: "retry, `event: connected`, then one frame per event (`id: <sequence>`, `data: <CloudEvent>`); " +
    "named frames: heartbeat, gap, lagged, shutdown"
})

export class EventsApi extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.post("ingest", "/api/v1/events")
      .middleware(RequireIngest)
      .setPayload(Schema.Union(Schema.Array(IngestItem), IngestItem))
      .addSuccess(IngestResponse)
      .addError(EventsRejected)
      .addError(BadRequest)
      .addError(PayloadTooLarge)
      .addError(UnsupportedMediaType)
      .addError(TooManyRequests)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, `One CloudEvent or an array of 1..${maxEventsPerRequest}. Answered after the accepted events are committed; one result per item.`)
  )
  .add(
    HttpApiEndpoint.get("recent", "/api/v1/events")
      .middleware(RequireRead)
      .setUrlParams(RecentQuery)
      .addSuccess(Schema.Array(CloudEvent))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("stats", "/api/v1/events/stats")
      .middleware(RequireRead)
      .addSuccess(Stats)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("deadLetters", "/api/v1/dead-letters")
      .middleware(RequireAdmin)
      .setUrlParams(Schema.Struct({
        consumer: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000, { message: () => "must be between 1 and 1000" })))
      }))
      .addSuccess(Schema.Array(DeadLetter))
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Events an internal consumer (notifications, ...) could not process and moved past, with why; newest first")
  )
  .add(
    HttpApiEndpoint.get("stream", "/api/v1/events/stream")
      .middleware(RequireRead)
      .setUrlParams(StreamQuery)
      .addSuccess(EventStream)
      .addError(BadRequest)
      .addError(TooManyStreams)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Server-Sent Events: replays after Last-Event-ID, then follows live")
  )
  .add(
    HttpApiEndpoint.get("websocket", "/api/v1/events/ws")
      .middleware(RequireRead)
      .setUrlParams(StreamQuery)
      .addSuccess(HttpApiSchema.Empty(101))
      .addError(BadRequest)
      .addError(TooManyStreams)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "WebSocket upgrade; JSON messages, see the README for the protocol")
  )
{}
