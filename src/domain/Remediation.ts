/**
 * What remediation records and offers, as the API shows it: the autonomy ladder, the audit trail
 * of every decision (`autonomy_actions`) and the proposals waiting for a person.
 */
import * as Schema from "effect/Schema"

/** L0 observe, L1 alert, L2 recommend (a person approves), L3 act and report, L4 act silently. */
export const AutonomyLevel = Schema.Literal(0, 1, 2, 3, 4)
export type AutonomyLevel = typeof AutonomyLevel.Type

export const levelNames: Record<AutonomyLevel, string> = {
  0: "observe",
  1: "alert",
  2: "recommend",
  3: "act",
  4: "act silently"
}

export const ActionResult = Schema.Literal(
  "success", "failure", "blocked", "escalated", "proposed", "alerted", "observed", "suppressed", "inhibited",
  "approved", "rejected", "expired"
)
export type ActionResult = typeof ActionResult.Type

export const AuditAction = Schema.Struct({
  id: Schema.Int,
  timestamp: Schema.String,
  incidentKey: Schema.String,
  incidentId: Schema.String,
  runbookId: Schema.String,
  condition: Schema.String,
  action: Schema.String,
  actionArgs: Schema.NullOr(Schema.String),
  result: Schema.String,
  resultDetails: Schema.NullOr(Schema.String),
  verificationResult: Schema.NullOr(Schema.String),
  autonomyLevel: Schema.Int,
  node: Schema.NullOr(Schema.String),
  attemptNumber: Schema.Int,
  escalated: Schema.Boolean
}).annotations({ identifier: "AutonomyAction" })
export type AuditAction = typeof AuditAction.Type

export const Proposal = Schema.Struct({
  id: Schema.String,
  incidentId: Schema.String,
  incidentKey: Schema.String,
  runbookId: Schema.String,
  action: Schema.String,
  actionArgs: Schema.String,
  status: Schema.Literal("pending", "approved", "rejected", "expired", "executed"),
  createdAt: Schema.String,
  expiresAt: Schema.String,
  decidedAt: Schema.NullOr(Schema.String),
  decidedBy: Schema.NullOr(Schema.String)
}).annotations({ identifier: "Proposal" })
export type Proposal = typeof Proposal.Type
