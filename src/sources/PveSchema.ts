/**
 * Proxmox VE API payloads as the real API sends them: numbers that are sometimes strings,
 * booleans as 0/1, fields missing for offline nodes, `{"data":null,"errors":{…}}` on failure.
 * Decoding is lenient where PVE is loose and strict where a wrong value would mislead.
 */
import * as Schema from "effect/Schema"

/** A number, or a string holding one. */
export const LooseNumber = Schema.Union(Schema.Number, Schema.NumberFromString)

/** true/false, 1/0, "1"/"0". */
export const LooseBoolean = Schema.transform(
  Schema.Union(Schema.Boolean, Schema.Literal(0, 1), Schema.Literal("0", "1")),
  Schema.Boolean,
  { strict: true, decode: (v) => v === true || v === 1 || v === "1", encode: (b) => b }
)

export const Resource = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  node: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  vmid: Schema.optional(LooseNumber),
  cpu: Schema.optional(LooseNumber),
  maxcpu: Schema.optional(LooseNumber),
  mem: Schema.optional(LooseNumber),
  maxmem: Schema.optional(LooseNumber),
  disk: Schema.optional(LooseNumber),
  maxdisk: Schema.optional(LooseNumber),
  uptime: Schema.optional(LooseNumber),
  netin: Schema.optional(LooseNumber),
  netout: Schema.optional(LooseNumber),
  diskread: Schema.optional(LooseNumber),
  diskwrite: Schema.optional(LooseNumber),
  level: Schema.optional(Schema.String),
  content: Schema.optional(Schema.String),
  template: Schema.optional(LooseBoolean),
  hastate: Schema.optional(Schema.String),
  lock: Schema.optional(Schema.String),
  tags: Schema.optional(Schema.String),
  storage: Schema.optional(Schema.String),
  shared: Schema.optional(LooseBoolean),
  plugintype: Schema.optional(Schema.String),
  /** The resource pool a guest belongs to (backup jobs can name one). */
  pool: Schema.optional(Schema.String)
})
export type Resource = typeof Resource.Type

/** An entry of `/cluster/status`: one `cluster` entry (in a cluster) and one `node` entry per member. */
export const ClusterStatusItem = Schema.Struct({
  type: Schema.String,
  name: Schema.optional(Schema.String),
  quorate: Schema.optional(LooseBoolean),
  online: Schema.optional(LooseBoolean),
  nodeid: Schema.optional(LooseNumber),
  level: Schema.optional(Schema.String),
  nodes: Schema.optional(LooseNumber),
  version: Schema.optional(LooseNumber)
})
export type ClusterStatusItem = typeof ClusterStatusItem.Type

export const NodeStatusDetail = Schema.Struct({
  uptime: Schema.optional(LooseNumber),
  cpu: Schema.optional(LooseNumber),
  memory: Schema.optional(Schema.Struct({ used: LooseNumber, total: LooseNumber })),
  rootfs: Schema.optional(Schema.Struct({ used: LooseNumber, total: LooseNumber }))
})

/** An entry of `/nodes/{node}/tasks`; a token's tasks carry its user in `user` and its name in `tokenid`. */
export const Task = Schema.Struct({
  upid: Schema.String,
  node: Schema.String,
  type: Schema.String,
  id: Schema.optional(Schema.String),
  user: Schema.optional(Schema.String),
  tokenid: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  starttime: LooseNumber,
  endtime: Schema.optional(LooseNumber)
})
export type Task = typeof Task.Type

/** One entry of `/cluster/ha/status/current`; only `service` entries are read. */
export const HaStatusItem = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  node: Schema.optional(Schema.String),
  sid: Schema.optional(Schema.String),
  crm_state: Schema.optional(Schema.String),
  state: Schema.optional(Schema.String),
  request_state: Schema.optional(Schema.String),
  quorate: Schema.optional(LooseBoolean)
})
export type HaStatusItem = typeof HaStatusItem.Type

export const TaskStatus = Schema.Struct({
  upid: Schema.String,
  status: Schema.String,
  exitstatus: Schema.optional(Schema.String)
})
export type TaskStatus = typeof TaskStatus.Type

/** PVE's envelope: `data` is null when the call failed, with `errors` saying why. */
/** `/cluster/ceph/status`: the `ceph status` object; only its `health` (with detail) is read. */
export const CephStatus = Schema.Struct({
  health: Schema.Struct({
    status: Schema.String,
    checks: Schema.optionalWith(
      Schema.Record({
        key: Schema.String,
        value: Schema.Struct({
          severity: Schema.optionalWith(Schema.String, { default: () => "HEALTH_WARN" }),
          summary: Schema.optional(Schema.Struct({ message: Schema.optional(Schema.String) })),
          muted: Schema.optional(LooseBoolean)
        })
      }),
      { default: () => ({}) }
    )
  })
})

/** An entry of `/nodes/{node}/disks/zfs` (pve-storage's `zpool list -HpPLo` columns, numbers as numbers). */
export const ZfsPoolItem = Schema.Struct({
  name: Schema.String,
  health: Schema.String,
  size: Schema.optional(LooseNumber),
  alloc: Schema.optional(LooseNumber),
  free: Schema.optional(LooseNumber),
  frag: Schema.optional(LooseNumber),
  dedup: Schema.optional(LooseNumber)
})

/** An entry of `/nodes/{node}/replication`: the job's config with its state (pve-manager's `extract_job_status`). */
export const ReplicationItem = Schema.Struct({
  id: Schema.String,
  guest: Schema.optional(LooseNumber),
  target: Schema.optional(Schema.String),
  fail_count: Schema.optional(LooseNumber),
  error: Schema.optional(Schema.String),
  last_sync: Schema.optional(LooseNumber),
  disable: Schema.optional(LooseBoolean)
})

/** An entry of `/nodes/{node}/disks/list` (pve-storage's Diskmanage: `health` UNKNOWN and `wearout` "N/A" when SMART says nothing). */
export const DiskItem = Schema.Struct({
  devpath: Schema.String,
  model: Schema.optional(Schema.String),
  serial: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  health: Schema.optional(Schema.String),
  wearout: Schema.optional(Schema.Union(Schema.Number, Schema.String))
})

/** An entry of `/nodes/{node}/apt/update` (pve-manager's APT.pm: capitalised keys, `Origin` `unknown` when apt has none). */
export const AptUpdateItem = Schema.Struct({
  Package: Schema.String,
  Version: Schema.optional(Schema.String),
  OldVersion: Schema.optional(Schema.String),
  Origin: Schema.optional(Schema.String)
})

/** `/version`: the release a node runs. */
export const Version = Schema.Struct({ version: Schema.String, release: Schema.optional(Schema.String), repoid: Schema.optional(Schema.String) })

/** `/access/permissions`: path → privilege → whether it propagates (1/0). */
export const Permissions = Schema.Record({ key: Schema.String, value: Schema.Record({ key: Schema.String, value: LooseNumber }) })

export const Envelope = <A, I>(data: Schema.Schema<A, I>) =>
  Schema.Struct({ data: Schema.NullOr(data), errors: Schema.optional(Schema.Unknown), message: Schema.optional(Schema.String) })
