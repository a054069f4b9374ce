/**
 * A notification in a user's inbox: what vigil wants a person to see later, with its read state.
 */
import * as Schema from "effect/Schema"

export const Notification = Schema.Struct({
  id: Schema.Int,
  user: Schema.NullOr(Schema.String),
  title: Schema.String,
  message: Schema.String,
  priority: Schema.Literal("normal", "high", "critical"),
  category: Schema.String,
  eventSequence: Schema.NullOr(Schema.Int),
  createdAt: Schema.String,
  read: Schema.Boolean
}).annotations({ identifier: "Notification" })
export type Notification = typeof Notification.Type
