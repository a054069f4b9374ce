/**
 * The pure parts of backups: PVE's calendar events read for the longest wait between runs, which
 * guests a job covers (pve-manager's `get_included_guests`), and a vzdump task's log read for each
 * guest's outcome, with logs as `PVE::VZDump` writes them.
 */
import { describe, expect, it } from "@effect/vitest"
import { type BackupJob, includedGuests, jobAllowance, readVzdumpLog } from "../../src/domain/Backup.js"
import { longestGap, nextRun, parseCalendarEvent } from "../../src/domain/CalendarEvent.js"

const hour = 3_600_000
const gap = (s: string) => {
  const e = parseCalendarEvent(s)
  return e === undefined ? "unparsed" : longestGap(e)
}

describe("calendar events", () => {
  it("knows the longest wait of the schedules PVE users write", () => {
    expect(gap("21:00")).toBe(24 * hour)
    expect(gap("daily")).toBe(24 * hour)
    expect(gap("mon..fri 02:30")).toBe(72 * hour) // Friday night to Monday
    expect(gap("sat,sun 3:00")).toBe(6 * 24 * hour)
    expect(gap("fri..mon 1:00")).toBe(96 * hour) // a range that wraps the week
    expect(gap("sun 01:00")).toBe(7 * 24 * hour)
    expect(gap("weekly")).toBe(7 * 24 * hour)
    expect(gap("*/15")).toBe(hour / 4) // a lone component is the minute
    expect(gap("*/2:05")).toBe(2 * hour)
    expect(gap("12,14:5")).toBe(22 * hour)
    expect(gap("*-05")).toBe(31 * 24 * hour) // the 5th of each month, at midnight
    expect(gap("sat *-1..7 15:00")).toBe(35 * 24 * hour) // the first Saturday of the month
    expect(gap("monthly")).toBe(31 * 24 * hour)
    expect(gap("2015-10-21")).toBeUndefined() // never again
    expect(gap("every tuesday")).toBe("unparsed")
    expect(gap("25:00")).toBeUndefined()
  })

  it("finds the next run, as PVE's next-run", () => {
    const from = Date.UTC(2026, 10, 23, 18, 30) // a Monday
    expect(new Date(nextRun(parseCalendarEvent("21:00")!, from)!).toISOString()).toBe("2026-11-23T21:00:00.000Z")
    expect(new Date(nextRun(parseCalendarEvent("sun 01:00")!, from)!).toISOString()).toBe("2026-11-29T01:00:00.000Z")
  })

  it("allows a job's guests the maximum age, or 1.5 times the job's longest wait when longer", () => {
    const job = (schedule: string | undefined): BackupJob =>
      ({ id: "j", schedule, enabled: true, all: true, vmids: [], exclude: [], pool: undefined, node: undefined, storage: "local", comment: undefined })
    expect(jobAllowance(job("21:00"), 36 * hour)).toBe(36 * hour)
    expect(jobAllowance(job("sun 01:00"), 36 * hour)).toBe(252 * hour)
    expect(jobAllowance(job("*/15"), 36 * hour)).toBe(36 * hour)
    expect(jobAllowance(job("not a schedule"), 36 * hour)).toBe(36 * hour)
    expect(jobAllowance(job(undefined), 48 * hour)).toBe(48 * hour)
  })
})

describe("the guests a job covers", () => {
  const guests = [
    { vmid: 100, node: "pve1", pool: "prod" },
    { vmid: 101, node: "pve1" },
    { vmid: 102, node: "pve2", pool: "prod" },
    { vmid: 103, node: "pve2" }
  ]
  const job = (fields: Partial<BackupJob>): BackupJob =>
    ({ id: "j", schedule: "21:00", enabled: true, all: false, vmids: [], exclude: [], pool: undefined, node: undefined, storage: "local", comment: undefined, ...fields })

  it("is a pool's members, else the listed guests, else all but the excluded; on the job's node only", () => {
    expect([...includedGuests(job({ all: true, exclude: [101] }), guests)]).toEqual([100, 102, 103])
    expect([...includedGuests(job({ vmids: [101, 103] }), guests)]).toEqual([101, 103])
    expect([...includedGuests(job({ pool: "prod", vmids: [101] }), guests)]).toEqual([100, 102]) // the pool wins, as in vzdump
    expect([...includedGuests(job({ all: true, node: "pve2" }), guests)]).toEqual([102, 103])
    expect([...includedGuests(job({}), guests)]).toEqual([])
    // A listed guest that does not exist is covered: vzdump tries it and fails, visibly.
    expect([...includedGuests(job({ vmids: [100, 999], node: "pve1" }), guests)]).toEqual([100, 999])
  })
})

describe("a vzdump task's log", () => {
  const task = { upid: "UPID:pve1:0000A1B2:00C3D4E5:6741F2A0:vzdump::root@pam:", node: "pve1", id: "", starttime: 1_763_924_400, endtime: 1_763_924_700 }

  it("gives each guest's outcome and archive", () => {
    const lines = [
      "INFO: starting new backup job: vzdump --all 1 --mode snapshot --storage pbs --node pve1 --notes-template '{{guestname}}'",
      "INFO: Starting Backup of VM 100 (qemu)",
      "INFO: Backup started at 2026-11-23 21:00:02",
      "INFO: status = running",
      "INFO: VM Name: web",
      "INFO: include disk 'scsi0' 'local-lvm:vm-100-disk-0' 32G",
      "INFO: backup mode: snapshot",
      "INFO: ionice priority: 7",
      "INFO: creating Proxmox Backup Server archive 'vm/100/2026-11-23T21:00:02Z'",
      "INFO: backup was done incrementally, reused 30.52 GiB (95%)",
      "INFO: Finished Backup of VM 100 (00:01:12)",
      "INFO: Backup finished at 2026-11-23 21:01:14",
      "INFO: Starting Backup of VM 101 (qemu)",
      "INFO: Backup started at 2026-11-23 21:01:14",
      "INFO: creating Proxmox Backup Server archive 'vm/101/2026-11-23T21:01:14Z'",
      "ERROR: VM 101 qmp command 'backup' failed - got timeout",
      "INFO: aborting backup job",
      "ERROR: Backup of VM 101 failed - VM 101 qmp command 'backup' failed - got timeout",
      "INFO: Failed at 2026-11-23 21:03:20",
      "INFO: Starting Backup of VM 102 (lxc)",
      "INFO: creating vzdump archive '/mnt/pve/nfs/dump/vzdump-lxc-102-2026_11_23-21_03_20.tar.zst'",
      "INFO: Finished Backup of VM 102 (00:00:40)",
      "INFO: Backup job finished with errors",
      "TASK ERROR: job errors"
    ]
    expect(readVzdumpLog({ ...task, status: "job errors" }, lines)).toEqual({
      upid: task.upid, node: "pve1", starttime: task.starttime, endtime: task.endtime, status: "job errors", jobError: undefined,
      guests: [
        { vmid: 100, ok: true, error: undefined, archive: "vm/100/2026-11-23T21:00:02Z" },
        { vmid: 101, ok: false, error: "VM 101 qmp command 'backup' failed - got timeout", archive: "vm/101/2026-11-23T21:01:14Z" },
        { vmid: 102, ok: true, error: undefined, archive: "/mnt/pve/nfs/dump/vzdump-lxc-102-2026_11_23-21_03_20.tar.zst" }
      ]
    })
  })

  it("fails a guest whose backup never ended with the task, and a job that failed before any guest", () => {
    const interrupted = readVzdumpLog({ ...task, status: "interrupted by signal" }, ["INFO: Starting Backup of VM 100 (qemu)", "INFO: status = running"])
    expect(interrupted.guests).toEqual([{ vmid: 100, ok: false, error: "interrupted by signal", archive: undefined }])
    const locked = readVzdumpLog({ ...task, status: "can't acquire lock '/var/run/vzdump.lock' (wait = 0)" }, ["no content"])
    expect(locked).toMatchObject({ guests: [], jobError: "can't acquire lock '/var/run/vzdump.lock' (wait = 0)" })
    // A single guest's task names it in its id.
    const single = readVzdumpLog({ ...task, id: "104", status: "storage 'nfs' is not online" }, [])
    expect(single).toMatchObject({ guests: [{ vmid: 104, ok: false, error: "storage 'nfs' is not online" }], jobError: undefined })
    expect(readVzdumpLog({ ...task, status: "WARNINGS: 1" }, ["INFO: Starting Backup of VM 100 (qemu)", "INFO: Finished Backup of VM 100 (00:00:09)"]).guests[0]!.ok).toBe(true)
  })
})
