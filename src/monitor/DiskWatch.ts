/**
 * Disks between two polls (pure): SMART health other than PASSED or OK (UNKNOWN is SMART saying
 * nothing, not a failure) is `disk.health.failed` with an incident per disk; an SSD's life left
 * under the minimum is `disk.wearout` with its own incident. One event when a condition starts,
 * one when it clears (`disk.health.recovered`, `disk.wearout.cleared`: a replaced disk), none per
 * poll: the flood of mails for one failing disk is what this replaces.
 */
import type { Disk } from "../domain/StorageHealth.js"
import { type Finding, finding } from "./Findings.js"

/** A disk by its serial where it has one (it survives a renumbered /dev), else its device path. */
export const diskTarget = (d: Disk) => `disk/${d.node}/${d.serial ?? d.devpath.replace(/^\/dev\//, "")}`

const healthy = (health: string) => health === "PASSED" || health === "OK" || health === "UNKNOWN"

/** What was told of a disk last: failing health, worn out. */
export interface DiskMemory {
  readonly failed: boolean
  readonly worn: boolean
}

export const diskMemory = (d: Disk, wearoutMin: number): DiskMemory => ({
  failed: !healthy(d.health),
  worn: d.wearout !== undefined && d.wearout < wearoutMin
})

export const judgeDisks = (previous: ReadonlyMap<string, DiskMemory>, disks: ReadonlyArray<Disk>, wearoutMin: number): ReadonlyArray<Finding> =>
  disks.flatMap((d) => {
    const target = diskTarget(d)
    const before = previous.get(target) ?? { failed: false, worn: false }
    const now = diskMemory(d, wearoutMin)
    const name = `${d.model ?? "disk"} ${d.serial ?? ""} (${d.devpath}) on ${d.node}`.replace(/\s+/g, " ")
    const data = { node: d.node, devpath: d.devpath, model: d.model ?? null, serial: d.serial ?? null, type: d.type ?? null, health: d.health, wearout: d.wearout ?? null }
    const out: Array<Finding> = []
    if (now.failed !== before.failed) {
      const key = `DISK_HEALTH:${target}`
      const summary = now.failed ? `SMART health of ${name} is ${d.health}` : `SMART health of ${name} is ${d.health} again`
      out.push(finding(
        { type: now.failed ? "disk.health.failed" : "disk.health.recovered", severity: now.failed ? "error" : "info", subject: target, node: d.node, data: { ...data, summary } },
        now.failed ? { _tag: "Open", key, condition: "DISK_HEALTH", target, node: d.node, severity: "error", summary } : { _tag: "Resolve", key, summary }
      ))
    }
    if (now.worn !== before.worn) {
      const key = `DISK_WEAROUT:${target}`
      const summary = now.worn ? `${name} has ${d.wearout}% of its life left (under ${wearoutMin}%)` : `${name} has ${d.wearout ?? "?"}% of its life left`
      out.push(finding(
        { type: now.worn ? "disk.wearout" : "disk.wearout.cleared", severity: now.worn ? "warning" : "info", subject: target, node: d.node, data: { ...data, wearoutMin, summary } },
        now.worn ? { _tag: "Open", key, condition: "DISK_WEAROUT", target, node: d.node, severity: "warning", summary } : { _tag: "Resolve", key, summary }
      ))
    }
    return out
  })
