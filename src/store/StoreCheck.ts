/**
 * Whether the configured store is there and how far it is migrated, without changing it: the
 * SQLite file is opened read-only (or, before the first start, its folder checked for writing),
 * PostgreSQL is connected to and asked. For `vigil doctor`.
 */
import { PgClient } from "@effect/sql-pg"
import { SqliteClient } from "@effect/sql-sqlite-node"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { accessSync, constants, existsSync, mkdirSync } from "node:fs"
import * as Path from "node:path"
import { latestMigration } from "./migrations/index.js"
import { postgresLocation, type StoreConfig } from "./StoreConfig.js"

export interface StoreStatus {
  /** Where the store is, for a person: the SQLite file, or PostgreSQL's host and database. */
  readonly where: string
  /** The newest migration applied; 0 when there is no database yet. */
  readonly applied: number
  /** The newest this build knows. */
  readonly latest: number
}

const appliedMigration = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ readonly latest: number | string | null }>`SELECT MAX(migration_id) AS latest FROM effect_sql_migrations`.withoutTransform.pipe(
    // No table: a database vigil never started on.
    Effect.catchTag("SqlError", () => Effect.succeed([{ latest: 0 }]))
  )
  return Number(rows[0]?.latest ?? 0)
})

const sqlite = (dataDir: string) => {
  const file = Path.resolve(dataDir, "vigil.db")
  if (!existsSync(file)) {
    return Effect.try({
      try: () => {
        mkdirSync(Path.dirname(file), { recursive: true })
        accessSync(Path.dirname(file), constants.W_OK)
        return { where: file, applied: 0, latest: latestMigration }
      },
      catch: (e) => `cannot create ${file}: ${e instanceof Error ? e.message : String(e)}`
    })
  }
  return appliedMigration.pipe(
    Effect.map((applied) => ({ where: file, applied, latest: latestMigration })),
    Effect.provide(SqliteClient.layer({ filename: file, readonly: true })),
    Effect.mapError((e) => `cannot open ${file}: ${e.message}`)
  )
}

const postgres = (url: Redacted.Redacted) => {
  const where = postgresLocation(url)
  return appliedMigration.pipe(
    Effect.map((applied) => ({ where, applied, latest: latestMigration })),
    Effect.provide(PgClient.layer({ url, applicationName: "vigil doctor", connectTimeout: Duration.seconds(5) })),
    Effect.mapError((e) => `cannot connect to ${where}: ${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ""}`)
  )
}

/** The store's status, or why it cannot be reached, in words. */
export const checkStore = (config: StoreConfig["Type"]): Effect.Effect<StoreStatus, string> =>
  Option.match(config.databaseUrl, { onNone: () => sqlite(config.dataDir), onSome: postgres }).pipe(Effect.scoped)
