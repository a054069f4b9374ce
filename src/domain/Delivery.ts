/**
 * A notification as the delivery log shows it: which channel, what it told (its title, kind and
 * incident keys), and how delivery went: `pending` while it is being tried, `sent`, or `dead`
 * when every attempt failed (a dead letter an admin can send again).
 */
import * as Schema from "effect/Schema"

export const DeliveryStatus = Schema.Literal("pending", "sent", "dead")
export type DeliveryStatus = typeof DeliveryStatus.Type

export const Delivery = Schema.Struct({
  id: Schema.String.annotations({ description: "Also the idempotency key receivers see" }),
  createdAt: Schema.String,
  updatedAt: Schema.String,
  channel: Schema.String,
  kind: Schema.String,
  title: Schema.String,
  incidents: Schema.Array(Schema.String).annotations({ description: "The keys of the incidents it tells" }),
  status: DeliveryStatus,
  attempts: Schema.Int,
  error: Schema.NullOr(Schema.String)
}).annotations({ identifier: "Delivery" })
export type Delivery = typeof Delivery.Type

export const ChannelInfo = Schema.Struct({
  name: Schema.String,
  type: Schema.String.annotations({ description: "email, or the webhook preset" }),
  target: Schema.String.annotations({ description: "Where it sends, secrets hidden" })
}).annotations({ identifier: "ChannelInfo" })
export type ChannelInfo = typeof ChannelInfo.Type
