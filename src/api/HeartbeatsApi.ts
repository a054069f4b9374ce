/**
 * The heartbeats group: producers report they are alive; readers list who is.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as Schema from "effect/Schema"
import { RequireIngest, RequireRead } from "./Security.js"
import { ServiceUnavailable } from "./ApiErrors.js"

export const HeartbeatPath = Schema.Struct({
  kind: Schema.String.pipe(
    Schema.pattern(/^[a-z][a-z0-9_-]{0,31}$/, { message: () => "kind must be lower-case letters, digits, - or _ (worker, hive, agent)" })
  ),
  id: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9._:@-]{1,128}$/, { message: () => "id must be 1..128 letters, digits or . _ : @ -" })
  )
})

/** The largest `details` a beat may carry, as JSON text. */
export const maxDetailsBytes = 8192

export const HeartbeatBody = Schema.Struct({
  status: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64)), { default: () => "ok" }),
  details: Schema.optional(
    Schema.Record({ key: Schema.String, value: Schema.Unknown }).pipe(
      // Every beat goes to every open stream: details stay small.
      Schema.filter((d) => JSON.stringify(d).length <= maxDetailsBytes || `details must be at most ${maxDetailsBytes} bytes of JSON`)
    )
  )
})

export const ProducerView = Schema.Struct({
  kind: Schema.String,
  id: Schema.String,
  status: Schema.String,
  alive: Schema.Boolean,
  lastBeatAt: Schema.String,
  details: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}).annotations({ identifier: "Producer" })

export class HeartbeatsApi extends HttpApiGroup.make("heartbeats")
  .add(
    HttpApiEndpoint.post("beat", "/api/v1/heartbeats/:kind/:id")
      .middleware(RequireIngest)
      .setPath(HeartbeatPath)
      .setPayload(HeartbeatBody)
      .addSuccess(Schema.Struct({ kind: Schema.String, id: Schema.String, status: Schema.String, recovered: Schema.Boolean }), { status: 202 })
      .addError(ServiceUnavailable)
  )
  .add(HttpApiEndpoint.get("list", "/api/v1/heartbeats").middleware(RequireRead).addSuccess(Schema.Array(ProducerView)))
{}

