/**
 * What remediation may do: the autonomy ladder, the runbooks that map conditions to
 * actions, and the guardrails. Data and its defaults only; `Decide` applies it.
 */
import * as Schema from "effect/Schema"
import { AutonomyLevel } from "../domain/Remediation.js"

export { AutonomyLevel, levelNames } from "../domain/Remediation.js"

export const RunbookAction = Schema.Literal("start_guest", "escalate", "alert", "observe")
export type RunbookAction = typeof RunbookAction.Type

export const Runbook = Schema.Struct({
  id: Schema.String,
  condition: Schema.String,
  action: RunbookAction,
  level: AutonomyLevel
})
export type Runbook = typeof Runbook.Type

/**
 * The default runbooks: restart a crashed guest (acting, L3), escalate an unreachable node to a
 * person, alert on what needs one (critical usage, lost quorum, unavailable storage, HA trouble,
 * a stuck lock, a lost agent).
 */
export const defaultRunbooks: ReadonlyArray<Runbook> = [
  { id: "restart-crashed-vm", condition: "VM_CRASHED", action: "start_guest", level: 3 },
  { id: "restart-crashed-ct", condition: "CT_CRASHED", action: "start_guest", level: 3 },
  { id: "escalate-unreachable-node", condition: "NODE_UNREACHABLE", action: "escalate", level: 1 },
  { id: "alert-disk-critical", condition: "DISK_CRITICAL", action: "alert", level: 1 },
  { id: "alert-ram-critical", condition: "RAM_CRITICAL", action: "alert", level: 1 },
  { id: "alert-storage-critical", condition: "STORAGE_CRITICAL", action: "alert", level: 1 },
  { id: "alert-agent-lost", condition: "AGENT_LOST", action: "alert", level: 1 },
  { id: "alert-quorum-lost", condition: "QUORUM_LOST", action: "alert", level: 1 },
  { id: "alert-storage-unavailable", condition: "STORAGE_UNAVAILABLE", action: "alert", level: 1 },
  { id: "alert-node-fenced", condition: "NODE_FENCED", action: "alert", level: 1 },
  { id: "alert-ha-error", condition: "HA_ERROR", action: "alert", level: 1 },
  { id: "alert-lock-stuck", condition: "GUEST_LOCK_STUCK", action: "alert", level: 1 }
]

export interface Policy {
  readonly runbooks: ReadonlyArray<Runbook>
  /** The global cap: no runbook acts above it. The kill switch sets it to L1 at once. */
  readonly cap: AutonomyLevel
  /** Attempts per incident key within `windowMs` (counted from the audit table). */
  readonly maxAttempts: number
  readonly windowMs: number
  /** Least time between two attempts on the same incident key. */
  readonly cooldownMs: number
  readonly protectedVmids: ReadonlyArray<number>
  readonly protectedTags: ReadonlyArray<string>
  /** Actions in flight at once, cluster-wide and per node. */
  readonly maxConcurrent: number
  readonly maxConcurrentPerNode: number
  /** How far back the task log is read to explain a stop. */
  readonly causeLookbackMs: number
  /** How long an L2 proposal waits for a person. */
  readonly proposalTtlMs: number
}

export const defaultPolicy: Policy = {
  runbooks: defaultRunbooks,
  cap: 4,
  maxAttempts: 3,
  windowMs: 60 * 60_000,
  cooldownMs: 60_000,
  protectedVmids: [],
  protectedTags: ["protected", "no-autoheal"],
  maxConcurrent: 3,
  maxConcurrentPerNode: 1,
  causeLookbackMs: 15 * 60_000,
  proposalTtlMs: 30 * 60_000
}
