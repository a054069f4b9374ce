/**
 * Where events and records are kept: SQLite in `VIGIL_DATA_DIR` by default, PostgreSQL when
 * `VIGIL_DATABASE_URL` is set, and how many events the writer commits at once.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { positiveInt } from "../domain/ConfigFormats.js"

export const storeConfig = Config.all({
  /** Where the SQLite file lives (`vigil.db` inside it). */
  dataDir: Config.string("VIGIL_DATA_DIR").pipe(Config.withDefault("./data")),
  /** When set, PostgreSQL replaces SQLite. */
  databaseUrl: Config.option(Config.redacted("VIGIL_DATABASE_URL")),
  /** Largest number of events the writer commits in one transaction. */
  writerMaxBatch: positiveInt("VIGIL_WRITER_MAX_BATCH", 2000)
})

/** Where a PostgreSQL store is, for a person: host, port and database, never the credentials. */
export const postgresLocation = (url: Redacted.Redacted) => {
  const u = new URL(Redacted.value(url))
  return `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`
}

export class StoreConfig extends Context.Tag("vigil/StoreConfig")<StoreConfig, Config.Config.Success<typeof storeConfig>>() {
  static readonly layer = Layer.effect(StoreConfig, storeConfig)
}
