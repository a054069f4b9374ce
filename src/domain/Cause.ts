/**
 * Why a guest's state changed, decided when the change is detected and carried by the event
 * that reports it (`data.cause`, and the kind as the `cause` CloudEvents attribute). Only an
 * unexplained stop is a crash: a monitor that reports an operator's shutdown as a crash gets muted.
 */
import * as Schema from "effect/Schema"

export const CauseKind = Schema.Literal(
  /** A person or a program acting as one: a stop, shutdown, reboot, suspend, destroy, restore. */
  "operator",
  /** A migration to another node (by a person, or by HA when the task is HA's). */
  "migration",
  /** A backup (vzdump) in stop or suspend mode. */
  "backup",
  /** Proxmox HA: a recovery after fencing, a relocation, a restart after the guest went down. */
  "ha",
  /** vigil's own remediation. */
  "vigil",
  /** The guest's node went down. */
  "node-outage",
  /** A shutdown or reboot from inside the guest, where the node records one. */
  "guest",
  /** Nothing explains it. */
  "unknown"
)
export type CauseKind = typeof CauseKind.Type

export const Cause = Schema.Struct({
  kind: CauseKind,
  /** Who, when a task says: `root@pam`, `alice@pve`, `monitor@pve!vigil`. */
  user: Schema.optional(Schema.String),
  /** The task type: `qmshutdown`, `vzdump`, `qmigrate`, ... */
  task: Schema.optional(Schema.String),
  upid: Schema.optional(Schema.String),
  /** In words: "stopped by root@pam (qmshutdown)", "no task explains it: the task log could not be read (...)". */
  summary: Schema.String
}).annotations({ identifier: "Cause" })
export type Cause = typeof Cause.Type
