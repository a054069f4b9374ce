/**
 * Which instance polls the cluster and remediates. With SQLite there is one instance and it is
 * the leader. With PostgreSQL, instances compete for a session-level advisory lock held on a
 * dedicated connection: the holder leads; the others serve and retry every
 * `VIGIL_LEADER_RETRY` (2 s). When the leader dies, PostgreSQL ends its session and frees the lock
 * (at once for a killed process, whose socket the kernel closes); when its connection fails, it
 * steps down by itself. So a new leader takes over within about one retry interval.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { randomUUID } from "node:crypto"
import { SharedStore } from "../store/Shared.js"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"

/** The advisory lock key of leadership ("vlea" in ASCII). */
const leaderLock = 0x766c6561

export class Leadership extends Effect.Service<Leadership>()("vigil/Leadership", {
  scoped: Effect.gen(function*() {
    const store = yield* SharedStore
    /** How often an instance that is not the leader tries to become it. */
    const retry = yield* Config.duration("VIGIL_LEADER_RETRY").pipe(Config.withDefault(Duration.seconds(2)))
    const instance = randomUUID().slice(0, 8)
    const leader = yield* SubscriptionRef.make(false)
    // The holder of the lock leads; with SQLite that is this one instance, from the start.
    if (!store.shared) yield* SubscriptionRef.set(leader, true)
    yield* store.holdLock(leaderLock, retry, Effect.zipRight(
      SubscriptionRef.set(leader, true),
      store.shared ? Effect.logInfo(`instance ${instance} leads: it polls the cluster and remediates`) : Effect.void
    )).pipe(
      Effect.scoped,
      Effect.catchAllCause((cause) => Effect.logWarning(`instance ${instance} lost its leadership connection`, cause)),
      Effect.ensuring(SubscriptionRef.set(leader, false)),
      Effect.repeat(Schedule.spaced(retry)),
      Effect.forkScoped
    )
    return {
      instance,
      isLeader: SubscriptionRef.get(leader),
      changes: leader.changes
    } as const
  })
}) {}
