/**
 * SQL for `remediation_proposals`: what remediation at L2 proposes and a person approves or
 * rejects before it expires (`VIGIL_PROPOSAL_TTL`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import { type Proposal, Proposal as ProposalSchema } from "../domain/Remediation.js"
import { Int, iso } from "../store/Columns.js"

/** A row as stored: the API's shape, with times in epoch ms. */
const Row = Schema.Struct({ ...ProposalSchema.fields, createdAt: Int, expiresAt: Int, decidedAt: Schema.NullOr(Int) })

const toProposal = (r: typeof Row.Type): Proposal => ({
  ...r,
  createdAt: iso(r.createdAt),
  expiresAt: iso(r.expiresAt),
  decidedAt: r.decidedAt === null ? null : iso(r.decidedAt)
})

export class Proposals extends Effect.Service<Proposals>()("vigil/Proposals", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const propose = Effect.fn("Proposals.propose")(function*(p: {
      readonly incidentId: string
      readonly incidentKey: string
      readonly runbookId: string
      readonly action: string
      readonly actionArgs: string
      readonly ttlMs: number
    }) {
      const now = yield* Clock.currentTimeMillis
      const id = randomUUID()
      yield* sql`INSERT INTO remediation_proposals ${sql.insert({
        id,
        incidentId: p.incidentId,
        incidentKey: p.incidentKey,
        runbookId: p.runbookId,
        action: p.action,
        actionArgs: p.actionArgs,
        status: "pending",
        createdAt: now,
        expiresAt: now + p.ttlMs,
        decidedAt: null,
        decidedBy: null
      })}`
      return id
    })

    const expire = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      sql`UPDATE remediation_proposals SET status = 'expired', decided_at = ${now} WHERE status = 'pending' AND expires_at < ${now}`)

    const latestRow = SqlSchema.findOne({
      Request: Schema.String,
      Result: Row,
      execute: (incidentId) => sql`SELECT * FROM remediation_proposals WHERE incident_id = ${incidentId} ORDER BY created_at DESC LIMIT 1`
    })

    /** The latest proposal for an incident, with expiry applied. */
    const latestFor = Effect.fn("Proposals.latestFor")(function*(incidentId: string) {
      yield* expire
      return Option.getOrUndefined(Option.map(yield* latestRow(incidentId), toProposal))
    })

    const listRows = SqlSchema.findAll({
      Request: Schema.UndefinedOr(Schema.String),
      Result: Row,
      execute: (status) =>
        status === undefined
          ? sql`SELECT * FROM remediation_proposals ORDER BY created_at DESC LIMIT 200`
          : sql`SELECT * FROM remediation_proposals WHERE status = ${status} ORDER BY created_at DESC LIMIT 200`
    })

    /** The newest 200, with expiry applied; those of one status when given. */
    const list = Effect.fn("Proposals.list")(function*(status: string | undefined) {
      yield* expire
      return (yield* listRows(status)).map(toProposal)
    })

    const decideRow = SqlSchema.findOne({
      Request: Schema.Struct({ id: Schema.String, status: Schema.String, from: Schema.String, by: Schema.String, now: Schema.Number }),
      Result: Row,
      execute: (q) =>
        sql`UPDATE remediation_proposals SET status = ${q.status}, decided_at = ${q.now}, decided_by = ${q.by}
          WHERE id = ${q.id} AND status = ${q.from} AND (status <> 'pending' OR expires_at >= ${q.now}) RETURNING *`
    })

    /** Moves a pending proposal to approved or rejected (an approved one to executed); undefined when it is not (any more). */
    const decide = Effect.fn("Proposals.decide")(function*(id: string, status: "approved" | "rejected" | "executed", by: string) {
      const from = status === "executed" ? "approved" : "pending"
      const row = yield* decideRow({ id, status, from, by, now: yield* Clock.currentTimeMillis })
      return Option.getOrUndefined(Option.map(row, toProposal))
    })

    const byIdRow = SqlSchema.findOne({ Request: Schema.String, Result: Row, execute: (id) => sql`SELECT * FROM remediation_proposals WHERE id = ${id}` })

    const byId = Effect.fn("Proposals.byId")(function*(id: string) {
      return Option.getOrUndefined(Option.map(yield* byIdRow(id), toProposal))
    })

    return { propose, latestFor, list, decide, byId } as const
  })
}) {}
