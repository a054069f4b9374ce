/**
 * A check the leader runs against every online node (ZFS pools, disks, pending updates): an
 * unreachable node is skipped (the critical tier tells that), a node without the feature is
 * skipped, and a token that may not read it is said once (an info event naming what is missing)
 * and the check stops asking.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { EventBus } from "../bus/EventBus.js"
import type { Snapshot } from "../domain/Snapshot.js"
import type { Unavailable } from "../domain/StorageHealth.js"
import type { SourceError } from "../sources/ClusterSource.js"
import { unavailableEvent } from "./Findings.js"
import { leaderRounds } from "./LeaderRounds.js"

export const nodeRounds = <A>(options: {
  readonly name: string
  readonly interval: Duration.Duration
  readonly offset: Duration.Duration
  /** The latest snapshot: whose nodes are online. */
  readonly latest: Effect.Effect<Option.Option<Snapshot>>
  readonly ask: (node: string) => Effect.Effect<Either.Either<A, Unavailable>, SourceError>
  /** The event that says the check is off, and what it watches, for its summary. */
  readonly unavailable: { readonly type: string; readonly subject: string; readonly what: string }
  readonly newTerm: () => void
  readonly onNode: (node: string, answer: A) => Effect.Effect<void, unknown>
}) =>
  Effect.gen(function*() {
    const bus = yield* EventBus
    let off = false
    yield* leaderRounds(options.name, options.interval, options.offset, (newTerm) =>
      Effect.gen(function*() {
        if (newTerm) options.newTerm()
        if (off) return
        const snapshot = yield* options.latest
        if (Option.isNone(snapshot)) return
        for (const node of snapshot.value.nodes.filter((n) => n.status === "online")) {
          const answer = yield* Effect.either(options.ask(node.name))
          if (Either.isLeft(answer)) continue
          if (Either.isLeft(answer.right)) {
            const why = answer.right.left
            if (why._tag === "NotInstalled") continue
            off = true
            const { type, subject, what } = options.unavailable
            yield* bus.publishOne(unavailableEvent(type, subject, why.reason, `${what} not watched: ${why.reason}`))
            return
          }
          yield* options.onNode(node.name, answer.right.right)
        }
      }))
  })
