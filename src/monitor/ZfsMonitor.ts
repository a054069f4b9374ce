/**
 * Watches the ZFS pools of every online node on the background tier: the leader lists each node's
 * pools, tells what changed (ZfsWatch) and keeps the incidents. A node without ZFS is skipped; a
 * token that may not list pools is said once (`zfs.unavailable`) and not asked again.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { EventBus } from "../bus/EventBus.js"
import { ClusterSource } from "../sources/ClusterSource.js"
import { Incidents } from "../store/Incidents.js"
import { ClusterWatch } from "./Monitor.js"
import { nodeRounds } from "./NodeRounds.js"
import { recordFindings } from "./Record.js"
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
    const record = recordFindings(incidents, bus)

    /** Per node, pool → the health last told; a node not here starts from its open incidents. */
    const told = new Map<string, Map<string, string>>()
    const startingPoint = (node: string) =>
      Effect.map(incidents.openIncidents, (open) =>
        new Map(open.filter((i) => i.condition === "ZFS_POOL" && i.node === node).map((i) => [i.target.split("/").slice(2).join("/"), "DEGRADED"])))

    yield* nodeRounds({
      name: "ZfsMonitor",
      interval: tiers.background,
      offset: Duration.seconds(8),
      latest: watch.value.latest,
      ask: list.value,
      unavailable: { type: "zfs.unavailable", subject: "cluster/zfs", what: "ZFS pools are" },
      newTerm: () => told.clear(),
      onNode: (node, pools) =>
        Effect.gen(function*() {
          const previous = told.get(node) ?? (yield* startingPoint(node))
          const findings = judgeZfs(previous, pools)
          yield* record(findings)
          told.set(node, new Map(pools.map((p) => [p.name, p.health])))
        })
    })
    return {}
  })
}) {}
