/**
 * Watches every online node's disks on the background tier: SMART health and SSD wear, judged by
 * DiskWatch, with `VIGIL_DISK_WEAROUT_MIN` (percent of life left, default 10) as the wear line. A
 * token that may not list disks is said once (`disk.unavailable`) and not asked again.
 */
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { diskMemory, type DiskMemory, diskTarget as diskTargetOf, judgeDisks } from "./DiskWatch.js"
import { checkContext } from "./CheckContext.js"
import { nodeRounds } from "./NodeRounds.js"

export const wearoutMinConfig = Config.integer("VIGIL_DISK_WEAROUT_MIN").pipe(
  Config.validate({ message: "must be a percentage of life left, 0 to 100", validation: (n) => n >= 0 && n <= 100 }),
  Config.withDefault(10)
)

export class DiskMonitor extends Effect.Service<DiskMonitor>()("vigil/DiskMonitor", {
  scoped: Effect.gen(function*() {
    const wearoutMin = yield* wearoutMinConfig
    const context = yield* checkContext((s) => s.disks)
    if (Option.isNone(context)) return {}
    const { ask, watch, tiers, incidents, record } = context.value

    /** Per node, disk → what was told; a node not here starts from the open incidents. */
    const told = new Map<string, Map<string, DiskMemory>>()
    const startingPoint = Effect.map(incidents.openIncidents, (open) => {
      const memory = new Map<string, DiskMemory>()
      for (const i of open) {
        if (i.condition !== "DISK_HEALTH" && i.condition !== "DISK_WEAROUT") continue
        const m = memory.get(i.target) ?? { failed: false, worn: false }
        memory.set(i.target, i.condition === "DISK_HEALTH" ? { ...m, failed: true } : { ...m, worn: true })
      }
      return memory
    })

    yield* nodeRounds({
      name: "DiskMonitor",
      interval: tiers.background,
      offset: Duration.seconds(10),
      latest: watch.latest,
      ask,
      unavailable: { type: "disk.unavailable", subject: "cluster/disks", what: "Disk health is" },
      newTerm: () => told.clear(),
      onNode: (node, disks) =>
        Effect.gen(function*() {
          const previous = told.get(node) ?? (yield* startingPoint)
          const findings = judgeDisks(previous, disks, wearoutMin)
          yield* record(findings)
          told.set(node, new Map(disks.map((d) => [diskTargetOf(d), diskMemory(d, wearoutMin)])))
        })
    })
    return {}
  })
}) {}
