/**
 * Causes decided from task logs shaped as Proxmox VE writes them (pve-manager's task list,
 * qemu-server's and pve-ha-manager's worker types and users).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import type { Guest } from "../../src/domain/Snapshot.js"
import type { Task } from "../../src/domain/Task.js"
import { type ChangeKind, explain, type Subject } from "../../src/monitor/Causes.js"

const at = 1_800_000_000_000
const guest = (fields: Partial<Guest> = {}): Guest => ({
  kind: "qemu", vmid: 100, name: "web", node: "pve1", status: "stopped", tags: [], template: false, ...fields
})

const subject = (change: ChangeKind, fields: Partial<Subject> = {}, g: Partial<Guest> = {}): Subject => ({
  guest: guest(g),
  change,
  nodes: ["pve1"],
  window: { from: at - 72_000, to: at + 60_000 },
  lock: undefined,
  haRequest: undefined,
  haStates: [],
  fromNodeDown: false,
  ...fields
})

let pid = 0x2000
const task = (type: string, user = "root@pam", fields: Partial<Task> = {}): Task => {
  const starttime = Math.floor((at - 5_000) / 1000)
  return {
    upid: `UPID:pve1:${(++pid).toString(16).toUpperCase().padStart(8, "0")}:00ABCDEF:${starttime.toString(16).toUpperCase()}:${type}:100:${user}:`,
    node: "pve1",
    type,
    id: "100",
    user,
    starttime,
    endtime: starttime + 4,
    status: "OK",
    ...fields
  }
}

const evidence = (tasks: ReadonlyArray<Task>, node = "pve1") => ({
  tasks: new Map([[node, Either.right(tasks)]]),
  actingUser: "monitor@pve!vigil"
})

describe("explain", () => {
  it("an operator's shutdown, by user and task, including a token's", () => {
    expect(explain(subject("stopped"), evidence([task("qmshutdown", "alice@pve")]))).toMatchObject({
      kind: "operator", user: "alice@pve", task: "qmshutdown", summary: "stopped by alice@pve (qmshutdown)"
    })
    expect(explain(subject("stopped"), evidence([task("qmstop", "ci@pve", { tokenid: "deploy" })]))).toMatchObject({ kind: "operator", user: "ci@pve!deploy" })
  })

  it("a shutdown still running explains the stop (PVE lists it only with source=all)", () => {
    const running = task("qmshutdown", "root@pam", { endtime: undefined, status: "RUNNING" })
    expect(explain(subject("stopped"), evidence([running]))).toMatchObject({ kind: "operator", task: "qmshutdown" })
  })

  it("a task outside the window, or about another guest, explains nothing", () => {
    const old = task("qmshutdown", "root@pam", { starttime: Math.floor((at - 3_600_000) / 1000), endtime: Math.floor((at - 3_590_000) / 1000) })
    const other = task("qmshutdown", "root@pam", { id: "101" })
    expect(explain(subject("stopped"), evidence([old, other])).kind).toBe("unknown")
  })

  it("nothing in the log is a crash, and says Proxmox records no in-guest shutdown", () => {
    const cause = explain(subject("stopped"), evidence([]))
    expect(cause).toEqual({ kind: "unknown", summary: expect.stringContaining("shutdown from inside the guest") })
  })

  it("an unreadable log is said, not guessed", () => {
    const cause = explain(subject("stopped"), { tasks: new Map([["pve1", Either.left("HTTP 500 from /nodes/pve1/tasks")]]), actingUser: undefined })
    expect(cause.kind).toBe("unknown")
    expect(cause.summary).toContain("task log could not be read (pve1: HTTP 500 from /nodes/pve1/tasks)")
  })

  it("a backup: a vzdump for this guest, or a job over several while the guest holds the backup lock", () => {
    expect(explain(subject("stopped"), evidence([task("vzdump")]))).toMatchObject({ kind: "backup", task: "vzdump" })
    const job = task("vzdump", "root@pam", { id: "" })
    expect(explain(subject("stopped", { lock: "backup" }), evidence([job]))).toMatchObject({ kind: "backup" })
    expect(explain(subject("stopped"), evidence([job])).kind).toBe("unknown")
  })

  it("HA: a user's hastop is the user's; HA's own root@pam shutdown without one is HA's", () => {
    const ha = { hastate: "stopped" }
    expect(explain(subject("stopped", {}, ha), evidence([task("hastop", "bob@pve"), task("qmshutdown")]))).toMatchObject({
      kind: "operator", user: "bob@pve", task: "hastop"
    })
    expect(explain(subject("stopped", { haRequest: "started" }, ha), evidence([task("qmshutdown")]))).toMatchObject({ kind: "ha", task: "qmshutdown" })
    expect(explain(subject("stopped", { haRequest: "stopped" }, ha), evidence([task("qmshutdown")]))).toMatchObject({
      kind: "operator", summary: "stopped by Proxmox HA as requested (state stopped)"
    })
  })

  it("a restart: a reboot task, HA starting it again after it went down, or nothing (a crash)", () => {
    expect(explain(subject("restarted"), evidence([task("qmreboot", "alice@pve"), task("qmstart")]))).toMatchObject({ kind: "operator", task: "qmreboot" })
    expect(explain(subject("restarted", {}, { hastate: "started" }), evidence([task("qmstart")]))).toMatchObject({
      kind: "ha", summary: expect.stringContaining("went down")
    })
    expect(explain(subject("restarted", {}, { kind: "lxc" }), evidence([])).summary).toContain("rebooted from inside")
  })

  it("a move: a migration by its user, HA's own, or a recovery after its node failed", () => {
    expect(explain(subject("moved"), evidence([task("qmigrate", "alice@pve")]))).toMatchObject({ kind: "migration", user: "alice@pve" })
    expect(explain(subject("moved", {}, { hastate: "started" }), evidence([task("hamigrate", "alice@pve"), task("qmigrate")]))).toMatchObject({
      kind: "migration", user: "alice@pve", task: "hamigrate"
    })
    const recovered = explain(subject("moved", { fromNodeDown: true, nodes: ["pve2", "pve1"] }, { hastate: "started" }), evidence([task("qmstart", "root@pam", { node: "pve2" })], "pve2"))
    expect(recovered).toMatchObject({ kind: "ha", summary: expect.stringContaining("recovered by Proxmox HA") })
  })

  it("vigil's own start is vigil's", () => {
    expect(explain(subject("started"), evidence([task("qmstart", "monitor@pve", { tokenid: "vigil" })]))).toMatchObject({ kind: "vigil" })
  })
})
