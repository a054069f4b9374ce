/**
 * The simulated cluster's backups, as Proxmox VE keeps them: vzdump jobs (`/cluster/backup`, with
 * `next-run`; Sys.Audit on `/`), a job's run as one `vzdump` task per node whose log is the one
 * `PVE::VZDump` writes (`Starting Backup of VM 100 (qemu)`, `Finished Backup …` or
 * `ERROR: Backup of VM 101 failed - …`, `TASK ERROR: job errors`), and the archives on the backup
 * storage (`/nodes/{node}/storage/{storage}/content`), listed only to a token that may see them
 * (pve-storage's `check_volume_access`: Datastore.Allocate on the storage, or Datastore.AllocateSpace
 * there and VM.Backup on the guest; anyone else gets a shorter list, not an error).
 */
import { nextRun, parseCalendarEvent } from "../domain/CalendarEvent.js"
import type { SimCluster } from "./Cluster.js"
import type { SimGuest } from "./Model.js"
import { type Acl, permissionsOn } from "./Permissions.js"
import type { ApiAnswer } from "./PveApi.js"

export interface SimBackupJob {
  id: string
  schedule: string
  enabled: boolean
  all?: boolean | undefined
  /** `100,101` */
  vmid?: string | undefined
  exclude?: string | undefined
  pool?: string | undefined
  node?: string | undefined
  storage: string
  mode: "snapshot" | "suspend" | "stop"
}

/** An archive on a storage: a non-shared storage's belong to the node that wrote them. */
export interface SimBackupVolume {
  storage: string
  node: string
  vmid: number
  kind: "qemu" | "lxc"
  /** Epoch seconds. */
  ctime: number
  size: number
}

const split = (s: string | undefined) => (s ?? "").split(/[\s,;]+/).filter((x) => /^\d+$/.test(x)).map(Number)

/** `PVE::VZDump::get_included_guests`: vmid → node ('' for a listed guest that does not exist). */
export const jobGuests = (job: SimBackupJob, guests: ReadonlyArray<SimGuest>): Map<number, string> => {
  const nodeOf = new Map(guests.map((g) => [g.vmid, g.node]))
  let vmids: Array<number>
  if (job.pool) vmids = guests.filter((g) => g.pool === job.pool).map((g) => g.vmid)
  else if (job.vmid) vmids = split(job.vmid)
  else if (job.all) vmids = guests.map((g) => g.vmid).filter((v) => !split(job.exclude).includes(v))
  else return new Map()
  const out = new Map<number, string>()
  for (const v of vmids) {
    const node = nodeOf.get(v)
    if (node !== undefined && job.node && job.node !== node) continue
    out.set(v, node ?? "")
  }
  return out
}

const two = (n: number) => String(n).padStart(2, "0")
const stamp = (ms: number, sep: [string, string, string]) => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}${sep[0]}${two(d.getUTCMonth() + 1)}${sep[0]}${two(d.getUTCDate())}${sep[1]}${two(d.getUTCHours())}${sep[2]}${two(d.getUTCMinutes())}${sep[2]}${two(d.getUTCSeconds())}`
}

export const volid = (v: SimBackupVolume) =>
  `${v.storage}:backup/vzdump-${v.kind}-${v.vmid}-${stamp(v.ctime * 1000, ["_", "-", "_"])}.${v.kind === "qemu" ? "vma" : "tar"}.zst`

/** A job's run now: one vzdump task per node with guests to back up (PVE's scheduler starts it on every node). */
export const runBackupJob = (cluster: SimCluster, job: SimBackupJob) => {
  const byNode = new Map<string, Array<number>>()
  for (const [vmid, node] of jobGuests(job, cluster.state.guests)) {
    // A listed guest that does not exist is attempted (and fails) on every node, as vzdump does.
    for (const n of node === "" ? cluster.state.nodes.map((x) => x.name) : [node]) byNode.set(n, [...(byNode.get(n) ?? []), vmid])
  }
  const tasks = []
  for (const [node, vmids] of byNode) {
    if (cluster.node(node).status !== "online") continue
    vmids.sort((a, b) => a - b)
    tasks.push(runVzdump(cluster, node, vmids, job.storage, job.mode, `vzdump --all ${job.all ? 1 : 0} --mode ${job.mode} --storage ${job.storage} --node ${node}`))
  }
  return tasks
}

/** One vzdump task on a node, run to its end at once. */
export const runVzdump = (cluster: SimCluster, node: string, vmids: ReadonlyArray<number>, storage: string, mode: string, cmdline: string, user = "root@pam") => {
  const { finish, task } = cluster.begin(node, "vzdump", vmids.length === 1 ? String(vmids[0]) : "", user)
  const run = vzdump(cluster, node, vmids, storage, mode, cmdline)
  task.log.push(...run.log)
  finish(run.status)
  return task
}

/** What vzdump does and logs: each guest backed up in turn, an archive for each success; the task's end status. */
export const vzdump = (cluster: SimCluster, node: string, vmids: ReadonlyArray<number>, storage: string, mode: string, cmdline: string) => {
  const log = [`INFO: starting new backup job: ${cmdline}`]
  const at = () => stamp(cluster.now(), ["-", " ", ":"])
  let errors = 0
  for (const vmid of vmids) {
    const g = cluster.state.guests.find((x) => x.vmid === vmid)
    if (g === undefined) {
      log.push(`ERROR: Backup of VM ${vmid} failed - unable to find configuration file for VM ${vmid} on node '${node}'`, `INFO: Failed at ${at()}`)
      errors++
      continue
    }
    const volume: SimBackupVolume = { storage, node, vmid, kind: g.kind, ctime: Math.floor(cluster.now() / 1000), size: Math.round(g.maxdisk / 8) }
    log.push(
      `INFO: Starting Backup of VM ${vmid} (${g.kind})`,
      `INFO: Backup started at ${at()}`,
      `INFO: status = ${g.status}`,
      `INFO: backup mode: ${mode}`,
      "INFO: ionice priority: 7",
      `INFO: creating vzdump archive '/var/lib/vz/dump/${volid(volume).split("/")[1]}'`
    )
    if (g.backupFails !== undefined) {
      log.push(`ERROR: Backup of VM ${vmid} failed - ${g.backupFails}`, `INFO: Failed at ${at()}`)
      errors++
      continue
    }
    log.push(`INFO: Finished Backup of VM ${vmid} (00:00:12)`, `INFO: Backup finished at ${at()}`)
    ;(cluster.state.backups ??= []).push(volume)
  }
  log.push(errors > 0 ? "INFO: Backup job finished with errors" : "INFO: Backup job finished successfully")
  return { log, status: errors > 0 ? "job errors" : "OK" }
}

/** `/cluster/backup`. */
export const backupJobs = (cluster: SimCluster, acl: Acl): ApiAnswer => {
  if (permissionsOn(acl, "/")["Sys.Audit"] !== 1) return { status: 403, body: { data: null }, reason: "Permission check failed (/, Sys.Audit)" }
  return {
    status: 200,
    body: {
      data: (cluster.state.backupJobs ?? []).map((j) => {
        const event = parseCalendarEvent(j.schedule)
        const next = event === undefined ? undefined : nextRun(event, cluster.now())
        return {
          id: j.id, type: "vzdump", schedule: j.schedule, enabled: j.enabled ? 1 : 0, storage: j.storage, mode: j.mode, compress: "zstd",
          ...(j.all ? { all: 1 } : {}), ...(j.vmid ? { vmid: j.vmid } : {}), ...(j.exclude ? { exclude: j.exclude } : {}),
          ...(j.pool ? { pool: j.pool } : {}), ...(j.node ? { node: j.node } : {}),
          ...(next === undefined ? {} : { "next-run": Math.floor(next / 1000) })
        }
      })
    }
  }
}

/** `/nodes/{node}/storage/{storage}/content`: the backups a token may see. */
export const storageContent = (cluster: SimCluster, node: string, storage: string, content: string | null, acl: Acl): ApiAnswer => {
  const pool = cluster.state.storage.find((s) => s.node === node && s.storage === storage)
  if (pool === undefined) return { status: 500, body: { data: null, message: `storage '${storage}' does not exist\n` } }
  const onStorage = permissionsOn(acl, `/storage/${storage}`)
  if (onStorage["Datastore.Audit"] !== 1 && onStorage["Datastore.AllocateSpace"] !== 1) {
    return { status: 403, body: { data: null }, reason: `Permission check failed (/storage/${storage}, Datastore.Audit|Datastore.AllocateSpace)` }
  }
  if (content !== null && content !== "backup") return { status: 200, body: { data: [] } }
  const visible = (v: SimBackupVolume) =>
    onStorage["Datastore.Allocate"] === 1 || (onStorage["Datastore.AllocateSpace"] === 1 && permissionsOn(acl, `/vms/${v.vmid}`)["VM.Backup"] === 1)
  return {
    status: 200,
    body: {
      data: (cluster.state.backups ?? [])
        .filter((v) => v.storage === storage && (pool.shared || v.node === node) && visible(v))
        .map((v) => ({ volid: volid(v), content: "backup", ctime: v.ctime, format: `${v.kind === "qemu" ? "vma" : "tar"}.zst`, size: v.size, subtype: v.kind, vmid: v.vmid }))
    }
  }
}
