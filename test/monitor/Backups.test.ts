/**
 * Backups on the simulated cluster (vzdump jobs from `/cluster/backup`, their runs as vzdump tasks
 * with PVE's log lines, the archives on each node's `local` storage): a failing guest is one
 * `backup.failed` and one incident however often it fails, its next good backup one
 * `backup.succeeded` that resolves it; a backup older than the job allows is one `backup.stale`;
 * the running guests no job covers are one `backup.uncovered` per change; a restart tells nothing
 * twice; `GET /api/v1/backups` shows each guest's last backup.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { runBackupJob } from "../../src/sim/Backups.js"
import { administrator } from "../../src/sim/Permissions.js"
import type { PveSimulator } from "../../src/sim/PveSimulator.js"
import { eventually } from "../support/Eventually.js"
import { events } from "../support/Events.js"
import { endpointPolls, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const morePolls = (sim: PveSimulator, n = 3) => endpointPolls(sim, "/cluster/backup", n)
const runJob = (sim: PveSimulator) => Effect.sync(() => runBackupJob(sim.cluster, sim.state.backupJobs![0]!))
const incidents = (url: string, status: string, condition: string) =>
  Effect.map(getJson(`${url}/api/v1/incidents?status=${status}`), (r) => (r.body as Array<any>).filter((i) => i.condition === condition))
const backups = (url: string) => Effect.map(getJson(`${url}/api/v1/backups`), (r) => r.body)

describe("backups", () => {
  it.scopedLive("a failing guest is one backup.failed and one incident; its next good backup resolves it", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      yield* eventually("backups are read", backups(vigil.url), (b) => b.judgedAt !== null && b.summary.ok === 6)
      // Last night's backups are history: nothing to tell about them.
      yield* morePolls(sim)
      expect((yield* events(vigil.url, "backup.succeeded")).length + (yield* events(vigil.url, "backup.failed")).length).toBe(0)

      sim.guest(101).backupFails = "vma_queue_write: write error - Broken pipe"
      yield* runJob(sim)
      yield* eventually("the failure is told", events(vigil.url, "backup.failed"), (e) => e.length === 1)
      yield* runJob(sim) // it fails again: nothing new to tell
      yield* eventually("the second run is read", events(vigil.url, "backup.succeeded"), (e) => e.filter((x: any) => x.subject === "qemu/100").length === 2)
      yield* morePolls(sim)
      const [failed] = yield* events(vigil.url, "backup.failed")
      expect(failed).toMatchObject({
        severity: "error", subject: "qemu/101", node: "pve1",
        data: { vmid: 101, error: "vma_queue_write: write error - Broken pipe", incident: "BACKUP_FAILED:qemu/101" }
      })
      expect(failed.data.task).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzdump::root@pam:$/)
      expect((yield* incidents(vigil.url, "open", "BACKUP_FAILED")).map((i) => i.key)).toEqual(["BACKUP_FAILED:qemu/101"])
      const listed = yield* backups(vigil.url)
      expect(listed.guests[0]).toMatchObject({ guest: "qemu/101", state: "failed", lastRun: { ok: false, error: "vma_queue_write: write error - Broken pipe", node: "pve1" } })
      expect(listed.guests[0].lastBackup.ageSeconds).toBeGreaterThan(4 * 3600)
      expect(listed.guests.find((g: any) => g.vmid === 100)).toMatchObject({ state: "ok", jobs: ["backup-5f8e2c1a-9b3d"], allowanceSeconds: 36 * 3600 })
      expect(listed.guests.find((g: any) => g.vmid === 100).lastBackup.archive).toMatch(/^\/var\/lib\/vz\/dump\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$|^local:backup\/vzdump-qemu-100-/)

      sim.guest(101).backupFails = undefined
      yield* runJob(sim)
      const ok = yield* eventually("the good backup is told", events(vigil.url, "backup.succeeded"), (e) => e.some((x: any) => x.subject === "qemu/101"))
      expect(ok.find((x: any) => x.subject === "qemu/101").data.incident).toBe("BACKUP_FAILED:qemu/101")
      expect(yield* incidents(vigil.url, "open", "BACKUP_FAILED")).toEqual([])
      expect(yield* incidents(vigil.url, "resolved", "BACKUP_FAILED")).toHaveLength(1)

      // A restart on the same store goes on from what was told.
      const told = (yield* getJson(`${vigil.url}/api/v1/events?limit=1000`)).body.length
      yield* vigil.stop
      const again = yield* startVigil(watching(sim), vigil.dataDir)
      yield* watchSeeded(again.url, sim)
      yield* morePolls(sim)
      const after = (yield* getJson(`${again.url}/api/v1/events?limit=1000`)).body.filter((e: any) => e.type.startsWith("backup."))
      expect(after.length).toBeLessThanOrEqual(told)
      expect(after.filter((e: any) => e.type === "backup.failed")).toHaveLength(1)
      expect(after.filter((e: any) => e.subject === "qemu/101" && e.type === "backup.succeeded")).toHaveLength(1)
    }))

  it.scopedLive("a backup older than its job allows is one backup.stale, resolved by the next backup", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      // 102's newest archive is 40 hours old: a nightly job allows 36.
      for (const v of sim.state.backups!) if (v.vmid === 102) v.ctime -= 36 * 3600
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      const [stale] = yield* eventually("it is told", events(vigil.url, "backup.stale"), (e) => e.length === 1)
      expect(stale).toMatchObject({ severity: "warning", subject: "lxc/102", node: "pve2", data: { vmid: 102, allowanceSeconds: 129600, jobs: ["backup-5f8e2c1a-9b3d"] } })
      expect(stale.data.summary).toMatch(/^The last backup of cache \(lxc\/102\) is 4\d(\.\d)? h old \(allowed: 36 h\)$/)
      yield* morePolls(sim)
      expect(yield* events(vigil.url, "backup.stale")).toHaveLength(1)
      expect((yield* incidents(vigil.url, "open", "BACKUP_STALE")).map((i) => i.key)).toEqual(["BACKUP_STALE:lxc/102"])

      yield* runJob(sim)
      yield* eventually("it is resolved", incidents(vigil.url, "open", "BACKUP_STALE"), (o) => o.length === 0)
      const ok = (yield* events(vigil.url, "backup.succeeded")).find((e: any) => e.subject === "lxc/102")
      expect(ok.data.incident).toBe("BACKUP_STALE:lxc/102")
    }))

  it.scopedLive("a weekly job's guests may be older; a running guest no job covers is told in one backup.uncovered", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const job = sim.state.backupJobs![0]!
      job.schedule = "sun 01:00"
      job.exclude = "103"
      for (const v of sim.state.backups!) v.ctime -= 3 * 86_400
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      const [uncovered] = yield* eventually("it is told", events(vigil.url, "backup.uncovered"), (e) => e.length === 1)
      expect(uncovered).toMatchObject({ severity: "info", subject: "cluster/backups", data: { guests: [{ vmid: 103, guest: "qemu/103", name: "worker", node: "pve2" }], added: [103], removed: [] } })
      const listed = yield* backups(vigil.url)
      expect(listed.guests.find((g: any) => g.vmid === 103)).toMatchObject({ state: "uncovered", jobs: [] })
      expect(listed.guests.find((g: any) => g.vmid === 100)).toMatchObject({ state: "ok", allowanceSeconds: 1.5 * 7 * 86_400 })
      expect(yield* events(vigil.url, "backup.stale")).toEqual([])

      job.exclude = undefined
      yield* eventually("covering it is told", events(vigil.url, "backup.uncovered"), (e) => e.length === 2)
      yield* morePolls(sim)
      const all = yield* events(vigil.url, "backup.uncovered")
      expect(all).toHaveLength(2)
      expect(all[1].data).toMatchObject({ guests: [], added: [], removed: [103], summary: "Every running guest is covered by a backup job" })
    }))

  it.scopedLive("a token that may not list the jobs is told once which privilege is missing", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      sim.state.acl = { "/": Object.fromEntries(administrator.filter((p) => p !== "Sys.Audit").map((p) => [p, 1 as const])) }
      const vigil = yield* startVigil(watching(sim))
      const [said] = yield* eventually("it says so", events(vigil.url, "backup.unavailable"), (e) => e.length === 1)
      expect(said.data.summary).toBe("Backups are not watched: the token lacks Sys.Audit on /")
      yield* watchSeeded(vigil.url, sim)
      expect(yield* events(vigil.url, "backup.unavailable")).toHaveLength(1)
    }))
})
