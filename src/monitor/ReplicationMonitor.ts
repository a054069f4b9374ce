/**
 * Watches storage replication on the important tier: the leader reads each online node's jobs
 * (a job is listed by the node its guest runs on), tells what changed (ReplicationWatch) and keeps
 * the incidents. A job that vanished (deleted, or its guest on a node that is down) is not judged.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { checkContext } from "./CheckContext.js"
import { leaderRounds } from "./LeaderRounds.js"
import { isFailing, judgeReplication, replicationIncidentKey } from "./ReplicationWatch.js"

export class ReplicationMonitor extends Effect.Service<ReplicationMonitor>()("vigil/ReplicationMonitor", {
  scoped: Effect.gen(function*() {
    const context = yield* checkContext((s) => s.replicationJobs)
    if (Option.isNone(context)) return {}
    const { ask: list, watch, tiers, incidents, record } = context.value

    /** The jobs last told as failing; undefined at a term's start (the open incidents say). */
    let failing: Set<string> | undefined

    yield* leaderRounds("ReplicationMonitor", tiers.important, Duration.seconds(5), (newTerm) =>
      Effect.gen(function*() {
        if (newTerm) failing = undefined
        const snapshot = yield* watch.latest
        if (Option.isNone(snapshot)) return
        const answers = yield* Effect.forEach(
          snapshot.value.nodes.filter((n) => n.status === "online"),
          (n) => Effect.either(list(n.name)),
          { concurrency: 4 }
        )
        const jobs = answers.flatMap((a) => (Either.isRight(a) ? a.right : []))
        let previous = failing
        if (previous === undefined) {
          const open = new Set((yield* incidents.openIncidents).filter((i) => i.condition === "REPLICATION_FAILED").map((i) => i.key))
          previous = new Set(jobs.filter((j) => open.has(replicationIncidentKey(j.id))).map((j) => j.id))
        }
        const findings = judgeReplication(previous, jobs)
        yield* record(findings)
        // A job its node did not list this round (the node unreachable) keeps what was told of it.
        const listed = new Set(jobs.map((j) => j.id))
        failing = new Set([...[...previous].filter((id) => !listed.has(id)), ...jobs.filter(isFailing).map((j) => j.id)])
      }))
    return {}
  })
}) {}
