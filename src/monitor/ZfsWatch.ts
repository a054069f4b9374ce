/**
 * ZFS pools between two polls (pure): a pool whose health leaves ONLINE is `zfs.pool.degraded`
 * with an incident (warning while DEGRADED, error when FAULTED, UNAVAIL, SUSPENDED, REMOVED or
 * OFFLINE), one that gets worse or better while not ONLINE changes the incident, one back ONLINE
 * is `zfs.pool.recovered` and resolves it. Once per change, never per poll.
 */
import type { ZfsPool } from "../domain/StorageHealth.js"
import type { Severity } from "../domain/Severity.js"
import { type Finding, finding } from "./Findings.js"

export const online = "ONLINE"

export const zfsTarget = (p: { readonly node: string; readonly name: string }) => `zfs/${p.node}/${p.name}`
export const zfsIncidentKey = (p: { readonly node: string; readonly name: string }) => `ZFS_POOL:${zfsTarget(p)}`

const severityOf = (health: string): Severity => (health === "DEGRADED" ? "warning" : "error")

/**
 * What changed on one node's pools. `previous` maps pool name to the health last told (a pool
 * not in it was ONLINE, or is new); pools that vanished are left to whoever removed them.
 */
export const judgeZfs = (previous: ReadonlyMap<string, string>, pools: ReadonlyArray<ZfsPool>): ReadonlyArray<Finding> =>
  pools.flatMap((pool) => {
    const before = previous.get(pool.name) ?? online
    if (before === pool.health) return []
    const key = zfsIncidentKey(pool)
    const target = zfsTarget(pool)
    const data = { pool: pool.name, node: pool.node, health: pool.health, previous: before, size: pool.size ?? null, alloc: pool.alloc ?? null }
    if (pool.health === online) {
      const summary = `ZFS pool ${pool.name} on ${pool.node} is ONLINE again (was ${before})`
      return [finding({ type: "zfs.pool.recovered", severity: "info", subject: target, node: pool.node, data: { ...data, summary } }, { _tag: "Resolve", key, summary })]
    }
    const severity = severityOf(pool.health)
    const summary = `ZFS pool ${pool.name} on ${pool.node} is ${pool.health}`
    return [finding(
      { type: "zfs.pool.degraded", severity, subject: target, node: pool.node, data: { ...data, summary } },
      before === online
        ? { _tag: "Open", key, condition: "ZFS_POOL", target, node: pool.node, severity, summary }
        : { _tag: "Change", key, condition: "ZFS_POOL", severity, summary }
    )]
  })
