/**
 * The SQLite client whose connection runs on a worker thread, against a real database file:
 * statements in order, transactions that commit or roll back whole, SQLite's own errors, and a
 * file that another connection reads once the client is closed.
 */
import { describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import Database from "better-sqlite3"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { mkdtempSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as SqliteThread from "../../src/store/SqliteThread.js"

const fresh = () => Path.join(mkdtempSync(Path.join(Os.tmpdir(), "vigil-sqlite-thread-")), "test.db")

describe("SqliteThread", () => {
  it.effect("runs statements in the order issued, and a failed transaction leaves nothing behind", () => {
    const filename = fresh()
    return Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`
      // Issued concurrently, answered in order: one connection, one statement at a time.
      yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => sql`INSERT INTO t (name) VALUES (${`n${i}`})`, { concurrency: "unbounded", discard: true })
      const rows = yield* sql<{ id: number; name: string }>`SELECT id, name FROM t ORDER BY id`
      expect(rows.map((r) => r.name)).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`))

      const failed = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO t (name) VALUES ('kept?')`
        yield* sql`INSERT INTO t (name) VALUES ('n0')`
      })).pipe(Effect.either)
      expect(Either.isLeft(failed) && String(failed.left.cause)).toContain("UNIQUE constraint failed")
      expect(yield* sql`SELECT name FROM t WHERE name = 'kept?'`).toEqual([])

      const streamed = yield* Stream.runCollect(sql<{ name: string }>`SELECT name FROM t WHERE id <= 3 ORDER BY id`.stream)
      expect(Chunk.toReadonlyArray(streamed)).toEqual([{ name: "n0" }, { name: "n1" }, { name: "n2" }])

      const inserted = yield* sql<{ id: number }>`INSERT INTO t (name) VALUES ('last') RETURNING id`
      expect(inserted).toEqual([{ id: 51 }])
      expect(yield* sql`SELECT nope FROM t`.pipe(Effect.flip, Effect.map((e) => String(e.cause)))).toContain("no such column: nope")
    }).pipe(
      Effect.provide(SqliteThread.layer({ filename })),
      Effect.andThen(Effect.sync(() => {
        // Closed with the layer: another connection reads everything from the file alone.
        const db = new Database(filename, { readonly: true })
        expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 51 })
        db.close()
      }))
    )
  })

  it.effect("names columns as the client is told to, both ways", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE things (some_name TEXT)`
      yield* sql`INSERT INTO things ${sql.insert({ someName: "a" })}`
      expect(yield* sql`SELECT some_name FROM things`).toEqual([{ someName: "a" }])
    }).pipe(Effect.provide(SqliteThread.layer({
      filename: fresh(),
      transformQueryNames: (n) => n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      transformResultNames: (n) => n.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    }))))

  it.effect("fails every statement once its thread is gone, instead of hanging", () =>
    Effect.gen(function*() {
      const sql = yield* Effect.scoped(Effect.map(Layer.build(SqliteThread.layer({ filename: fresh() })), Context.get(SqlClient.SqlClient)))
      const error = yield* Effect.flip(sql`SELECT 1`)
      expect(error.message).toContain("the SQLite thread exited")
    }))
})
