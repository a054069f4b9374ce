/**
 * Pending updates per node on the background tier: one `node.updates.available` (info) when the
 * set of packages a node could update changes (after PVE's daily `apt update`, or once someone
 * installed them), with the count by origin (Debian, Proxmox, ...). PVE's API gives each
 * package's origin, not its archive, so security updates cannot be told apart here. A token
 * without Sys.Modify on the nodes is said once (`node.updates.unavailable`) and not asked again.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { makeEvent } from "../domain/Event.js"
import type { NodeUpdates } from "../domain/StorageHealth.js"
import { monitorSource } from "./Findings.js"
import { checkContext } from "./CheckContext.js"
import { nodeRounds } from "./NodeRounds.js"

export interface PendingUpdates {
  readonly count: number
  readonly byOrigin: Readonly<Record<string, number>>
}

const countByOrigin = (u: NodeUpdates) => {
  const byOrigin: Record<string, number> = {}
  for (const p of u.packages) byOrigin[p.origin] = (byOrigin[p.origin] ?? 0) + 1
  return byOrigin
}

/** The pending set as one comparable string: package and target version, sorted. */
const signature = (u: NodeUpdates) => u.packages.map((p) => `${p.name}@${p.to ?? ""}`).sort().join("\n")

/** The event for a node whose pending updates changed (pure). */
export const updatesEvent = (u: NodeUpdates) => {
  const byOrigin = countByOrigin(u)
  const count = u.packages.length
  return makeEvent({
    type: "node.updates.available",
    source: monitorSource,
    subject: `node/${u.node}`,
    node: u.node,
    data: {
      node: u.node,
      count,
      byOrigin,
      packages: u.packages.slice(0, 200),
      summary: count === 0 ? `${u.node} is up to date` : `${u.node} has ${count} package update${count === 1 ? "" : "s"} pending`
    }
  })
}

export class UpdatesMonitor extends Effect.Service<UpdatesMonitor>()("vigil/UpdatesMonitor", {
  scoped: Effect.gen(function*() {
    /** What each node has pending, as last read: for the cluster view. */
    const pending = new Map<string, PendingUpdates>()
    const view = { pending: (node: string): PendingUpdates | undefined => pending.get(node) }
    const context = yield* checkContext((s) => s.updates)
    if (Option.isNone(context)) return view
    const { ask, watch, tiers, bus } = context.value

    /** Per node, the pending set last told. A new process or term tells a node's set once if it is not empty. */
    const told = new Map<string, string>()

    yield* nodeRounds({
      name: "UpdatesMonitor",
      interval: tiers.background,
      offset: Duration.seconds(12),
      latest: watch.latest,
      ask,
      unavailable: { type: "node.updates.unavailable", subject: "cluster/updates", what: "Pending updates are" },
      newTerm: () => told.clear(),
      onNode: (node, updates) =>
        Effect.gen(function*() {
          const now = signature(updates)
          if (now !== (told.get(node) ?? "")) yield* bus.publishOne(updatesEvent(updates))
          told.set(node, now)
          pending.set(node, { count: updates.packages.length, byOrigin: countByOrigin(updates) })
        })
    })
    return view
  })
}) {}
