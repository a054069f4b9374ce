/**
 * The event log. `seq` is the CloudEvents `sequence`: assigned by the database, strictly
 * increasing and never reused (SQLite AUTOINCREMENT / a PostgreSQL identity), even after
 * retention deleted every row. `(source, id)` is unique: CloudEvents' own identity rule,
 * which is what makes a retried ingest a duplicate rather than a second event.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    pg: () =>
      sql`CREATE TABLE events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        time TEXT NOT NULL,
        subject TEXT,
        datacontenttype TEXT,
        severity SMALLINT NOT NULL,
        node TEXT,
        data TEXT,
        data_base64 TEXT,
        extensions TEXT,
        received_at BIGINT NOT NULL,
        UNIQUE (source, id)
      )`,
    orElse: () =>
      sql`CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        time TEXT NOT NULL,
        subject TEXT,
        datacontenttype TEXT,
        severity INTEGER NOT NULL,
        node TEXT,
        data TEXT,
        data_base64 TEXT,
        extensions TEXT,
        received_at INTEGER NOT NULL,
        UNIQUE (source, id)
      )`
  })
  // (type, severity) serves type filters and is a covering index for the stats group-by.
  yield* sql`CREATE INDEX events_type_severity ON events (type, severity)`
  yield* sql`CREATE INDEX events_received_at ON events (received_at)`
  // Small facts the store keeps about itself, such as the retention watermark.
  yield* sql`CREATE TABLE vigil_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`
})
