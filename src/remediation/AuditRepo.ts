/**
 * SQL for `autonomy_actions`, the audit trail: every decision remediation takes on an incident
 * (acted, failed, blocked, escalated, proposed, alerted, observed, ...), its verification, and
 * the history `decide` reads. Dialect-neutral SQL, like the event store.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type ActionResult, AuditAction } from "../domain/Remediation.js"
import { Bool, Int, iso } from "../store/Columns.js"
import type { PastAction } from "./Decide.js"
import { remediationActions } from "../telemetry/Instruments.js"

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

/** A row as stored: the API's shape, with the time in epoch ms, and numbers and booleans as either dialect returns them. */
const Row = Schema.Struct({ ...AuditAction.fields, id: Int, timestamp: Int, autonomyLevel: Int, attemptNumber: Int, escalated: Bool })

const toAction = ({ timestamp, ...r }: typeof Row.Type): AuditAction => ({ ...r, timestamp: iso(timestamp) })

export class AuditRepo extends Effect.Service<AuditRepo>()("vigil/AuditRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bool = (b: boolean) => sql.onDialectOrElse({ pg: () => b, orElse: () => (b ? 1 : 0) })

    const save = Effect.fn("AuditRepo.save")(function*(a: NewAuditAction) {
      const rows = yield* sql`INSERT INTO autonomy_actions ${sql.insert({
        timestamp: yield* Clock.currentTimeMillis,
        incidentKey: a.incidentKey,
        incidentId: a.incidentId,
        runbookId: a.runbookId,
        condition: a.condition,
        action: a.action,
        actionArgs: a.actionArgs ?? null,
        result: a.result,
        resultDetails: a.resultDetails ?? null,
        verificationResult: null,
        autonomyLevel: a.autonomyLevel,
        node: a.node ?? null,
        attemptNumber: a.attemptNumber ?? 1,
        escalated: bool(a.escalated ?? false)
      })} RETURNING *`
      remediationActions.inc({ action: a.action, result: a.result })
      return toAction(yield* Schema.decodeUnknown(Row)(rows[0]))
    })

    const recentRows = SqlSchema.findAll({
      Request: Schema.Struct({ incidentKey: Schema.optional(Schema.String), result: Schema.optional(Schema.String), limit: Schema.Int }),
      Result: Row,
      execute: (q) => {
        const clauses = []
        if (q.incidentKey !== undefined) clauses.push(sql`incident_key = ${q.incidentKey}`)
        if (q.result !== undefined) clauses.push(sql`result = ${q.result}`)
        return sql`SELECT * FROM autonomy_actions WHERE ${sql.and(clauses)} ORDER BY id DESC LIMIT ${q.limit}`
      }
    })

    /** The trail, newest first. */
    const recent = Effect.fn("AuditRepo.recent")(function*(filter: {
      readonly incidentKey?: string | undefined
      readonly result?: string | undefined
      readonly limit?: number | undefined
    }) {
      const rows = yield* recentRows({ incidentKey: filter.incidentKey, result: filter.result, limit: filter.limit ?? 50 })
      return rows.map(toAction)
    })

    const historyRows = SqlSchema.findAll({
      Request: Schema.Struct({ incidentKey: Schema.String, since: Schema.Number }),
      Result: Row,
      execute: (q) => sql`SELECT * FROM autonomy_actions WHERE incident_key = ${q.incidentKey} AND timestamp >= ${q.since} ORDER BY id ASC`
    })

    /** Everything recorded on a key within the window, oldest first, as Decide reads it. */
    const history = Effect.fn("AuditRepo.history")(function*(incidentKey: string, since: number) {
      const rows = yield* historyRows({ incidentKey, since })
      return rows.map((r): PastAction => ({
        incidentId: r.incidentId,
        action: r.action,
        result: r.result,
        at: r.timestamp,
        permanent: (r.resultDetails ?? "").startsWith("permanent:")
      }))
    })

    const setVerification = (id: number, verification: string) =>
      sql`UPDATE autonomy_actions SET verification_result = ${verification} WHERE id = ${id}`.pipe(Effect.asVoid)

    /** Removes what is older than `olderThanMs`; answers how many. */
    const cleanup = Effect.fn("AuditRepo.cleanup")(function*(olderThanMs: number) {
      const cut = (yield* Clock.currentTimeMillis) - olderThanMs
      const rows = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM autonomy_actions WHERE timestamp < ${cut}`
      yield* sql`DELETE FROM autonomy_actions WHERE timestamp < ${cut}`
      return Number(rows[0]?.n ?? 0)
    })

    return { save, recent, history, setVerification, cleanup } as const
  })
}) {}
