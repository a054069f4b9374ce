/**
 * SQL for remediation's records: the `autonomy_actions` audit table (seed 001's repository
 * functions: save, recent, by incident key, attempt count since, cleanup), proposals, dead
 * letters and notified incidents. Dialect-neutral SQL, like the event store.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type { ActionResult, AuditAction, Proposal } from "../domain/Remediation.js"
import { randomUUID } from "node:crypto"
import type { PastAction } from "./Decide.js"


export interface NewAuditAction {
  readonly incidentKey: string
  readonly incidentId: string
  readonly runbookId: string
  readonly condition: string
  readonly action: string
  readonly actionArgs?: string | undefined
  readonly result: ActionResult
  readonly resultDetails?: string | undefined
  readonly autonomyLevel: number
  readonly node?: string | null | undefined
  readonly attemptNumber?: number | undefined
  readonly escalated?: boolean | undefined
}

interface Row {
  readonly id: number | string
  readonly timestamp: number | string
  readonly incident_key: string
  readonly incident_id: string
  readonly runbook_id: string
  readonly condition: string
  readonly action: string
  readonly action_args: string | null
  readonly result: string
  readonly result_details: string | null
  readonly verification_result: string | null
  readonly autonomy_level: number | string
  readonly node: string | null
  readonly attempt_number: number | string
  readonly escalated: number | boolean
  readonly email_sent: number | boolean
}

const fromRow = (r: Row): AuditAction => ({
  id: Number(r.id),
  timestamp: new Date(Number(r.timestamp)).toISOString(),
  incidentKey: r.incident_key,
  incidentId: r.incident_id,
  runbookId: r.runbook_id,
  condition: r.condition,
  action: r.action,
  actionArgs: r.action_args,
  result: r.result,
  resultDetails: r.result_details,
  verificationResult: r.verification_result,
  autonomyLevel: Number(r.autonomy_level),
  node: r.node,
  attemptNumber: Number(r.attempt_number),
  escalated: Boolean(r.escalated),
  emailSent: Boolean(r.email_sent)
})


const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString())

export class AuditRepo extends Effect.Service<AuditRepo>()("vigil/AuditRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bool = (b: boolean) => sql.onDialectOrElse({ pg: () => b, orElse: () => (b ? 1 : 0) })

    const save = Effect.fn("AuditRepo.save")(function*(a: NewAuditAction) {
      const rows = yield* sql<Row>`INSERT INTO autonomy_actions ${sql.insert({
        timestamp: Date.now(),
        incident_key: a.incidentKey,
        incident_id: a.incidentId,
        runbook_id: a.runbookId,
        condition: a.condition,
        action: a.action,
        action_args: a.actionArgs ?? null,
        result: a.result,
        result_details: a.resultDetails ?? null,
        verification_result: null,
        autonomy_level: a.autonomyLevel,
        node: a.node ?? null,
        attempt_number: a.attemptNumber ?? 1,
        escalated: bool(a.escalated ?? false),
        email_sent: bool(false)
      })} RETURNING *`
      return fromRow(rows[0]!)
    })

    const recent = Effect.fn("AuditRepo.recent")(function*(filter: {
      readonly incidentKey?: string | undefined
      readonly result?: string | undefined
      readonly limit?: number | undefined
    }) {
      const clauses = []
      if (filter.incidentKey !== undefined) clauses.push(sql`incident_key = ${filter.incidentKey}`)
      if (filter.result !== undefined) clauses.push(sql`result = ${filter.result}`)
      const rows = yield* sql<Row>`SELECT * FROM autonomy_actions WHERE ${sql.and(clauses)} ORDER BY id DESC LIMIT ${filter.limit ?? 50}`
      return rows.map(fromRow)
    })

    /** Everything recorded on a key within the window, oldest first, as Decide reads it. */
    const history = Effect.fn("AuditRepo.history")(function*(incidentKey: string, since: number) {
      const rows = yield* sql<Row>`SELECT * FROM autonomy_actions
        WHERE incident_key = ${incidentKey} AND timestamp >= ${since} ORDER BY id ASC`
      return rows.map((r): PastAction => ({
        incidentId: r.incident_id,
        action: r.action,
        result: r.result,
        at: Number(r.timestamp),
        permanent: (r.result_details ?? "").startsWith("permanent:")
      }))
    })

    const attemptCountSince = Effect.fn("AuditRepo.attemptCountSince")(function*(incidentKey: string, since: number) {
      const rows = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM autonomy_actions
        WHERE incident_key = ${incidentKey} AND action = 'start_guest' AND result IN ('success', 'failure') AND timestamp >= ${since}`
      return Number(rows[0]?.n ?? 0)
    })

    const setVerification = (id: number, verification: string) =>
      sql`UPDATE autonomy_actions SET verification_result = ${verification} WHERE id = ${id}`.pipe(Effect.asVoid)

    const markEmailSent = (id: number) =>
      sql`UPDATE autonomy_actions SET email_sent = ${bool(true)} WHERE id = ${id}`.pipe(Effect.asVoid)

    const cleanup = Effect.fn("AuditRepo.cleanup")(function*(olderThanMs: number) {
      const cut = Date.now() - olderThanMs
      const rows = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM autonomy_actions WHERE timestamp < ${cut}`
      yield* sql`DELETE FROM autonomy_actions WHERE timestamp < ${cut}`
      return Number(rows[0]?.n ?? 0)
    })

    // Proposals ---------------------------------------------------------------------------------

    const proposalFromRow = (r: any): Proposal => ({
      id: r.id,
      incidentId: r.incident_id,
      incidentKey: r.incident_key,
      runbookId: r.runbook_id,
      action: r.action,
      actionArgs: r.action_args,
      status: r.status,
      createdAt: iso(r.created_at)!,
      expiresAt: iso(r.expires_at)!,
      decidedAt: iso(r.decided_at),
      decidedBy: r.decided_by
    })

    const propose = Effect.fn("AuditRepo.propose")(function*(p: {
      readonly incidentId: string
      readonly incidentKey: string
      readonly runbookId: string
      readonly action: string
      readonly actionArgs: string
      readonly ttlMs: number
    }) {
      const now = Date.now()
      const id = randomUUID()
      yield* sql`INSERT INTO remediation_proposals ${sql.insert({
        id,
        incident_id: p.incidentId,
        incident_key: p.incidentKey,
        runbook_id: p.runbookId,
        action: p.action,
        action_args: p.actionArgs,
        status: "pending",
        created_at: now,
        expires_at: now + p.ttlMs,
        decided_at: null,
        decided_by: null
      })}`
      return id
    })

    /** The latest proposal for an incident, with expiry applied. */
    const proposalFor = Effect.fn("AuditRepo.proposalFor")(function*(incidentId: string) {
      yield* sql`UPDATE remediation_proposals SET status = 'expired', decided_at = ${Date.now()}
        WHERE status = 'pending' AND expires_at < ${Date.now()}`
      const rows = yield* sql`SELECT * FROM remediation_proposals WHERE incident_id = ${incidentId} ORDER BY created_at DESC LIMIT 1`
      return rows[0] === undefined ? undefined : proposalFromRow(rows[0])
    })

    const proposals = Effect.fn("AuditRepo.proposals")(function*(status: string | undefined) {
      yield* sql`UPDATE remediation_proposals SET status = 'expired', decided_at = ${Date.now()}
        WHERE status = 'pending' AND expires_at < ${Date.now()}`
      const rows = status === undefined
        ? yield* sql`SELECT * FROM remediation_proposals ORDER BY created_at DESC LIMIT 200`
        : yield* sql`SELECT * FROM remediation_proposals WHERE status = ${status} ORDER BY created_at DESC LIMIT 200`
      return rows.map(proposalFromRow)
    })

    /** Moves a pending proposal to approved or rejected; undefined when it is not pending (any more). */
    const decideProposal = Effect.fn("AuditRepo.decideProposal")(function*(id: string, status: "approved" | "rejected" | "executed", by: string) {
      const from = status === "executed" ? "approved" : "pending"
      const rows = yield* sql`UPDATE remediation_proposals SET status = ${status}, decided_at = ${Date.now()}, decided_by = ${by}
        WHERE id = ${id} AND status = ${from} AND (status <> 'pending' OR expires_at >= ${Date.now()}) RETURNING *`
      return rows[0] === undefined ? undefined : proposalFromRow(rows[0])
    })

    const proposalById = Effect.fn("AuditRepo.proposalById")(function*(id: string) {
      const rows = yield* sql`SELECT * FROM remediation_proposals WHERE id = ${id}`
      return rows[0] === undefined ? undefined : proposalFromRow(rows[0])
    })

    // Notifications -----------------------------------------------------------------------------

    const deadLetter = (d: { channel: string; incidentKey: string | undefined; subject: string; payload: string; attempts: number; error: string }) =>
      sql`INSERT INTO notification_dead_letters ${sql.insert({
        failed_at: Date.now(),
        channel: d.channel,
        incident_key: d.incidentKey ?? null,
        subject: d.subject,
        payload: d.payload,
        attempts: d.attempts,
        error: d.error
      })}`.pipe(Effect.asVoid)

    const deadLetters = sql<{ channel: string; subject: string; error: string; attempts: number }>`
      SELECT channel, subject, error, attempts FROM notification_dead_letters ORDER BY id DESC LIMIT 100`

    const markNotified = (incidentId: string, incidentKey: string) =>
      sql`INSERT INTO notified_incidents (incident_id, incident_key, notified_at, recovery_sent_at)
        VALUES (${incidentId}, ${incidentKey}, ${Date.now()}, NULL) ON CONFLICT (incident_id) DO NOTHING`.pipe(Effect.asVoid)

    const awaitingRecovery = sql<{ incident_id: string; incident_key: string }>`
      SELECT incident_id, incident_key FROM notified_incidents WHERE recovery_sent_at IS NULL`

    const markRecoverySent = (incidentId: string) =>
      sql`UPDATE notified_incidents SET recovery_sent_at = ${Date.now()} WHERE incident_id = ${incidentId}`.pipe(Effect.asVoid)

    return {
      save,
      recent,
      history,
      attemptCountSince,
      setVerification,
      markEmailSent,
      cleanup,
      propose,
      proposalFor,
      proposals,
      decideProposal,
      proposalById,
      deadLetter,
      deadLetters,
      markNotified,
      awaitingRecovery,
      markRecoverySent
    } as const
  })
}) {}
