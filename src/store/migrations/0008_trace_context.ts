/**
 * An incident keeps the trace context of the poll (or request) that opened it, so what is done
 * about it later (remediation, notifications) continues that trace. Events keep theirs among
 * their extension attributes and need no column; an index on their subject finds what happened to
 * an incident's target for its timeline.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE incidents ADD COLUMN traceparent TEXT`
  yield* sql`CREATE INDEX events_subject_received ON events (subject, received_at)`
})
