/**
 * Incidents: one row per occurrence of a condition on a target. At most one is open per key
 * (a partial unique index, which both dialects support), so a condition that keeps firing
 * updates its open incident instead of opening another.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { columnTypes } from "./ColumnTypes.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { bigint } = columnTypes(sql)
  yield* sql`CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    condition TEXT NOT NULL,
    target TEXT NOT NULL,
    node TEXT,
    severity ${bigint} NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    opened_at ${bigint} NOT NULL,
    last_seen_at ${bigint} NOT NULL,
    resolved_at ${bigint},
    count ${bigint} NOT NULL
  )`
  yield* sql`CREATE UNIQUE INDEX incidents_one_open_per_key ON incidents (key) WHERE status = 'open'`
  yield* sql`CREATE INDEX incidents_status_opened ON incidents (status, opened_at)`
})
