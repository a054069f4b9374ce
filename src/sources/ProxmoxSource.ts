/**
 * The Proxmox VE source: one snapshot is `/cluster/resources` (nodes, guests, storage in one
 * call) plus `/cluster/status` (quorum, membership), `/cluster/ha/status/current` (HA resources)
 * and `/version`, and `/nodes/{node}/status` for each online node. The per-node calls are
 * isolated: a node whose proxied endpoint answers 595 or hangs is marked on its own and hides
 * nothing else; only the cluster-wide resources call failing fails the snapshot. Its task log
 * explains state changes. Beside the snapshot, the optional storage checks: Ceph's health, each
 * node's ZFS pools, disks, replication jobs and pending updates, and backups (PveBackups).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Disk, NodeUpdates, ReplicationJob, ZfsPool } from "../domain/StorageHealth.js"
import type { Task } from "../domain/Task.js"
import type { ClusterSourceShape } from "./ClusterSource.js"
import type { ProxmoxApi } from "./ProxmoxApi.js"
import { toHaServices, toSnapshot } from "./PveSnapshot.js"
import { backupReader } from "./PveBackups.js"
import { unavailable } from "./Unavailable.js"

export const makeProxmoxSource = (api: ProxmoxApi): ClusterSourceShape => {
    const snapshot = Effect.gen(function*() {
      const [resources, status, ha, version] = yield* Effect.all(
        [api.clusterResources, Effect.either(api.clusterStatus), Effect.either(api.haStatus), Effect.either(api.version)],
        { concurrency: 4 }
      )
      const snap = toSnapshot(
        resources,
        Either.getOrUndefined(status),
        ha._tag === "Right" ? toHaServices(ha.right) : undefined,
        Either.getOrUndefined(version),
        yield* Clock.currentTimeMillis
      )
      const details = yield* Effect.forEach(
        snap.nodes.filter((n) => n.status === "online"),
        (n) => Effect.map(Effect.either(api.nodeStatus(n.name)), (r) => [n.name, r] as const),
        { concurrency: 8 }
      )
      const unreachable = new Map(details.flatMap(([name, r]) => (r._tag === "Left" ? [[name, r.left.reason]] : [])))
      return {
        ...snap,
        nodes: snap.nodes.map((n) => (unreachable.has(n.name) ? { ...n, detail: unreachable.get(n.name)! } : n))
      }
    }).pipe(Effect.withSpan("ProxmoxSource.snapshot"))

    const taskLog = (node: string, since: number) =>
      Effect.map(api.nodeTasks(node, { since }), (tasks) =>
        tasks.map((t): Task => ({
          upid: t.upid,
          node: t.node,
          type: t.type,
          id: t.id ?? "",
          user: t.user ?? "",
          tokenid: t.tokenid,
          starttime: t.starttime,
          endtime: t.endtime,
          status: t.status
        })))

    const cephHealth = api.cephStatus.pipe(
      Effect.map((status) =>
        Either.right({
          status: status.health.status,
          checks: Object.entries(status.health.checks).map(([code, check]) => ({
            code,
            severity: check.severity,
            summary: check.summary?.message ?? code,
            muted: check.muted ?? false
          }))
        })
      ),
      unavailable(/binary not installed|not initialized|not configured/, "Sys.Audit or Datastore.Audit on /")
    )

    /** pve-storage dies "zfsutils-linux not installed" on a node without ZFS; listing needs Sys.Audit on `/`. */
    const zfsPools = (node: string) =>
      api.zfsPools(node).pipe(
        Effect.map((pools) =>
          Either.right(pools.map((p): ZfsPool => ({ node, name: p.name, health: p.health, size: p.size, alloc: p.alloc })))
        ),
        unavailable(/zfsutils-linux not installed/, "Sys.Audit on /")
      )

    const replicationJobs = (node: string) =>
      Effect.map(api.replication(node), (jobs) =>
        jobs.map((j): ReplicationJob => ({
          id: j.id,
          node,
          guest: j.guest,
          target: j.target,
          failCount: j.fail_count ?? 0,
          error: j.error,
          disabled: j.disable ?? false
        })))

    /** Listing disks needs Sys.Audit on `/` or on the node. */
    const disks = (node: string) =>
      api.disks(node).pipe(
        Effect.map((list) =>
          Either.right(list.map((d): Disk => ({
            node,
            devpath: d.devpath,
            model: d.model,
            serial: d.serial,
            type: d.type,
            health: d.health ?? "UNKNOWN",
            wearout: typeof d.wearout === "number" ? d.wearout : d.wearout !== undefined && /^\d+(\.\d+)?$/.test(d.wearout) ? Number(d.wearout) : undefined
          })))
        ),
        unavailable(undefined, `Sys.Audit on / or /nodes/${node}`)
      )

    /** PVE lists a node's updates only for Sys.Modify on the node: an auditor's token gets 403. */
    const updates = (node: string) =>
      api.aptUpdates(node).pipe(
        Effect.map((list) =>
          Either.right<NodeUpdates>({ node, packages: list.map((p) => ({ name: p.Package, from: p.OldVersion, to: p.Version, origin: p.Origin ?? "unknown" })) })
        ),
        unavailable(undefined, `Sys.Modify on /nodes/${node} (PVE lists updates only to those who may install them)`)
      )

    return { name: "proxmox", snapshot, taskLog, cephHealth, zfsPools, replicationJobs, disks, updates, backups: backupReader(api) }
}
