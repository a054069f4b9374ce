/**
 * The backup payloads of the Proxmox VE API, as pve-manager (`PVE/API2/Backup.pm`, `Tasks.pm`) and
 * pve-storage (`PVE/API2/Storage/Content.pm`) send them: a job's `vmid` list is a string, its
 * booleans 0/1 and often absent (`enabled` defaults to 1), a task log line is `{n, t}`, and a
 * storage's content carries `ctime` in seconds and `verification` only on PBS.
 */
import * as Schema from "effect/Schema"
import type { BackupJob, BackupVolume } from "../domain/Backup.js"
import { splitVmids } from "../domain/Backup.js"
import { LooseBoolean, LooseNumber } from "./PveSchema.js"

/** A vmid list as a job stores it (`"100,101"`), or a single id sent as a number. */
const VmidList = Schema.Union(Schema.String, Schema.Number)

/** An entry of `/cluster/backup`. */
export const BackupJobItem = Schema.Struct({
  id: Schema.String,
  type: Schema.optional(Schema.String),
  schedule: Schema.optional(Schema.String),
  enabled: Schema.optional(LooseBoolean),
  all: Schema.optional(LooseBoolean),
  vmid: Schema.optional(VmidList),
  exclude: Schema.optional(VmidList),
  pool: Schema.optional(Schema.String),
  node: Schema.optional(Schema.String),
  storage: Schema.optional(Schema.String),
  comment: Schema.optional(Schema.String),
  "next-run": Schema.optional(LooseNumber)
})
export type BackupJobItem = typeof BackupJobItem.Type

export const toBackupJob = (j: BackupJobItem): BackupJob => ({
  id: j.id,
  schedule: j.schedule,
  enabled: j.enabled ?? true,
  all: j.all ?? false,
  vmids: splitVmids(j.vmid === undefined ? undefined : String(j.vmid)),
  exclude: splitVmids(j.exclude === undefined ? undefined : String(j.exclude)),
  pool: j.pool,
  node: j.node,
  storage: j.storage,
  comment: j.comment
})

/** A line of `/nodes/{node}/tasks/{upid}/log`. */
export const TaskLogLine = Schema.Struct({ n: LooseNumber, t: Schema.String })

/** An entry of `/nodes/{node}/storage/{storage}/content`. */
export const StorageContentItem = Schema.Struct({
  volid: Schema.String,
  vmid: Schema.optional(LooseNumber),
  ctime: Schema.optional(LooseNumber),
  size: Schema.optional(LooseNumber),
  format: Schema.optional(Schema.String),
  content: Schema.optional(Schema.String),
  subtype: Schema.optional(Schema.String),
  notes: Schema.optional(Schema.String),
  protected: Schema.optional(LooseBoolean),
  verification: Schema.optional(Schema.Struct({ state: Schema.optional(Schema.String), upid: Schema.optional(Schema.String) }))
})
export type StorageContentItem = typeof StorageContentItem.Type

/** A backup archive; entries without an owner or a time (a stray file) say nothing about a guest. */
export const toBackupVolume = (storage: string, item: StorageContentItem): BackupVolume | undefined =>
  item.vmid === undefined || item.ctime === undefined || (item.content !== undefined && item.content !== "backup")
    ? undefined
    : { volid: item.volid, storage, vmid: item.vmid, ctime: item.ctime, size: item.size, verification: item.verification?.state }
