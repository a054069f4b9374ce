/**
 * The backup watch's judgement, pure: the first round tells failures (a state) but not the
 * successes it finds (history); a job that failed as a whole is an incident on its node until a
 * good run there; a guest that was deleted while failing, and that no job names, is let go.
 */
import { describe, expect, it } from "@effect/vitest"
import type { BackupJob, BackupRun } from "../../src/domain/Backup.js"
import type { Guest } from "../../src/domain/Snapshot.js"
import { type BackupObservation, judgeBackups } from "../../src/monitor/BackupWatch.js"

const hour = 3_600_000
const now = Date.UTC(2026, 10, 23, 22, 0)
const guest = (vmid: number, node = "pve1"): Guest => ({ kind: "qemu", vmid, name: `vm${vmid}`, node, status: "running", tags: [], template: false })
const job: BackupJob = { id: "nightly", schedule: "21:00", enabled: true, all: true, vmids: [], exclude: [], pool: undefined, node: undefined, storage: "local", comment: undefined }
const run = (upid: string, endMs: number, guests: BackupRun["guests"], jobError?: string): BackupRun =>
  ({ upid, node: "pve1", starttime: endMs / 1000 - 60, endtime: endMs / 1000, status: jobError ?? (guests.every((g) => g.ok) ? "OK" : "job errors"), guests, jobError })
const observe = (fields: Partial<BackupObservation>): BackupObservation =>
  ({ now, maxAgeMs: 36 * hour, guests: [guest(100), guest(101)], readNodes: new Set(["pve1"]), jobs: [job], newRuns: [], volumes: [], since: (now - 36 * hour) / 1000, ...fields })
const types = (r: ReturnType<typeof judgeBackups>) => r.findings.map((f) => `${f.event.type} ${f.event.subject}${f.incident ? ` ${f.incident._tag}` : ""}`)

describe("judging backups", () => {
  it("takes the first round's runs as history: their failures are told, their successes are not", () => {
    const first = judgeBackups(undefined, observe({
      newRuns: [run("A", now - hour, [{ vmid: 100, ok: true, error: undefined, archive: undefined }, { vmid: 101, ok: false, error: "broken pipe", archive: undefined }])]
    }))
    expect(types(first)).toEqual(["backup.failed qemu/101 Open"])
    // The same runs again are known; a new good run of 101 is told and resolves it.
    const second = judgeBackups(first.memory, observe({ now: now + hour, newRuns: [run("B", now + hour / 2, [{ vmid: 101, ok: true, error: undefined, archive: undefined }])] }))
    expect(types(second)).toEqual(["backup.succeeded qemu/101 Resolve"])
    expect(Object.keys(second.memory.runs).sort()).toEqual(["A", "B"])
  })

  it("holds a job that failed as a whole against its node until a good run there", () => {
    const failed = judgeBackups(undefined, observe({ volumes: [], newRuns: [run("A", now - hour, [], "can't acquire lock '/var/run/vzdump.lock' (wait = 0)")] }))
    expect(types(failed)).toEqual(["backup.failed node/pve1 Open"])
    expect(failed.findings[0]!.incident).toMatchObject({ summary: "The backup job on pve1 failed: can't acquire lock '/var/run/vzdump.lock' (wait = 0)" })
    const again = judgeBackups(failed.memory, observe({ newRuns: [run("B", now, [{ vmid: 100, ok: true, error: undefined, archive: undefined }])] }))
    expect(types(again)).toEqual(["backup.succeeded qemu/100", "backup.failed.cleared node/pve1 Resolve"])
    // A run that reaches its guests clears the node even when a guest fails: that failure is the guest's.
    const partly = judgeBackups(failed.memory, observe({ newRuns: [run("C", now, [{ vmid: 101, ok: false, error: "broken pipe", archive: undefined }])] }))
    expect(types(partly)).toEqual(["backup.failed.cleared node/pve1 Resolve", "backup.failed qemu/101 Open"])
  })

  it("lets go of a failing guest that was deleted and that no job names; tells a never-backed-up guest stale only after the allowance", () => {
    const first = judgeBackups(undefined, observe({ newRuns: [run("A", now - hour, [{ vmid: 101, ok: false, error: "x", archive: undefined }])] }))
    const deleted = judgeBackups(first.memory, observe({ guests: [guest(100)], now: now + 1000 }))
    expect(types(deleted)).toEqual(["backup.failed.cleared qemu/101 Resolve"])
    expect(Object.keys(deleted.memory.guests)).toEqual(["100"])
    // 100 has had no backup since vigil first saw it covered: stale once 36 hours have passed.
    expect(types(judgeBackups(deleted.memory, observe({ guests: [guest(100)], now: now + 35 * hour })))).toEqual([])
    const stale = judgeBackups(deleted.memory, observe({ guests: [guest(100)], now: now + 37 * hour }))
    expect(types(stale)).toEqual(["backup.stale qemu/100 Open"])
    expect(stale.findings[0]!.incident).toMatchObject({ summary: "vm100 (qemu/100) has no backup, 37 h after a job first covered it (allowed: 36 h)" })
    // Its node unreachable: not judged (it keeps what was told).
    const unread = judgeBackups(stale.memory, observe({ guests: [guest(100)], now: now + 38 * hour, readNodes: new Set() }))
    expect(types(unread)).toEqual([])
    expect(unread.memory.stale).toEqual(["qemu/100"])
  })
})
