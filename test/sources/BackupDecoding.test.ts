/**
 * The backup endpoints' payloads as PVE sends them (pve-manager's Backup.pm and Tasks.pm,
 * pve-storage's Storage/Content.pm): a job's vmid list as a string, `enabled` absent (default 1)
 * or 0/1, fleecing and prune settings as objects, `next-run`; log lines `{n, t}`; archives with
 * `ctime`, PBS' `verification` and `encrypted`, and entries without an owner.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { BackupJobItem, StorageContentItem, TaskLogLine, toBackupJob, toBackupVolume } from "../../src/sources/PveBackupSchema.js"
import { Envelope } from "../../src/sources/PveSchema.js"

const decode = <A, I>(schema: Schema.Schema<A, I>, body: unknown) => Schema.decodeUnknownSync(Envelope(Schema.Array(schema)))(body).data!

describe("decoding the backup endpoints", () => {
  it("/cluster/backup: jobs.cfg jobs with their options, legacy ones converted, `enabled` defaulting to on", () => {
    const jobs = decode(BackupJobItem, {
      data: [
        {
          id: "backup-5f8e2c1a-9b3d", type: "vzdump", schedule: "21:00", enabled: 1, all: 1, exclude: "103,9000", storage: "pbs", mode: "snapshot",
          compress: "zstd", "notes-template": "{{guestname}}", "prune-backups": { "keep-daily": "7", "keep-weekly": "4" }, fleecing: { enabled: 0 },
          "repeat-missed": 0, "next-run": 1763931600
        },
        { id: "backup-0c3d7e11-44aa", type: "vzdump", schedule: "sun 01:00", vmid: "100,101", storage: "local", node: "pve1", enabled: "0", comment: "weekly offsite" },
        // A vzdump.cron job (before PVE 7.1): no `enabled`, `starttime`/`dow` already turned into a schedule.
        { id: "3e1a2f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f:1", schedule: "mon,wed,fri 02:30", pool: "prod", storage: "local", mailto: "ops@example.com" },
        { id: "replicate-nightly", type: "realm-sync", schedule: "daily" }
      ]
    })
    expect(jobs.map(toBackupJob).slice(0, 3)).toEqual([
      { id: "backup-5f8e2c1a-9b3d", schedule: "21:00", enabled: true, all: true, vmids: [], exclude: [103, 9000], pool: undefined, node: undefined, storage: "pbs", comment: undefined },
      { id: "backup-0c3d7e11-44aa", schedule: "sun 01:00", enabled: false, all: false, vmids: [100, 101], exclude: [], pool: undefined, node: "pve1", storage: "local", comment: "weekly offsite" },
      { id: "3e1a2f6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f:1", schedule: "mon,wed,fri 02:30", enabled: true, all: false, vmids: [], exclude: [], pool: "prod", node: undefined, storage: "local", comment: undefined }
    ])
    expect(jobs[3]!.type).toBe("realm-sync")
    expect(toBackupJob(decode(BackupJobItem, { data: [{ id: "j", vmid: 100 }] })[0]!).vmids).toEqual([100])
  })

  it("/nodes/{node}/tasks/{upid}/log: numbered lines", () => {
    expect(decode(TaskLogLine, { data: [{ n: 1, t: "INFO: starting new backup job: vzdump 100 --storage local" }, { n: "2", t: "TASK OK" }], total: 2 }))
      .toEqual([{ n: 1, t: "INFO: starting new backup job: vzdump 100 --storage local" }, { n: 2, t: "TASK OK" }])
  })

  it("/nodes/{node}/storage/{storage}/content?content=backup: archives of a directory and a PBS storage", () => {
    const items = decode(StorageContentItem, {
      data: [
        { volid: "local:backup/vzdump-qemu-100-2026_11_22-21_00_02.vma.zst", content: "backup", ctime: 1763845202, format: "vma.zst", size: 2147483648, subtype: "qemu", vmid: 100, notes: "web" },
        {
          volid: "pbs:backup/ct/102/2026-11-22T21:03:20Z", content: "backup", ctime: "1763845400", format: "pbs-ct", size: 536870912, vmid: "102", protected: 1,
          encrypted: "ab:cd:ef", verification: { state: "failed", upid: "UPID:pbs:00001234:0000ABCD:6741F2A0:verificationjob:pbs\\x3av\\x2d1:root@pam:" }
        },
        { volid: "local:backup/vzdump-qemu-2026_01_01-00_00_00.vma", content: "backup", format: "vma", size: 100 }
      ]
    })
    expect(items.map((i) => toBackupVolume("x", i))).toEqual([
      { volid: "local:backup/vzdump-qemu-100-2026_11_22-21_00_02.vma.zst", storage: "x", vmid: 100, ctime: 1763845202, size: 2147483648, verification: undefined },
      { volid: "pbs:backup/ct/102/2026-11-22T21:03:20Z", storage: "x", vmid: 102, ctime: 1763845400, size: 536870912, verification: "failed" },
      undefined
    ])
  })
})
