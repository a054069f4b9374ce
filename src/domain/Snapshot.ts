/**
 * What a source sees of the cluster at one moment. Sources (Proxmox, the local host, the
 * simulator through the Proxmox adapter) all produce this one shape; detection and the
 * `/api/v1/cluster` view read only this.
 */
import * as Schema from "effect/Schema"

export const NodeStatus = Schema.Literal("online", "offline", "unknown")
export type NodeStatus = typeof NodeStatus.Type

/**
 * Proxmox guest states: for VMs, QEMU's own run state (`paused`, `prelaunch`, and the failure
 * states `guest-panicked`, `internal-error`, `io-error`), for containers running or stopped.
 * `unknown` when the data is stale (its node is down) or the state is one vigil does not know.
 */
export const GuestStatus = Schema.Literal(
  "running",
  "stopped",
  "paused",
  "suspended",
  "prelaunch",
  "guest-panicked",
  "internal-error",
  "io-error",
  "unknown"
)
export type GuestStatus = typeof GuestStatus.Type

export const GuestKind = Schema.Literal("qemu", "lxc")
export type GuestKind = typeof GuestKind.Type

export const ClusterNode = Schema.Struct({
  name: Schema.String,
  status: NodeStatus,
  /** Fraction of all cores, 0..1. Absent when the node is offline. */
  cpu: Schema.optional(Schema.Number),
  /** Number of CPUs. */
  maxcpu: Schema.optional(Schema.Number),
  mem: Schema.optional(Schema.Number),
  maxmem: Schema.optional(Schema.Number),
  /** Root filesystem usage, bytes. */
  disk: Schema.optional(Schema.Number),
  maxdisk: Schema.optional(Schema.Number),
  uptime: Schema.optional(Schema.Number),
  /** Proxmox HA's view of the node: online, maintenance, unknown, fence, gone. Absent without HA. */
  hastate: Schema.optional(Schema.String),
  /** Set when the node's own endpoints could not be reached although the cluster lists it. */
  detail: Schema.optional(Schema.String),
  /** Corosync's node id (`/cluster/status`); absent outside a cluster. */
  nodeid: Schema.optional(Schema.Number),
  /** The node's subscription level (`c`, `b`, `s`, `p`; empty without one). */
  level: Schema.optional(Schema.String)
}).annotations({ identifier: "ClusterNode" })
export type ClusterNode = typeof ClusterNode.Type

export const Guest = Schema.Struct({
  kind: GuestKind,
  vmid: Schema.Int,
  name: Schema.String,
  node: Schema.String,
  status: GuestStatus,
  /** Fraction of its CPUs, 0..maxcpu. */
  cpu: Schema.optional(Schema.Number),
  /** Number of virtual CPUs (its cores times sockets, or its CPU limit). */
  maxcpu: Schema.optional(Schema.Number),
  mem: Schema.optional(Schema.Number),
  maxmem: Schema.optional(Schema.Number),
  disk: Schema.optional(Schema.Number),
  maxdisk: Schema.optional(Schema.Number),
  /** Seconds since the guest (its QEMU process, its container's init) started; 0 when stopped. */
  uptime: Schema.optional(Schema.Number),
  /** Bytes received, sent, read from and written to its disks since it started: counters, reset at each start. */
  netin: Schema.optional(Schema.Number),
  netout: Schema.optional(Schema.Number),
  diskread: Schema.optional(Schema.Number),
  diskwrite: Schema.optional(Schema.Number),
  /** backup, migrate, snapshot, ... while Proxmox holds a lock on the guest. */
  lock: Schema.optional(Schema.String),
  /** Proxmox HA's state of the guest when it is HA-managed: started, stopped, fence, recovery, error, ... */
  hastate: Schema.optional(Schema.String),
  tags: Schema.Array(Schema.String),
  template: Schema.Boolean,
  /** The resource pool it belongs to, if any. */
  pool: Schema.optional(Schema.String)
}).annotations({ identifier: "Guest" })
export type Guest = typeof Guest.Type

export const StoragePool = Schema.Struct({
  node: Schema.String,
  storage: Schema.String,
  /** `available` while its node reports it; Proxmox says `unknown` when it is not active or not reported. */
  status: Schema.String,
  /** Bytes; absent when the pool is not reported (status `unknown`), not 0 of 0. */
  used: Schema.optional(Schema.Number),
  total: Schema.optional(Schema.Number),
  shared: Schema.Boolean,
  type: Schema.optional(Schema.String),
  /** What it may hold (images, rootdir, backup, iso, vztmpl, snippets, import), sorted. */
  content: Schema.optional(Schema.Array(Schema.String))
}).annotations({ identifier: "StoragePool" })
export type StoragePool = typeof StoragePool.Type

/** A TCP port with listeners from more than one process: two services fighting over a port. */
export const PortConflict = Schema.Struct({
  port: Schema.Int,
  processes: Schema.Array(Schema.Struct({ pid: Schema.Int, name: Schema.String }))
}).annotations({ identifier: "PortConflict" })
export type PortConflict = typeof PortConflict.Type

/** A process that is configured to be running, and whether it is. */
export const ServiceCheck = Schema.Struct({
  node: Schema.String,
  name: Schema.String,
  running: Schema.Boolean
}).annotations({ identifier: "ServiceCheck" })
export type ServiceCheck = typeof ServiceCheck.Type

/** One HA resource as the HA manager sees it (`/cluster/ha/status/current`). */
export const HaService = Schema.Struct({
  /** `vm:100`, `ct:101` */
  sid: Schema.String,
  node: Schema.String,
  /** The manager's state: started, stopped, request_stop, fence, recovery, migrate, relocate, freeze, error, ... */
  state: Schema.String,
  /** What it was asked to be: started, stopped, disabled, ignored. */
  requestState: Schema.optional(Schema.String)
}).annotations({ identifier: "HaService" })
export type HaService = typeof HaService.Type

/** The cluster itself (`/cluster/status`); absent for a single node outside a cluster, or without permission. */
export const ClusterInfo = Schema.Struct({
  name: Schema.String,
  /** corosync's config version. */
  version: Schema.optional(Schema.Number),
  nodes: Schema.optional(Schema.Number)
}).annotations({ identifier: "ClusterInfo" })
export type ClusterInfo = typeof ClusterInfo.Type

/** The Proxmox VE release the answering node runs (`/version`). */
export const PveVersion = Schema.Struct({
  version: Schema.String,
  release: Schema.optional(Schema.String),
  repoid: Schema.optional(Schema.String)
}).annotations({ identifier: "PveVersion" })
export type PveVersion = typeof PveVersion.Type

export const Snapshot = Schema.Struct({
  source: Schema.String,
  takenAt: Schema.Number,
  nodes: Schema.Array(ClusterNode),
  guests: Schema.Array(Guest),
  storage: Schema.Array(StoragePool),
  /** Whether the cluster has quorum; absent when the source cannot tell. */
  quorate: Schema.optional(Schema.Boolean),
  /** HA resources; absent when the source has no HA status (none configured, or no permission). */
  ha: Schema.optional(Schema.Array(HaService)),
  cluster: Schema.optional(ClusterInfo),
  pveVersion: Schema.optional(PveVersion),
  portConflicts: Schema.Array(PortConflict),
  services: Schema.Array(ServiceCheck)
}).annotations({ identifier: "Snapshot" })
export type Snapshot = typeof Snapshot.Type

/** `qemu/101`: the key Proxmox itself uses for a guest. */
export const guestKey = (g: { readonly kind: GuestKind; readonly vmid: number }) => `${g.kind}/${g.vmid}`

/** `vm:101` / `ct:102`: the key Proxmox HA uses for a guest. */
export const haSid = (g: { readonly kind: GuestKind; readonly vmid: number }) => `${g.kind === "qemu" ? "vm" : "ct"}:${g.vmid}`

/** `storage/pve1/local`: a storage pool as seen from one node. */
export const storageKey = (p: { readonly node: string; readonly storage: string }) => `storage/${p.node}/${p.storage}`
