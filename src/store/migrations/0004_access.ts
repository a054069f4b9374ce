/**
 * Access: API tokens (stored only as SHA-256 hashes), the audience of an event (the one user it
 * is for), and per-user notifications with their read state.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { columnTypes } from "./ColumnTypes.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { id, bigint } = columnTypes(sql)
  yield* sql`CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    scopes TEXT NOT NULL,
    label TEXT,
    created_at ${bigint} NOT NULL,
    expires_at ${bigint},
    revoked_at ${bigint},
    last_used_at ${bigint}
  )`
  yield* sql`ALTER TABLE events ADD COLUMN audience TEXT`
  yield* sql`CREATE TABLE notifications (
    id ${id},
    username TEXT,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    priority TEXT NOT NULL,
    category TEXT NOT NULL,
    event_sequence ${bigint},
    created_at ${bigint} NOT NULL
  )`
  yield* sql`CREATE INDEX notifications_user ON notifications (username, id)`
  yield* sql`CREATE TABLE notification_reads (
    notification_id ${bigint} NOT NULL,
    username TEXT NOT NULL,
    read_at ${bigint} NOT NULL,
    PRIMARY KEY (notification_id, username)
  )`
})
