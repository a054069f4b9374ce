/**
 * Remediation's records: `autonomy_actions` (the audit table the first remediation kept, every column it had, with
 * more results: proposed, alerted, observed, suppressed, inhibited, rejected, expired besides
 * success, failure, blocked, escalated), L2 proposals, the notification dead letters, and which
 * incidents were notified (so each gets one recovery notice).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { columnTypes } from "./ColumnTypes.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const { id, bigint, bool, no } = columnTypes(sql)
  yield* sql`CREATE TABLE autonomy_actions (
    id ${id},
    timestamp ${bigint} NOT NULL,
    incident_key TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    runbook_id TEXT NOT NULL,
    condition TEXT NOT NULL,
    action TEXT NOT NULL,
    action_args TEXT,
    result TEXT NOT NULL,
    result_details TEXT,
    verification_result TEXT,
    autonomy_level ${bigint} NOT NULL,
    node TEXT,
    attempt_number ${bigint} NOT NULL DEFAULT 1,
    escalated ${bool} NOT NULL DEFAULT ${no},
    email_sent ${bool} NOT NULL DEFAULT ${no}
  )`
  yield* sql`CREATE INDEX autonomy_actions_timestamp ON autonomy_actions (timestamp)`
  yield* sql`CREATE INDEX autonomy_actions_incident_key ON autonomy_actions (incident_key, timestamp)`
  yield* sql`CREATE INDEX autonomy_actions_result ON autonomy_actions (result)`

  yield* sql`CREATE TABLE remediation_proposals (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    incident_key TEXT NOT NULL,
    runbook_id TEXT NOT NULL,
    action TEXT NOT NULL,
    action_args TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at ${bigint} NOT NULL,
    expires_at ${bigint} NOT NULL,
    decided_at ${bigint},
    decided_by TEXT
  )`
  yield* sql`CREATE INDEX remediation_proposals_incident ON remediation_proposals (incident_id, status)`

  yield* sql`CREATE TABLE notification_dead_letters (
    id ${id},
    failed_at ${bigint} NOT NULL,
    channel TEXT NOT NULL,
    incident_key TEXT,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts ${bigint} NOT NULL,
    error TEXT NOT NULL
  )`

  yield* sql`CREATE TABLE notified_incidents (
    incident_id TEXT PRIMARY KEY,
    incident_key TEXT NOT NULL,
    notified_at ${bigint} NOT NULL,
    recovery_sent_at ${bigint}
  )`
})
