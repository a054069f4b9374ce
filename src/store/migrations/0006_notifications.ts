/**
 * Notifications people can live with: acknowledgements on incidents, silences as data, and the
 * delivery log (every notification, its channel, incidents, status, attempts and last error; a
 * delivery that failed for good is its dead letter). The first tables for notified incidents and
 * notification dead letters are replaced by these and dropped.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { columnTypes } from "./ColumnTypes.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { bigint, bool } = columnTypes(sql)

  yield* sql`ALTER TABLE incidents ADD COLUMN acked_at ${bigint}`
  yield* sql`ALTER TABLE incidents ADD COLUMN acked_by TEXT`
  yield* sql`ALTER TABLE incidents ADD COLUMN ack_comment TEXT`
  yield* sql`CREATE INDEX incidents_key_opened ON incidents (key, opened_at)`

  yield* sql`CREATE TABLE silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at ${bigint} NOT NULL,
    ends_at ${bigint},
    until_resolved ${bool} NOT NULL,
    recurring TEXT,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    created_at ${bigint} NOT NULL,
    ended_at ${bigint}
  )`

  yield* sql`CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    created_at ${bigint} NOT NULL,
    updated_at ${bigint} NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    incident_keys TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts ${bigint} NOT NULL,
    error TEXT,
    message TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX deliveries_created ON deliveries (created_at)`
  yield* sql`CREATE INDEX deliveries_status ON deliveries (status, created_at)`

  yield* sql`DROP TABLE notified_incidents`
  yield* sql`DROP TABLE notification_dead_letters`
})
