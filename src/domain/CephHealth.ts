/**
 * What the optional storage sources report: Ceph's health as `ceph health detail` reports it through PVE (`/cluster/ceph/status`, its
 * `health`): `HEALTH_OK`, `HEALTH_WARN` or `HEALTH_ERR`, and each failing check by code.
 */
export interface CephCheck {
  /** `OSD_DOWN`, `PG_DEGRADED`, `MON_DISK_LOW`, ... */
  readonly code: string
  readonly severity: string
  readonly summary: string
  /** An operator muted it (`ceph health mute`): reported, never alarmed on. */
  readonly muted: boolean
}

export interface CephHealth {
  readonly status: string
  readonly checks: ReadonlyArray<CephCheck>
}

/** Why a cluster has nothing to give for an optional source (Ceph, ZFS): not installed or set up there, or the token may not read it. */
export type Unavailable =
  | { readonly _tag: "NotInstalled"; readonly reason: string }
  | { readonly _tag: "Forbidden"; readonly reason: string }

/** A ZFS pool as `zpool list` reports it on one node (`/nodes/{node}/disks/zfs`). */
export interface ZfsPool {
  readonly node: string
  readonly name: string
  /** ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, SUSPENDED. */
  readonly health: string
  readonly size: number | undefined
  readonly alloc: number | undefined
}
