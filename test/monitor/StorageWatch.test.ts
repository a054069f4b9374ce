/**
 * The pure judges of Ceph, ZFS and replication: what each change tells, and that a state held
 * tells nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { judgeCeph, startingHealth } from "../../src/monitor/CephWatch.js"
import { judgeReplication } from "../../src/monitor/ReplicationWatch.js"
import { judgeZfs } from "../../src/monitor/ZfsWatch.js"

const ok = { status: "HEALTH_OK", checks: [] }
const warn = { status: "HEALTH_WARN", checks: [{ code: "OSD_DOWN", severity: "HEALTH_WARN", summary: "1 osds down", muted: false }] }

describe("storage health judges", () => {
  it("Ceph: a new failing check under the same status is a change; the same health twice is none", () => {
    const twoChecks = { status: "HEALTH_WARN", checks: [...warn.checks, { code: "PG_DEGRADED", severity: "HEALTH_WARN", summary: "Degraded data redundancy", muted: false }] }
    expect(judgeCeph(warn, warn)).toEqual([])
    const [change] = judgeCeph(warn, twoChecks)
    expect(change!.incident).toMatchObject({ _tag: "Change", key: "CEPH_HEALTH:cluster/ceph", severity: "warning" })
    expect(judgeCeph(ok, warn)[0]!.incident).toMatchObject({ _tag: "Open" })
    expect(judgeCeph(warn, ok)[0]!.incident).toMatchObject({ _tag: "Resolve" })
  })

  it("Ceph: a restart with the incident open tells nothing while it stays degraded, and resolves when it is healthy", () => {
    expect(judgeCeph(startingHealth(warn, true), warn)).toEqual([])
    expect(judgeCeph(startingHealth(ok, true), ok)[0]!.incident).toMatchObject({ _tag: "Resolve" })
    expect(judgeCeph(startingHealth(ok, false), ok)).toEqual([])
  })

  it("ZFS: a new pool that is ONLINE tells nothing; SUSPENDED is an error", () => {
    const pool = { node: "pve1", name: "tank", size: 1, alloc: 0 }
    expect(judgeZfs(new Map(), [{ ...pool, health: "ONLINE" }])).toEqual([])
    expect(judgeZfs(new Map(), [{ ...pool, health: "SUSPENDED" }])[0]!.event.severity).toBe("error")
    expect(judgeZfs(new Map([["tank", "SUSPENDED"]]), [{ ...pool, health: "SUSPENDED" }])).toEqual([])
  })

  it("replication: a failing job someone disabled resolves its incident; a disabled job never opens one", () => {
    const job = { id: "100-0", node: "pve1", guest: 100, target: "pve2", failCount: 3, error: "timeout", disabled: true }
    const [resolved] = judgeReplication(new Set(["100-0"]), [job])
    expect(resolved!.incident).toMatchObject({ _tag: "Resolve", key: "REPLICATION_FAILED:replication/100-0" })
    expect((resolved!.event.data as string)).toContain("was disabled")
    expect(judgeReplication(new Set(), [job])).toEqual([])
  })
})
