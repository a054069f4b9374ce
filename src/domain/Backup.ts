/**
 * Backups as Proxmox VE keeps them: vzdump jobs (`/cluster/backup`), the runs they leave in each
 * node's task log (one `vzdump` task per node and run, its log telling each guest's outcome), and
 * the archives on backup storages. Pure: which guests a job covers (pve-manager's
 * `PVE::VZDump::get_included_guests`) and what a vzdump task's log says (`PVE::VZDump` writes it).
 */
import { longestGap, parseCalendarEvent } from "./CalendarEvent.js"

/** A backup job as `/cluster/backup` lists it (pve-manager's `jobs.cfg` and legacy `vzdump.cron`). */
export interface BackupJob {
  readonly id: string
  /** A calendar event (`21:00`, `sun 01:00`); PVE converts legacy `starttime`/`dow` to one. */
  readonly schedule: string | undefined
  readonly enabled: boolean
  /** Every guest but `exclude`. */
  readonly all: boolean
  /** Explicit guests (`vmid: "100,101"`). */
  readonly vmids: ReadonlyArray<number>
  readonly exclude: ReadonlyArray<number>
  /** The guests of a resource pool. */
  readonly pool: string | undefined
  /** Only guests on this node. */
  readonly node: string | undefined
  readonly storage: string | undefined
  readonly comment: string | undefined
}

export interface GuestRef {
  readonly vmid: number
  readonly node: string
  readonly pool?: string | undefined
}

/** `100,101 102;103`: PVE's `split_list` separators. */
export const splitVmids = (text: string | undefined): Array<number> =>
  (text ?? "").split(/[\s,;\0]+/).filter((s) => /^\d+$/.test(s)).map(Number)

/**
 * The guests a job backs up, as vzdump decides it: a pool's members, else the listed guests,
 * else (with `all`) every guest but the excluded; restricted to the job's node when it has one.
 * A listed guest that does not exist is covered too (vzdump fails it, visibly, every run).
 */
export const includedGuests = (job: BackupJob, guests: ReadonlyArray<GuestRef>): ReadonlySet<number> => {
  let vmids: Array<number>
  if (job.pool !== undefined && job.pool !== "") vmids = guests.filter((g) => g.pool === job.pool).map((g) => g.vmid)
  else if (job.vmids.length > 0) vmids = [...job.vmids]
  else if (job.all) {
    const excluded = new Set(job.exclude)
    vmids = guests.filter((g) => !excluded.has(g.vmid)).map((g) => g.vmid)
  } else return new Set()
  const nodeOf = new Map(guests.map((g) => [g.vmid, g.node]))
  return new Set(vmids.filter((v) => job.node === undefined || job.node === "" || nodeOf.get(v) === undefined || nodeOf.get(v) === job.node))
}

/**
 * How old a backup from this job may get: the configured maximum, or one and a half times the
 * longest wait between two of the job's scheduled runs when that is longer (a weekly job's guests
 * may be ten days old).
 */
export const jobAllowance = (job: BackupJob, maxAgeMs: number): number => {
  const event = job.schedule === undefined ? undefined : parseCalendarEvent(job.schedule)
  const gap = event === undefined ? undefined : longestGap(event)
  return Math.max(maxAgeMs, gap === undefined ? 0 : gap * 1.5)
}

/** What one guest's backup in a run came to. */
export interface GuestBackupOutcome {
  readonly vmid: number
  readonly ok: boolean
  readonly error: string | undefined
  /** The archive written (`/mnt/pve/nfs/dump/vzdump-qemu-100-….vma.zst`, `vm/100/2026-11-22T21:00:02Z`). */
  readonly archive: string | undefined
}

/** One finished vzdump task: a job's run on one node, or a single guest's backup. */
export interface BackupRun {
  readonly upid: string
  readonly node: string
  /** Epoch seconds. */
  readonly starttime: number
  readonly endtime: number
  /** `OK`, `WARNINGS: 1`, `job errors`, or what stopped the whole job. */
  readonly status: string
  readonly guests: ReadonlyArray<GuestBackupOutcome>
  /** The job failed as a whole with no guest to blame (a lock it could not get, a storage gone). */
  readonly jobError: string | undefined
}

const starting = /^INFO: Starting Backup of VM (\d+) /
const finished = /^INFO: Finished Backup of VM (\d+) /
const failed = /^ERROR: Backup of VM (\d+) failed - (.*)$/
const archive = /^INFO: creating (?:vzdump|Proxmox Backup Server) archive '([^']+)'/

/**
 * A vzdump task's outcome per guest, from its log: `Starting Backup of VM 100 (qemu)`, then
 * `Finished Backup of VM 100 (00:01:12)` or `ERROR: Backup of VM 100 failed - …`. A guest whose
 * backup started and never ended failed with the task (it was interrupted). A task that names one
 * guest (its id) and logged none failed or succeeded with it; one that names none and failed is a
 * job error.
 */
export const readVzdumpLog = (
  task: { readonly upid: string; readonly node: string; readonly id: string; readonly starttime: number; readonly endtime: number; readonly status: string },
  lines: ReadonlyArray<string>
): BackupRun => {
  const outcomes = new Map<number, { ok: boolean | undefined; error: string | undefined; archive: string | undefined }>()
  let current: number | undefined
  for (const line of lines) {
    let m: RegExpExecArray | null
    if ((m = starting.exec(line))) {
      current = Number(m[1])
      outcomes.set(current, { ok: undefined, error: undefined, archive: undefined })
    } else if ((m = finished.exec(line))) {
      const o = outcomes.get(Number(m[1]))
      if (o) o.ok = true
    } else if ((m = failed.exec(line))) {
      const vmid = Number(m[1])
      outcomes.set(vmid, { ...(outcomes.get(vmid) ?? { archive: undefined }), ok: false, error: m[2]! })
    } else if ((m = archive.exec(line)) && current !== undefined) {
      const o = outcomes.get(current)
      if (o) o.archive = m[1]
    }
  }
  const taskOk = task.status === "OK" || /^WARNINGS: \d+$/.test(task.status)
  const guests: Array<GuestBackupOutcome> = [...outcomes].map(([vmid, o]) => ({
    vmid,
    ok: o.ok === true,
    error: o.ok === true ? undefined : o.error ?? (taskOk ? "the backup did not finish" : task.status),
    archive: o.archive
  }))
  if (guests.length === 0 && /^\d+$/.test(task.id)) {
    guests.push({ vmid: Number(task.id), ok: taskOk, error: taskOk ? undefined : task.status, archive: undefined })
  }
  return {
    upid: task.upid,
    node: task.node,
    starttime: task.starttime,
    endtime: task.endtime,
    status: task.status,
    guests,
    jobError: guests.length === 0 && !taskOk ? task.status : undefined
  }
}

/** A backup archive on a storage (`content=backup`), as the storage lists it. */
export interface BackupVolume {
  readonly volid: string
  readonly storage: string
  readonly vmid: number
  /** Epoch seconds. */
  readonly ctime: number
  readonly size: number | undefined
  /** PBS' last verification of it: `ok`, `failed`, or none. */
  readonly verification: string | undefined
}
