/**
 * Watches the ZFS pools of every online node on the background tier: the leader lists each node's
 * pools, tells what changed (ZfsWatch) and keeps the incidents. A node without ZFS is skipped; a
 * token that may not list pools is said once (`zfs.unavailable`) and not asked again.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import { ClusterSource } from "../sources/ClusterSource.js"
import { Incidents } from "../store/Incidents.js"
import { monitorSource } from "./Findings.js"
import { leaderRounds } from "./LeaderRounds.js"
import { ClusterWatch } from "./Monitor.js"
import { WatchConfig } from "./WatchConfig.js"
import { judgeZfs } from "./ZfsWatch.js"

export class ZfsMonitor extends Effect.Service<ZfsMonitor>()("vigil/ZfsMonitor", {
  scoped: Effect.gen(function*() {
    const source = yield* ClusterSource
    const list = Option.flatMap(source, (s) => Option.fromNullable(s.zfsPools))
    const watch = yield* ClusterWatch
    if (Option.isNone(list) || Option.isNone(watch)) return {}
    const { tiers } = yield* WatchConfig
    const bus = yield* EventBus
    const incidents = yield* Incidents

    /** Per node, pool → the health last told; a node not here starts from its open incidents. */
    const told = new Map<string, Map<string, string>>()
    let off = false

    const startingPoint = (node: string) =>
      Effect.map(incidents.openIncidents, (open) =>
        new Map(open.filter((i) => i.condition === "ZFS_POOL" && i.node === node).map((i) => [i.target.split("/").slice(2).join("/"), "DEGRADED"])))

    yield* leaderRounds("ZfsMonitor", tiers.background, Duration.seconds(8), (newTerm) =>
      Effect.gen(function*() {
        if (newTerm) told.clear()
        if (off) return
        const snapshot = yield* watch.value.latest
        if (Option.isNone(snapshot)) return
        for (const node of snapshot.value.nodes.filter((n) => n.status === "online")) {
          const answer = yield* Effect.either(list.value(node.name))
          if (Either.isLeft(answer)) continue // an unreachable node is the critical tier's to tell
          if (Either.isLeft(answer.right)) {
            if (answer.right.left._tag === "NotInstalled") continue
            off = true
            yield* bus.publishOne(makeEvent({
              type: "zfs.unavailable",
              source: monitorSource,
              subject: "cluster/zfs",
              data: { reason: answer.right.left.reason, summary: `ZFS pools are not watched: ${answer.right.left.reason}` }
            }))
            return
          }
          const pools = answer.right.right
          const previous = told.get(node.name) ?? (yield* startingPoint(node.name))
          const findings = judgeZfs(previous, pools)
          for (const f of findings) if (f.incident !== undefined) yield* incidents.apply(f.incident)
          if (findings.length > 0) yield* bus.publish(findings.map((f) => f.event))
          told.set(node.name, new Map(pools.map((p) => [p.name, p.health])))
        }
      }))
    return {}
  })
}) {}
