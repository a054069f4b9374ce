/**
 * A record an internal consumer could not process and moved past, with why.
 */
import * as Schema from "effect/Schema"

export const DeadLetter = Schema.Struct({
  id: Schema.Int,
  consumer: Schema.String,
  sequence: Schema.Int,
  type: Schema.String,
  eventId: Schema.String,
  eventSource: Schema.String,
  error: Schema.String,
  attempts: Schema.Int,
  failedAt: Schema.String
}).annotations({ identifier: "DeadLetter" })
export type DeadLetter = typeof DeadLetter.Type
