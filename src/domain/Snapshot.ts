/**
 * What a source sees of the cluster at one moment. Sources (Proxmox, the local host, the
 * simulator through the Proxmox adapter) all produce this one shape; detection and the
 * `/api/v1/cluster` view read only this.
 */
import * as Schema from "effect/Schema"

export const NodeStatus = Schema.Literal("online", "offline", "unknown")
export type NodeStatus = typeof NodeStatus.Type

/** Proxmox guest states; `running → stopped` is the one that can be a crash. */
export const GuestStatus = Schema.Literal("running", "stopped", "paused", "suspended", "prelaunch", "unknown")
export type GuestStatus = typeof GuestStatus.Type

export const GuestKind = Schema.Literal("qemu", "lxc")
export type GuestKind = typeof GuestKind.Type

export const ClusterNode = Schema.Struct({
  name: Schema.String,
  status: NodeStatus,
  /** Fraction of all cores, 0..1. Absent when the node is offline. */
  cpu: Schema.optional(Schema.Number),
  mem: Schema.optional(Schema.Number),
  maxmem: Schema.optional(Schema.Number),
  /** Root filesystem usage, bytes. */
  disk: Schema.optional(Schema.Number),
  maxdisk: Schema.optional(Schema.Number),
  uptime: Schema.optional(Schema.Number),
  /** Set when the node's own endpoints could not be reached although the cluster lists it. */
  detail: Schema.optional(Schema.String)
}).annotations({ identifier: "ClusterNode" })
export type ClusterNode = typeof ClusterNode.Type

export const Guest = Schema.Struct({
  kind: GuestKind,
  vmid: Schema.Int,
  name: Schema.String,
  node: Schema.String,
  status: GuestStatus,
  cpu: Schema.optional(Schema.Number),
  mem: Schema.optional(Schema.Number),
  maxmem: Schema.optional(Schema.Number),
  disk: Schema.optional(Schema.Number),
  maxdisk: Schema.optional(Schema.Number),
  /** backup, migrate, snapshot, ... while Proxmox holds a lock on the guest. */
  lock: Schema.optional(Schema.String),
  /** HA state when the guest is HA-managed. */
  hastate: Schema.optional(Schema.String),
  tags: Schema.Array(Schema.String),
  template: Schema.Boolean
}).annotations({ identifier: "Guest" })
export type Guest = typeof Guest.Type

export const StoragePool = Schema.Struct({
  node: Schema.String,
  storage: Schema.String,
  status: Schema.String,
  used: Schema.Number,
  total: Schema.Number,
  shared: Schema.Boolean,
  type: Schema.optional(Schema.String)
}).annotations({ identifier: "StoragePool" })
export type StoragePool = typeof StoragePool.Type

/** A TCP port with listeners from more than one process (seed 002's port conflicts). */
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

export const Snapshot = Schema.Struct({
  source: Schema.String,
  takenAt: Schema.Number,
  nodes: Schema.Array(ClusterNode),
  guests: Schema.Array(Guest),
  storage: Schema.Array(StoragePool),
  /** Whether the cluster has quorum; absent when the source cannot tell. */
  quorate: Schema.optional(Schema.Boolean),
  portConflicts: Schema.Array(PortConflict),
  services: Schema.Array(ServiceCheck)
}).annotations({ identifier: "Snapshot" })
export type Snapshot = typeof Snapshot.Type

/** `qemu/101`: the key Proxmox itself uses for a guest. */
export const guestKey = (g: { readonly kind: GuestKind; readonly vmid: number }) => `${g.kind}/${g.vmid}`
