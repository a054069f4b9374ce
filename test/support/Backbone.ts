/**
 * The event backbone (real SQLite in a temp dir) without HTTP, for store and bus tests.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ConfigProvider from "effect/ConfigProvider"
import { BackboneLive } from "../../src/bus/Backbone.js"
import { makeEvent, type NewEvent } from "../../src/domain/Event.js"
import { StoreConfig } from "../../src/store/StoreConfig.js"
import { freshDatabase } from "./Postgres.js"
import { tempDir } from "./Vigil.js"

export type Dialect = "sqlite" | "pg"

/** The backbone on SQLite in a temp dir, or on a fresh PostgreSQL database. */
export const TestBackbone = (env: Record<string, string> = {}, dialect: Dialect = "sqlite") =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const dir = yield* tempDir
      const database = dialect === "pg" ? { VIGIL_DATABASE_URL: (yield* freshDatabase).url } : {}
      return BackboneLive.pipe(
        Layer.provideMerge(StoreConfig.layer),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ VIGIL_DATA_DIR: dir, ...database, ...env })))))
      )
    })
  )

export const testEvents = (n: number, fields: Partial<Parameters<typeof makeEvent>[0]> = {}): Array<NewEvent> =>
  Array.from({ length: n }, (_, i) => makeEvent({ type: "test.event", data: { i }, ...fields }))
