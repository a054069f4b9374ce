/**
 * What vigil watches of a cluster's storage besides capacity: Ceph's health (`ceph health detail`
 * through PVE's `/cluster/ceph/status`: `HEALTH_OK`, `HEALTH_WARN` or `HEALTH_ERR`, and each
 * failing check by code), each node's ZFS pools and disks (SMART health, SSD wear), storage
 * replication jobs; and, beside them, the updates each node has pending.
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

/** A storage replication job's state as its guest's node reports it (`/nodes/{node}/replication`). */
export interface ReplicationJob {
  /** `<vmid>-<jobnum>`: unique in the cluster. */
  readonly id: string
  readonly node: string
  readonly guest: number | undefined
  readonly target: string | undefined
  /** Consecutive failed runs; 0 once a run succeeds. */
  readonly failCount: number
  readonly error: string | undefined
  readonly disabled: boolean
}

/** A node's physical disk as `/nodes/{node}/disks/list` reports it (SMART through smartctl). */
export interface Disk {
  readonly node: string
  readonly devpath: string
  readonly model: string | undefined
  readonly serial: string | undefined
  /** ssd, hdd, nvme, usb, unknown */
  readonly type: string | undefined
  /** smartctl's verdict: PASSED (ATA), OK (SCSI, NVMe), UNKNOWN when SMART gives none, or a failure. */
  readonly health: string
  /** Life left, percent (SSDs, NVMe); undefined where PVE says N/A. */
  readonly wearout: number | undefined
}

/** Packages a node could update (`/nodes/{node}/apt/update`, after PVE's daily `apt update`). */
export interface NodeUpdates {
  readonly node: string
  readonly packages: ReadonlyArray<{ readonly name: string; readonly from: string | undefined; readonly to: string | undefined; readonly origin: string }>
}
