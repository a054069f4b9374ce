/**
 * Watches the ZFS pools of every online node on the background tier: the leader lists each node's
 * pools, tells what changed (ZfsWatch) and keeps the incidents. A node without ZFS is skipped; a
 * token that may not list pools is said once (`zfs.unavailable`) and not asked again.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { checkContext } from "./CheckContext.js"
import { nodeRounds } from "./NodeRounds.js"
import { judgeZfs } from "./ZfsWatch.js"

export class ZfsMonitor extends Effect.Service<ZfsMonitor>()("vigil/ZfsMonitor", {
  scoped: Effect.gen(function*() {
    const context = yield* checkContext((s) => s.zfsPools)
    if (Option.isNone(context)) return {}
    const { ask, watch, tiers, incidents, record } = context.value

    /** Per node, pool → the health last told; a node not here starts from its open incidents. */
    const told = new Map<string, Map<string, string>>()
    const startingPoint = (node: string) =>
      Effect.map(incidents.openIncidents, (open) =>
        new Map(open.filter((i) => i.condition === "ZFS_POOL" && i.node === node).map((i) => [i.target.split("/").slice(2).join("/"), "DEGRADED"])))

    yield* nodeRounds({
      name: "ZfsMonitor",
      interval: tiers.background,
      offset: Duration.seconds(8),
      latest: watch.latest,
      ask,
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
