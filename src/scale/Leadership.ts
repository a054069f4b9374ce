/**
 * Which instance polls the cluster and remediates. With SQLite there is one instance and it is
 * the leader. With PostgreSQL, instances compete for a session-level advisory lock held on a
 * dedicated connection: the holder leads; the others serve and retry every
 * `VIGIL_LEADER_RETRY` (2 s). When the leader dies, PostgreSQL ends its session and frees the lock
 * (at once for a killed process, whose socket the kernel closes); when its connection fails, it
 * steps down by itself. So a new leader takes over within about one retry interval.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { randomUUID } from "node:crypto"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"

/** The advisory lock key of leadership ("vlea" in ASCII). */
const leaderLock = 0x766c6561

export class Leadership extends Effect.Service<Leadership>()("vigil/Leadership", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    /** How often an instance that is not the leader tries to become it. */
    const retry = yield* Config.duration("VIGIL_LEADER_RETRY").pipe(Config.withDefault(Duration.seconds(2)))
    const instance = randomUUID().slice(0, 8)
    const leader = yield* SubscriptionRef.make(false)
    const shared = sql.onDialectOrElse({ pg: () => true, orElse: () => false })

    if (!shared) {
      yield* SubscriptionRef.set(leader, true)
    } else {
      const term = Effect.scoped(Effect.gen(function*() {
        const connection = yield* sql.reserve
        const tryLock = Effect.map(
          connection.execute("SELECT pg_try_advisory_lock($1) AS ok", [leaderLock], undefined),
          (rows) => rows[0]?.ok === true
        )
        yield* tryLock.pipe(Effect.repeat({ schedule: Schedule.spaced(retry), until: (ok) => ok }))
        // The connection goes back to the pool afterwards: it must not keep the lock there.
        yield* Effect.addFinalizer(() =>
          connection.execute("SELECT pg_advisory_unlock($1)", [leaderLock], undefined).pipe(Effect.ignore)
        )
        yield* SubscriptionRef.set(leader, true)
        yield* Effect.logInfo(`instance ${instance} leads: it polls the cluster and remediates`)
        // Hold while the session is alive; a failed check means the lock may be gone: step down.
        yield* connection.execute("SELECT 1", [], undefined).pipe(
          Effect.timeout("5 seconds"),
          Effect.repeat(Schedule.spaced("1 second"))
        )
      })).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning(`instance ${instance} lost its leadership connection`, cause)),
        Effect.ensuring(SubscriptionRef.set(leader, false))
      )
      yield* term.pipe(Effect.repeat(Schedule.spaced(retry)), Effect.forkScoped)
    }

    return {
      instance,
      isLeader: SubscriptionRef.get(leader),
      changes: leader.changes
    } as const
  })
}) {}
