/**
 * Watches Ceph on the important tier, where the cluster has it: the leader asks for its health,
 * tells what changed (CephWatch) and keeps the incident. A cluster without Ceph, or a token that
 * may not read it, is said once (`ceph.unavailable`, info, with what is missing) and not asked again.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { EventBus } from "../bus/EventBus.js"
import type { CephHealth } from "../domain/StorageHealth.js"
import { ClusterSource } from "../sources/ClusterSource.js"
import { Incidents } from "../store/Incidents.js"
import { cephIncidentKey, judgeCeph, startingHealth } from "./CephWatch.js"
import { unavailableEvent } from "./Findings.js"
import { leaderRounds } from "./LeaderRounds.js"
import { recordFindings } from "./Record.js"
import { WatchConfig } from "./WatchConfig.js"

export class CephMonitor extends Effect.Service<CephMonitor>()("vigil/CephMonitor", {
  scoped: Effect.gen(function*() {
    const source = yield* ClusterSource
    const ask = Option.flatMap(source, (s) => Option.fromNullable(s.cephHealth))
    if (Option.isNone(ask)) return {}
    const { tiers } = yield* WatchConfig
    const bus = yield* EventBus
    const incidents = yield* Incidents
    const record = recordFindings(incidents, bus)

    let told: CephHealth | undefined
    let off = false

    yield* leaderRounds("CephMonitor", tiers.important, Duration.seconds(3), (newTerm) =>
      Effect.gen(function*() {
        if (newTerm) told = undefined
        if (off) return
        const answer = yield* Effect.either(ask.value)
        if (Either.isLeft(answer)) return // a failing source is the critical tier's to tell
        if (Either.isLeft(answer.right)) {
          off = true
          const why = answer.right.left
          const summary = why._tag === "Forbidden" ? `Ceph is not watched: ${why.reason}` : "Ceph is not watched: it is not installed or set up on this cluster"
          yield* bus.publishOne(unavailableEvent("ceph.unavailable", "cluster/ceph", why.reason, summary))
          return
        }
        const current = answer.right.right
        const previous = told ?? startingHealth(current, (yield* incidents.openIncidents).some((i) => i.key === cephIncidentKey))
        const findings = judgeCeph(previous, current)
        yield* record(findings)
        told = current
      }))
    return {}
  })
}) {}
