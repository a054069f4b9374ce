/**
 * The remediation decision (pure): given an open incident, what the cluster looks like, what was
 * already done about it, the policy and the time, decide to observe, alert, recommend, act,
 * block (naming the guardrail) or escalate. Getting this wrong restarts a machine an operator
 * stopped on purpose, so every rule is here, in one function, and property-tested.
 */
import type { Severity } from "../domain/Severity.js"
import { type Silence, silencing } from "../domain/Silence.js"
import type { Guest, Snapshot } from "../domain/Snapshot.js"
import { type Task, taskUser } from "../domain/Task.js"
import type { AutonomyLevel, Policy, Runbook } from "./Policy.js"

export interface IncidentFacts {
  readonly id: string
  readonly key: string
  readonly condition: string
  readonly target: string
  readonly node: string | null
  readonly severity: Severity
  /** Epoch ms. */
  readonly openedAt: number
}

/** A past decision on the same incident key, from the audit table. */
export interface PastAction {
  readonly incidentId: string
  readonly action: string
  readonly result: string
  /** Epoch ms. */
  readonly at: number
  /** A failure retrying cannot fix (the guest does not exist, its config is broken). */
  readonly permanent: boolean
}

/** What the guardrail reads of a node's task log (`/nodes/{node}/tasks?source=all`). */
export type TaskEntry = Pick<Task, "type" | "id" | "user" | "tokenid" | "starttime">

export interface Context {
  readonly snapshot: Snapshot | undefined
  /** Every recorded action for this incident key (any incident id), newest last. */
  readonly history: ReadonlyArray<PastAction>
  /** Actions executing right now, cluster-wide. */
  readonly inFlight: ReadonlyArray<{ readonly node: string }>
  /** The guest's node task log; undefined when it could not be read. */
  readonly tasks: ReadonlyArray<TaskEntry> | undefined
  /** Other open incidents (for inhibition under a node outage). */
  readonly openIncidents: ReadonlyArray<{ readonly key: string; readonly condition: string; readonly target: string }>
  readonly proposal: "none" | "pending" | "approved" | "rejected" | "expired"
  /** The user vigil acts as on Proxmox (`USER@REALM!TOKENID`), so its own tasks are recognised. */
  readonly actingUser: string | undefined
  /** Silences and maintenance windows: a silenced incident is neither acted on nor notified. */
  readonly silences: ReadonlyArray<Silence>
}

export type Guardrail =
  | "explained-by-task"
  | "task-log-unavailable"
  | "protected"
  | "ha-managed"
  | "locked"
  | "node-offline"
  | "no-quorum"
  | "cooldown"
  | "concurrency"

export type Decision =
  | { readonly _tag: "Observe"; readonly reason: string }
  | { readonly _tag: "Suppress"; readonly silence: Silence }
  | { readonly _tag: "Inhibit"; readonly by: string }
  | { readonly _tag: "Alert"; readonly runbook: Runbook; readonly level: AutonomyLevel }
  | { readonly _tag: "Recommend"; readonly runbook: Runbook; readonly guest: Guest }
  | {
    readonly _tag: "Act"
    readonly runbook: Runbook
    readonly guest: Guest
    readonly attempt: number
    readonly silent: boolean
    readonly level: AutonomyLevel
  }
  | { readonly _tag: "Block"; readonly runbook: Runbook; readonly guardrail: Guardrail; readonly reason: string }
  | { readonly _tag: "Escalate"; readonly runbook: Runbook; readonly reason: string }

/** Task types that stop a guest on purpose, or move it: a stop they explain is not a crash. */
const explainingTasks = new Set([
  "qmstop", "qmshutdown", "qmsuspend", "qmigrate", "qmpause", "qmreboot", "qmdestroy", "qmrestore",
  "vzstop", "vzshutdown", "vzsuspend", "vzmigrate", "vzreboot", "vzdestroy", "vzrestore",
  "vzdump", "hamigrate", "hastop", "hashutdown", "qmclone", "vzclone"
])

const START = "start_guest"

export const effectiveLevel = (runbook: Runbook, policy: Policy): AutonomyLevel =>
  Math.min(runbook.level, policy.cap) as AutonomyLevel


/** A start that was actually made (it succeeded or failed), as opposed to proposed, alerted or blocked. */
const isAttempt = (a: PastAction) => a.action === START && (a.result === "success" || a.result === "failure")

/** Attempts (starts made, whatever their outcome) on this key within the window ending now. */
export const attemptsInWindow = (history: ReadonlyArray<PastAction>, policy: Policy, now: number) =>
  history.filter((a) => isAttempt(a) && a.at > now - policy.windowMs).length

const escalatedAlready = (incident: IncidentFacts, history: ReadonlyArray<PastAction>) =>
  history.some((a) => a.incidentId === incident.id && a.result === "escalated")

const findGuest = (incident: IncidentFacts, snapshot: Snapshot | undefined): Guest | undefined => {
  const [kind, vmid] = incident.target.split("/")
  return snapshot?.guests.find((g) => g.kind === kind && String(g.vmid) === vmid)
}

/** The task that explains the guest's stop, if the log has one near the incident. */
export const explainingTask = (
  guest: Guest,
  tasks: ReadonlyArray<TaskEntry>,
  incident: IncidentFacts,
  policy: Policy,
  actingUser: string | undefined
): TaskEntry | undefined =>
  tasks.find((t) =>
    t.id === String(guest.vmid) &&
    t.starttime * 1000 >= incident.openedAt - policy.causeLookbackMs &&
    (explainingTasks.has(t.type) || (actingUser !== undefined && taskUser(t) === actingUser && !t.type.endsWith("start")))
  )

export const decide = (incident: IncidentFacts, ctx: Context, policy: Policy, now: number): Decision => {
  const tags = findGuest(incident, ctx.snapshot)?.tags ?? []
  const silence = silencing(ctx.silences, { ...incident, tags }, now)
  if (silence !== undefined) return { _tag: "Suppress", silence }

  // Inhibition: while a node is unreachable, its guests' incidents are grouped under the node's.
  if (incident.condition !== "NODE_UNREACHABLE" && incident.node !== null) {
    const nodeDown = ctx.openIncidents.find((i) => i.condition === "NODE_UNREACHABLE" && i.target === `node/${incident.node}`)
    if (nodeDown !== undefined) return { _tag: "Inhibit", by: nodeDown.key }
  }

  const runbook = policy.runbooks.find((r) => r.condition === incident.condition)
  if (runbook === undefined || runbook.action === "observe") return { _tag: "Observe", reason: "no runbook acts on this condition" }
  const level = effectiveLevel(runbook, policy)
  if (level === 0) return { _tag: "Observe", reason: "autonomy level 0: record only" }

  if (runbook.action === "alert") return { _tag: "Alert", runbook, level }
  if (runbook.action === "escalate") {
    return escalatedAlready(incident, ctx.history)
      ? { _tag: "Observe", reason: "already escalated" }
      : { _tag: "Escalate", runbook, reason: `runbook ${runbook.id} escalates ${incident.condition}` }
  }

  // start_guest
  const guest = findGuest(incident, ctx.snapshot)
  if (guest === undefined) return { _tag: "Observe", reason: "the guest is not in the latest snapshot" }
  if (guest.status === "running") return { _tag: "Observe", reason: "the guest is running" }

  // A person's approval lifts L2 to acting once; it never lifts a level capped below L2.
  const approved = ctx.proposal === "approved" && level >= 2
  if (level === 1) return { _tag: "Alert", runbook, level }
  if (level === 2 && !approved) {
    if (ctx.proposal === "none") return { _tag: "Recommend", runbook, guest }
    return { _tag: "Observe", reason: `proposal ${ctx.proposal}` }
  }

  const block = (guardrail: Guardrail, reason: string): Decision => ({ _tag: "Block", runbook, guardrail, reason })
  if (ctx.tasks === undefined) return block("task-log-unavailable", "the node's task log could not be read, so the stop cannot be told from a crash")
  const cause = explainingTask(guest, ctx.tasks, incident, policy, ctx.actingUser)
  if (cause !== undefined) return block("explained-by-task", `stopped by task ${cause.type} (${cause.user})`)
  if (policy.protectedVmids.includes(guest.vmid)) return block("protected", `vmid ${guest.vmid} is protected`)
  const tag = guest.tags.find((t) => policy.protectedTags.includes(t))
  if (tag !== undefined) return block("protected", `tagged ${tag}`)
  if (guest.hastate !== undefined && guest.hastate !== "ignored") return block("ha-managed", `Proxmox HA manages it (${guest.hastate})`)
  if (guest.lock !== undefined) return block("locked", `locked for ${guest.lock}`)
  const node = ctx.snapshot?.nodes.find((n) => n.name === guest.node)
  if (node?.status !== "online") return block("node-offline", `node ${guest.node} is not online`)
  if (ctx.snapshot?.quorate === false) return block("no-quorum", "the cluster has no quorum")

  const attempts = attemptsInWindow(ctx.history, policy, now)
  const permanent = ctx.history.some((a) => a.incidentId === incident.id && a.permanent)
  if (attempts >= policy.maxAttempts || permanent) {
    return escalatedAlready(incident, ctx.history)
      ? { _tag: "Observe", reason: "escalated; waiting for a person" }
      : {
        _tag: "Escalate",
        runbook,
        reason: permanent ? "the start failed in a way retrying cannot fix" : `${attempts} attempts within the window, none lasting`
      }
  }
  const last = ctx.history.filter(isAttempt).at(-1)
  if (last !== undefined && now - last.at < policy.cooldownMs) return block("cooldown", "the last attempt was too recent")
  if (ctx.inFlight.length >= policy.maxConcurrent) return block("concurrency", `${ctx.inFlight.length} actions already in flight`)
  if (ctx.inFlight.filter((a) => a.node === guest.node).length >= policy.maxConcurrentPerNode) {
    return block("concurrency", `an action is already in flight on ${guest.node}`)
  }
  return { _tag: "Act", runbook, guest, attempt: attempts + 1, silent: level === 4 && !approved, level: approved ? 3 : level }
}
