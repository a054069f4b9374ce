/**
 * How instances sharing one PostgreSQL database coordinate, in one place: LISTEN/NOTIFY channels
 * (new events, heartbeats) and advisory locks (the writers' order, the leader). On SQLite there is
 * one instance: channels are silent, the writer lock is free, and the lock is held at once.
 */
import { PgClient } from "@effect/sql-pg"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

export interface SharedStoreShape {
  /** Whether other instances may share the store (PostgreSQL). */
  readonly shared: boolean
  /** Tells every instance listening on `channel`; payloads are small (PostgreSQL allows 8000 bytes). */
  readonly notify: (channel: string, payload: string) => Effect.Effect<void>
  /** What arrives on `channel`, for ever: a lost LISTEN connection is re-established a second later. */
  readonly listen: (channel: string) => Stream.Stream<string>
  /**
   * Serialises writers across instances: taken first in each insert transaction and held until it
   * commits, so sequences are assigned, and become visible, in commit order.
   */
  readonly lockWriters: Effect.Effect<void, SqlError>
  /**
   * Holds a session lock on a connection of its own: tries every `retry` until it gets it, runs
   * `acquired`, and holds it while the session answers; fails when it does not (the lock may be gone).
   */
  readonly holdLock: (key: number, retry: Duration.Duration, acquired: Effect.Effect<void>) => Effect.Effect<never, unknown, Scope.Scope>
}

export class SharedStore extends Context.Tag("vigil/SharedStore")<SharedStore, SharedStoreShape>() {}

/** The advisory lock key of vigil's event writers ("vigl" in ASCII). */
const writerLock = 0x7669676c

/** One instance on SQLite. */
export const SharedStoreLocal = Layer.succeed(SharedStore, {
  shared: false,
  notify: () => Effect.void,
  listen: () => Stream.never,
  lockWriters: Effect.void,
  holdLock: (_key, _retry, acquired) => Effect.zipRight(acquired, Effect.never)
})

/** Several instances on PostgreSQL. */
export const SharedStorePg = Layer.effect(
  SharedStore,
  Effect.gen(function*() {
    const pg = yield* PgClient.PgClient
    const sql = yield* SqlClient.SqlClient
    return {
      shared: true,
      // pg_notify, not PgClient.notify: the latter binds the payload as a parameter, which the
      // NOTIFY statement does not accept (a syntax error on this version).
      notify: (channel, payload) =>
        sql`SELECT pg_notify(${channel}, ${payload})`.pipe(
          Effect.asVoid,
          Effect.catchAllCause((cause) => Effect.logWarning(`NOTIFY ${channel} failed`, cause))
        ),
      listen: (channel) =>
        pg.listen(channel).pipe(
          Stream.catchAllCause((cause) => Stream.execute(Effect.logWarning(`LISTEN ${channel} failed; retrying`, cause))),
          Stream.repeat(Schedule.spaced("1 second"))
        ),
      lockWriters: sql`SELECT pg_advisory_xact_lock(${writerLock})`.pipe(Effect.asVoid),
      holdLock: (key, retry, acquired) =>
        Effect.gen(function*() {
          const connection = yield* sql.reserve
          const tryLock = Effect.map(connection.execute("SELECT pg_try_advisory_lock($1) AS ok", [key], undefined), (rows) => rows[0]?.ok === true)
          yield* tryLock.pipe(Effect.repeat({ schedule: Schedule.spaced(retry), until: (ok) => ok }))
          // The connection goes back to the pool afterwards: it must not keep the lock there.
          yield* Effect.addFinalizer(() => connection.execute("SELECT pg_advisory_unlock($1)", [key], undefined).pipe(Effect.ignore))
          yield* acquired
          return yield* connection.execute("SELECT 1", [], undefined).pipe(
            Effect.timeout("5 seconds"),
            Effect.repeat(Schedule.spaced("1 second")),
            Effect.zipRight(Effect.never)
          )
        })
    } satisfies SharedStoreShape
  })
)
