/**
 * Why a guest stopped, restarted, moved or started (pure), decided from the task logs of the nodes
 * involved and Proxmox HA's state, before anything is reported. What Proxmox VE records (read in
 * pve-manager, qemu-server, pve-container and pve-ha-manager):
 * - an operator's action through the API or `qm`/`pct` is a task of its type by that user
 *   (`qmshutdown` by `alice@pve`; `root@pam` from a shell); on an HA-managed guest it is first an
 *   `hastop`/`hastart`/`hamigrate` by the user, then the real task by `root@pam`;
 * - HA acting on its own (recovery after fencing, a restart after the guest went down, a
 *   relocation) runs the ordinary `qm*`/`vz*` tasks as `root@pam` with no `ha*` task before them;
 * - a backup is a `vzdump` task (its id is the vmid when it backs up one guest, empty for a job
 *   over several) and the guest holds the `backup` lock meanwhile;
 * - a crash, and a shutdown or reboot from inside the guest, leave no task at all: only an
 *   unexplained change is left for `unknown`.
 */
import * as Either from "effect/Either"
import type { Cause } from "../domain/Cause.js"
import type { Guest } from "../domain/Snapshot.js"
import { type Task, taskUser } from "../domain/Task.js"

export type ChangeKind = "stopped" | "restarted" | "moved" | "started"

export interface Evidence {
  /** Each node's tasks around the change, or why they could not be read. Absent: not asked. */
  readonly tasks: ReadonlyMap<string, Either.Either<ReadonlyArray<Task>, string>>
  /** The user vigil acts as on Proxmox (`monitor@pve!vigil`), so its own tasks are told apart. */
  readonly actingUser: string | undefined
}

export const noEvidence: Evidence = { tasks: new Map(), actingUser: undefined }

/** What is known of the guest and its surroundings when the change is seen. */
export interface Subject {
  readonly guest: Guest
  readonly change: ChangeKind
  /** Nodes whose tasks can explain it: the guest's node, and the one it came from. */
  readonly nodes: ReadonlyArray<string>
  /** Epoch ms bounds within which an explaining task must have run. */
  readonly window: { readonly from: number; readonly to: number }
  /** The lock the guest held just before or now (`backup`, `migrate`, ...). */
  readonly lock: string | undefined
  /** HA's request for the guest (`started`, `stopped`, `disabled`), when HA reported one. */
  readonly haRequest: string | undefined
  /** The HA manager's state of the guest now or just before (`fence`, `recovery`, `migrate`, ...). */
  readonly haStates: ReadonlyArray<string>
  /** The node it came from was down or fenced (a move after a node failure). */
  readonly fromNodeDown: boolean
}

const stops = new Set([
  "qmstop", "qmshutdown", "qmreboot", "qmsuspend", "qmpause", "qmdestroy", "qmrestore", "qmrollback",
  "vzstop", "vzshutdown", "vzreboot", "vzsuspend", "vzdestroy", "vzrestore", "vzrollback"
])
const starts = new Set(["qmstart", "vzstart", "qmresume", "vzresume"])
const migrations = new Set(["qmigrate", "vzmigrate"])
const reboots = new Set(["qmreboot", "vzreboot"])
const haRequests = new Set(["hastart", "hastop", "hamigrate"])

/** HA manages the guest (and so may act on it by itself). */
const haManaged = (g: Guest) => g.hastate !== undefined && g.hastate !== "ignored" && g.hastate !== "disabled"

const verb: Record<ChangeKind, string> = { stopped: "stopped", restarted: "restarted", moved: "moved", started: "started" }

const byTask = (kind: Cause["kind"], t: Task, summary: string): Cause => ({
  kind,
  user: taskUser(t),
  task: t.type,
  upid: t.upid,
  summary
})

/** The tasks of the guest's nodes that ran within the window and concern it, oldest first. */
const relevant = (s: Subject, tasks: ReadonlyArray<Task>): Array<Task> => {
  const vmid = String(s.guest.vmid)
  const from = s.window.from / 1000
  const to = s.window.to / 1000
  return tasks
    .filter((t) =>
      (t.id === vmid || (t.id === "" && (t.type === "vzdump" || t.type === "startall"))) &&
      t.starttime <= to && (t.endtime === undefined || t.endtime >= from)
    )
    .sort((a, b) => a.starttime - b.starttime)
}

/** Decides the cause of one change. Never throws; `unknown` says why when the log could not be read. */
export const explain = (s: Subject, evidence: Evidence): Cause => {
  const g = s.guest
  const unreadable: Array<string> = []
  const tasks: Array<Task> = []
  for (const node of s.nodes) {
    const log = evidence.tasks.get(node)
    if (log === undefined) continue
    if (Either.isLeft(log)) unreadable.push(`${node}: ${log.left}`)
    else tasks.push(...relevant(s, log.right))
  }
  const isVigil = (t: Task) => evidence.actingUser !== undefined && taskUser(t) === evidence.actingUser
  // On an HA-managed guest, a root@pam task with no ha* request by a person before it is HA's own.
  const userRequest = tasks.find((t) => haRequests.has(t.type))
  const hasOwn = (t: Task) => haManaged(g) && t.user === "root@pam" && t.tokenid === undefined && userRequest === undefined
  const actor = (t: Task, action: string): Cause =>
    isVigil(t)
      ? byTask("vigil", t, `${action} by vigil (${t.type})`)
      : hasOwn(t)
      ? byTask("ha", t, `${action} by Proxmox HA (${t.type})`)
      : byTask("operator", t, `${action} by ${taskUser(t)} (${t.type})`)

  const backup = tasks.find((t) => t.type === "vzdump" && (t.id === String(g.vmid) || s.lock === "backup"))
  if (backup !== undefined && (s.change === "stopped" || s.change === "started" || s.change === "restarted")) {
    return byTask("backup", backup, `${verb[s.change]} for a backup (vzdump by ${taskUser(backup)})`)
  }
  if (s.lock === "backup" && s.change === "stopped") return { kind: "backup", summary: `stopped while locked for a backup` }

  switch (s.change) {
    case "moved": {
      const migration = tasks.find((t) => migrations.has(t.type) || t.type === "hamigrate")
      if (migration !== undefined) {
        const request = userRequest?.type === "hamigrate" ? userRequest : migration
        if (hasOwn(migration)) return byTask("ha", migration, `moved by Proxmox HA (${migration.type})`)
        return byTask("migration", request, `migrated by ${taskUser(request)} (${request.type})`)
      }
      if (s.fromNodeDown || s.haStates.includes("recovery") || s.haStates.includes("fence")) {
        const start = tasks.find((t) => starts.has(t.type))
        return start === undefined
          ? { kind: "ha", summary: "recovered by Proxmox HA after its node failed" }
          : byTask("ha", start, `recovered by Proxmox HA after its node failed, started on ${start.node}`)
      }
      if (s.haStates.includes("migrate") || s.haStates.includes("relocate")) return { kind: "ha", summary: "moved by Proxmox HA" }
      break
    }
    case "stopped": {
      const migration = tasks.find((t) => migrations.has(t.type) || t.type === "hamigrate")
      if (migration !== undefined) return byTask("migration", migration, `stopped for a migration (${migration.type} by ${taskUser(migration)})`)
      const stop = [...tasks].reverse().find((t) => stops.has(t.type) || t.type === "hastop")
      if (stop !== undefined) {
        if (userRequest?.type === "hastop") return byTask("operator", userRequest, `stopped by ${taskUser(userRequest)} through HA (hastop)`)
        if (hasOwn(stop) && (s.haRequest === "stopped" || s.haRequest === "disabled")) {
          return byTask("operator", stop, `stopped by Proxmox HA as requested (state ${s.haRequest})`)
        }
        return actor(stop, "stopped")
      }
      if (s.haStates.includes("fence")) return { kind: "ha", summary: "stopped while Proxmox HA fenced its node" }
      break
    }
    case "restarted": {
      const reboot = tasks.find((t) => reboots.has(t.type))
      if (reboot !== undefined) return actor(reboot, "rebooted")
      const stop = tasks.find((t) => stops.has(t.type) || t.type === "hastop")
      if (stop !== undefined && !hasOwn(stop)) return actor(stop, "stopped and started again")
      const start = [...tasks].reverse().find((t) => starts.has(t.type) || t.type === "hastart")
      if (start !== undefined) {
        // HA starts a guest again only after it went down without being asked to.
        if (hasOwn(start)) return byTask("ha", start, `went down and was started again by Proxmox HA (${start.type})`)
        return actor(start, "started again")
      }
      break
    }
    case "started": {
      const start = [...tasks].reverse().find((t) => starts.has(t.type) || t.type === "hastart" || t.type === "startall")
      if (start !== undefined) {
        if (start.type === "startall") return byTask("node-outage", start, `started when ${start.node} booted (startall)`)
        return userRequest?.type === "hastart" ? byTask("operator", userRequest, `started by ${taskUser(userRequest)} through HA (hastart)`) : actor(start, "started")
      }
      break
    }
  }
  const summary = unreadable.length > 0
    ? `nothing explains it: the task log could not be read (${unreadable.join("; ")})`
    : s.change === "restarted" && g.kind === "lxc"
    ? "no task explains it: it crashed and was started again, or was rebooted from inside"
    : s.change === "restarted"
    ? "no task explains it: it crashed and was started again"
    : s.change === "stopped"
    ? "no task explains it: a crash, or a shutdown from inside the guest, which Proxmox does not record"
    : "no task explains it"
  return { kind: "unknown", summary }
}
