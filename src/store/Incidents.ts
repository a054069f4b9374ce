/**
 * Incidents: every firing condition opens one, keyed by condition and target, with first seen,
 * last seen, count and severity; its resolution closes it. They live in SQL so that a restart
 * (or another instance taking over) knows what is already open and does not alert it again.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import type { Incident, IncidentOp } from "../domain/Incident.js"
import { severityOfRank, severityRank } from "../domain/Severity.js"
import { traceparentOf } from "../domain/TraceContext.js"
import { Int, iso } from "./Columns.js"

export type { Incident }

const Row = Schema.Struct({
  id: Schema.String,
  key: Schema.String,
  condition: Schema.String,
  target: Schema.String,
  node: Schema.NullOr(Schema.String),
  severity: Int,
  status: Schema.Literal("open", "resolved"),
  summary: Schema.String,
  openedAt: Int,
  lastSeenAt: Int,
  resolvedAt: Schema.NullOr(Int),
  count: Int,
  ackedAt: Schema.NullOr(Int),
  ackedBy: Schema.NullOr(Schema.String),
  ackComment: Schema.NullOr(Schema.String),
  traceparent: Schema.NullOr(Schema.String)
})
type Row = typeof Row.Type

const toIncident = (r: Row, now: number): Incident => ({
  id: r.id,
  key: r.key,
  condition: r.condition,
  target: r.target,
  node: r.node,
  severity: severityOfRank(r.severity),
  status: r.status,
  summary: r.summary,
  openedAt: iso(r.openedAt),
  lastSeenAt: iso(r.lastSeenAt),
  resolvedAt: r.resolvedAt === null ? null : iso(r.resolvedAt),
  durationSeconds: Math.round(((r.resolvedAt ?? now) - r.openedAt) / 1000),
  count: r.count,
  acknowledged: r.ackedAt === null ? null : { by: r.ackedBy ?? "", at: iso(r.ackedAt), comment: r.ackComment },
  traceparent: r.traceparent
})

export interface IncidentQuery {
  readonly status?: "open" | "resolved" | "all" | undefined
  readonly condition?: string | undefined
  readonly node?: string | undefined
  readonly limit?: number | undefined
}

/** What applying an operation did: an incident opened, changed or closed, or nothing to do. */
export type Applied =
  | { readonly _tag: "Opened" | "Repeated" | "Changed" | "Resolved"; readonly incident: Incident }
  | { readonly _tag: "Nothing" }

export class Incidents extends Effect.Service<Incidents>()("vigil/Incidents", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const openByKey = SqlSchema.findOne({
      Request: Schema.String,
      Result: Row,
      execute: (key) => sql`SELECT * FROM incidents WHERE key = ${key} AND status = 'open'`
    })

    const byIdQuery = { Request: Schema.String, Result: Row, execute: (id: string) => sql`SELECT * FROM incidents WHERE id = ${id}` }
    const byIdRow = SqlSchema.findOne(byIdQuery)
    const writtenRow = SqlSchema.single(byIdQuery)

    /** The row just written, read back inside the same transaction. */
    const written = (id: string, now: number) => Effect.map(writtenRow(id), (row) => toIncident(row, now))

    /** Opens, repeats (same key already open: count + 1), changes or resolves, in one transaction. */
    const apply = Effect.fn("Incidents.apply")(function*(op: IncidentOp) {
      const now = yield* Clock.currentTimeMillis
      return yield* sql.withTransaction(Effect.gen(function*() {
        const found = yield* openByKey(op.key)
        const open = found._tag === "Some" ? found.value : undefined
        switch (op._tag) {
          case "Open": {
            if (open !== undefined) {
              yield* sql`UPDATE incidents SET last_seen_at = ${now}, count = count + 1,
                severity = ${Math.max(severityRank(op.severity), open.severity)}, summary = ${op.summary}
                WHERE id = ${open.id}`
              return { _tag: "Repeated", incident: yield* written(open.id, now) } satisfies Applied
            }
            const id = randomUUID()
            // The span applying it: the detection's trace, which remediation and notices continue.
            const span = yield* Effect.option(Effect.currentSpan)
            yield* sql`INSERT INTO incidents ${sql.insert({
              id,
              key: op.key,
              condition: op.condition,
              target: op.target,
              node: op.node ?? null,
              severity: severityRank(op.severity),
              status: "open",
              summary: op.summary,
              openedAt: now,
              lastSeenAt: now,
              resolvedAt: null,
              count: 1,
              ackedAt: null,
              ackedBy: null,
              ackComment: null,
              traceparent: Option.isSome(span) ? traceparentOf(span.value) : null
            })}`
            return { _tag: "Opened", incident: yield* written(id, now) } satisfies Applied
          }
          case "Change": {
            if (open === undefined) return { _tag: "Nothing" } satisfies Applied
            yield* sql`UPDATE incidents SET condition = ${op.condition}, severity = ${severityRank(op.severity)},
              summary = ${op.summary}, last_seen_at = ${now} WHERE id = ${open.id}`
            return { _tag: "Changed", incident: yield* written(open.id, now) } satisfies Applied
          }
          case "Resolve": {
            if (open === undefined) return { _tag: "Nothing" } satisfies Applied
            yield* sql`UPDATE incidents SET status = 'resolved', resolved_at = ${now}, last_seen_at = ${now}
              WHERE id = ${open.id}`
            return {
              _tag: "Resolved",
              incident: toIncident({ ...open, status: "resolved", resolvedAt: now, lastSeenAt: now }, now)
            } satisfies Applied
          }
        }
      }))
    })

    const listRows = SqlSchema.findAll({
      Request: Schema.Struct({
        status: Schema.Literal("open", "resolved", "all"),
        condition: Schema.optional(Schema.String),
        node: Schema.optional(Schema.String),
        limit: Schema.Int
      }),
      Result: Row,
      execute: (query) => {
        const clauses = []
        if (query.status !== "all") clauses.push(sql`status = ${query.status}`)
        if (query.condition !== undefined) clauses.push(sql`condition = ${query.condition}`)
        if (query.node !== undefined) clauses.push(sql`node = ${query.node}`)
        return sql`SELECT * FROM incidents WHERE ${sql.and(clauses)}
          ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, COALESCE(resolved_at, opened_at) DESC
          LIMIT ${query.limit}`
      }
    })

    /** Open incidents first (newest first), then resolved ones (most recently resolved first). */
    const list = Effect.fn("Incidents.list")(function*(query: IncidentQuery) {
      const rows = yield* listRows({ status: query.status ?? "all", condition: query.condition, node: query.node, limit: query.limit ?? 100 })
      const now = yield* Clock.currentTimeMillis
      return rows.map((r) => toIncident(r, now))
    })

    const openIncidents = list({ status: "open", limit: 10_000 })

    const byId = Effect.fn("Incidents.byId")(function*(id: string) {
      const row = yield* byIdRow(id)
      return row._tag === "None" ? undefined : toIncident(row.value, yield* Clock.currentTimeMillis)
    })

    const byIdsRows = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: Row,
      execute: (ids) => sql`SELECT * FROM incidents WHERE ${sql.in("id", ids)}`
    })

    /** The incidents with these ids (in no particular order); unknown ids are left out. */
    const byIds = Effect.fn("Incidents.byIds")(function*(ids: ReadonlyArray<string>) {
      if (ids.length === 0) return []
      const now = yield* Clock.currentTimeMillis
      const rows: Array<Row> = []
      for (let i = 0; i < ids.length; i += 500) rows.push(...(yield* byIdsRows(ids.slice(i, i + 500))))
      return rows.map((r) => toIncident(r, now))
    })

    const changedRows = SqlSchema.findAll({
      Request: Int,
      Result: Row,
      execute: (since) => sql`SELECT * FROM incidents WHERE opened_at >= ${since} OR resolved_at >= ${since}`
    })

    /** Every incident opened or resolved since `since` (epoch ms): how often a condition flaps. */
    const changedSince = Effect.fn("Incidents.changedSince")(function*(since: number) {
      const now = yield* Clock.currentTimeMillis
      return (yield* changedRows(since)).map((r) => toIncident(r, now))
    })

    /**
     * Records that a person took the incident on (or, with `undefined`, that nobody has any
     * more). The acknowledgement belongs to the incident, so a condition that keeps firing keeps
     * it; one that resolves and fires again is a new incident, not acknowledged.
     */
    const acknowledge = Effect.fn("Incidents.acknowledge")(function*(
      id: string,
      ack: { readonly by: string; readonly comment: string | undefined } | undefined
    ) {
      const now = yield* Clock.currentTimeMillis
      yield* sql`UPDATE incidents SET acked_at = ${ack === undefined ? null : now}, acked_by = ${ack?.by ?? null},
        ack_comment = ${ack?.comment ?? null} WHERE id = ${id}`
      return yield* byId(id)
    })

    return { apply, list, openIncidents, byId, byIds, changedSince, acknowledge } as const
  })
}) {}
