/**
 * The SQL client vigil runs on, migrated and ready: SQLite in `VIGIL_DATA_DIR` by default,
 * PostgreSQL when `VIGIL_DATABASE_URL` is set. Everything above this module speaks the common
 * `SqlClient` and stays dialect-neutral.
 */
import { PgClient, PgMigrator } from "@effect/sql-pg"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as String from "effect/String"
import { mkdirSync } from "node:fs"
import * as Path from "node:path"
import { migrations } from "./migrations/index.js"
import { SharedStore, SharedStoreLocal, SharedStorePg } from "./Shared.js"
import * as SqliteThread from "./SqliteThread.js"
import { StoreConfig } from "./StoreConfig.js"

/** Columns are snake_case in SQL and camelCase in code: rows arrive camelCased, inserts are snake_cased. */
const names = { transformResultNames: String.snakeToCamel, transformQueryNames: String.camelToSnake }

const sqlite = (dataDir: string) => {
  const client = Layer.unwrapEffect(
    Effect.sync(() => {
      mkdirSync(dataDir, { recursive: true })
      return SqliteThread.layer({ filename: Path.join(dataDir, "vigil.db"), ...names })
    })
  )
  // WAL (set by the SQLite thread) with synchronous=NORMAL: a commit survives a crash of the
  // process; only a power loss can take back the last transactions. busy_timeout lets a second
  // process (the `tail` CLI, a backup) read without failing the writer.
  const pragmas = Layer.effectDiscard(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`PRAGMA synchronous = NORMAL`
      yield* sql`PRAGMA busy_timeout = 5000`
    })
  )
  // @effect/sql's own migrator: the SQLite client package's would load better-sqlite3 on this thread.
  const migrator = Layer.effectDiscard(Migrator.make({})({ loader: migrations }))
  return Layer.mergeAll(pragmas, migrator, SharedStoreLocal).pipe(Layer.provideMerge(client))
}

const postgres = (url: Parameters<typeof PgClient.layer>[0]["url"]) =>
  Layer.mergeAll(PgMigrator.layer({ loader: migrations }), SharedStorePg).pipe(
    Layer.provideMerge(PgClient.layer({ url, applicationName: "vigil", ...names }))
  )

/** The SQL client, migrated, and how instances sharing it coordinate (SharedStore). */
export const SqlLive: Layer.Layer<SqlClient.SqlClient | SharedStore, unknown, StoreConfig> = Layer.unwrapEffect(
  Effect.map(StoreConfig, (config) =>
    Option.match(config.databaseUrl, {
      onNone: () => sqlite(config.dataDir),
      onSome: (url) => postgres(url)
    }) as Layer.Layer<SqlClient.SqlClient | SharedStore, unknown>)
)
