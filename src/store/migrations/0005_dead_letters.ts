/**
 * Records an internal consumer could not process. A consumer that meets one records it here and
 * moves past it, so one bad record never stops it; an admin sees them at `/api/v1/dead-letters`.
 * At most one row per consumer and sequence, so a record is never skipped twice.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { columnTypes } from "./ColumnTypes.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { id, bigint } = columnTypes(sql)
  yield* sql`CREATE TABLE dead_letters (
    id ${id},
    consumer TEXT NOT NULL,
    event_sequence ${bigint} NOT NULL,
    event_type TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_source TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts ${bigint} NOT NULL,
    failed_at ${bigint} NOT NULL,
    UNIQUE (consumer, event_sequence)
  )`
})
