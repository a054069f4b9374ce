/**
 * The notifications group: acknowledging incidents, silences, the delivery log with an admin's
 * retry of a dead letter, and the channels with a test message each.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as Schema from "effect/Schema"
import { ChannelInfo, Delivery, DeliveryStatus } from "../domain/Delivery.js"
import { Incident } from "../domain/Incident.js"
import { NewSilence, Silence } from "../domain/Silence.js"
import { Conflict, NotFound, ServiceUnavailable } from "./ApiErrors.js"
import { RequireAdmin, RequireRead } from "./Security.js"

const Id = Schema.Struct({ id: Schema.String })

export const Acknowledge = Schema.Struct({
  by: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))).annotations({
    description: "Who; the token's user when authentication is on"
  }),
  comment: Schema.optional(Schema.String.pipe(Schema.maxLength(1000)))
})

const Limit = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000, { message: () => "must be between 1 and 1000" }))

export class NotifyApi extends HttpApiGroup.make("notify")
  .add(
    HttpApiEndpoint.post("acknowledge", "/api/v1/incidents/:id/ack")
      .middleware(RequireAdmin)
      .setPath(Id)
      .setPayload(Acknowledge)
      .addSuccess(Incident)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.del("unacknowledge", "/api/v1/incidents/:id/ack")
      .middleware(RequireAdmin)
      .setPath(Id)
      .addSuccess(Incident)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("silences", "/api/v1/silences")
      .middleware(RequireRead)
      .addSuccess(Schema.Array(Silence))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("createSilence", "/api/v1/silences")
      .middleware(RequireAdmin)
      .setPayload(NewSilence)
      .addSuccess(Silence, { status: 201 })
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.del("endSilence", "/api/v1/silences/:id")
      .middleware(RequireAdmin)
      .setPath(Id)
      .addSuccess(Schema.Struct({ ended: Schema.Literal(true) }))
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("deliveries", "/api/v1/deliveries")
      .middleware(RequireRead)
      .setUrlParams(Schema.Struct({
        status: Schema.optional(DeliveryStatus),
        channel: Schema.optional(Schema.String),
        limit: Schema.optional(Limit)
      }))
      .addSuccess(Schema.Array(Delivery))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("retryDelivery", "/api/v1/deliveries/:id/retry")
      .middleware(RequireAdmin)
      .setPath(Id)
      .addSuccess(Delivery)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
  )
  .add(HttpApiEndpoint.get("channels", "/api/v1/channels").middleware(RequireRead).addSuccess(Schema.Array(ChannelInfo)))
  .add(
    HttpApiEndpoint.post("testChannel", "/api/v1/channels/:name/test")
      .middleware(RequireAdmin)
      .setPath(Schema.Struct({ name: Schema.String }))
      .addSuccess(Delivery)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
{}
