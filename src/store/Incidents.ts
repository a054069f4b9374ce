/**
 * Incidents: every firing condition opens one, keyed by condition and target, with first seen,
 * last seen, count and severity; its resolution closes it. They live in SQL so that a restart
 * (or another instance taking over) knows what is already open and does not alert it again.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { randomUUID } from "node:crypto"
import { severityOfRank, severityRank } from "../domain/Severity.js"
import { type Incident, type IncidentOp } from "../domain/Incident.js"

export type { Incident }


interface Row {
  readonly id: string
  readonly key: string
  readonly condition: string
  readonly target: string
  readonly node: string | null
  readonly severity: number | string
  readonly status: "open" | "resolved"
  readonly summary: string
  readonly opened_at: number | string
  readonly last_seen_at: number | string
  readonly resolved_at: number | string | null
  readonly count: number | string
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString()

const fromRow = (r: Row, now: number): Incident => ({
  id: r.id,
  key: r.key,
  condition: r.condition,
  target: r.target,
  node: r.node,
  severity: severityOfRank(Number(r.severity)),
  status: r.status,
  summary: r.summary,
  openedAt: iso(r.opened_at),
  lastSeenAt: iso(r.last_seen_at),
  resolvedAt: r.resolved_at === null ? null : iso(r.resolved_at),
  durationSeconds: Math.round(((r.resolved_at === null ? now : Number(r.resolved_at)) - Number(r.opened_at)) / 1000),
  count: Number(r.count)
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

    const openByKey = (key: string) =>
      Effect.map(sql<Row>`SELECT * FROM incidents WHERE key = ${key} AND status = 'open'`, (rows) => rows[0])

    /** Opens, repeats (same key already open: count + 1), changes or resolves, in one transaction. */
    const apply = Effect.fn("Incidents.apply")(function*(op: IncidentOp) {
      const now = Date.now()
      return yield* sql.withTransaction(Effect.gen(function*() {
        const open = yield* openByKey(op.key)
        switch (op._tag) {
          case "Open": {
            if (open !== undefined) {
              yield* sql`UPDATE incidents SET last_seen_at = ${now}, count = count + 1,
                severity = ${Math.max(severityRank(op.severity), Number(open.severity))}, summary = ${op.summary}
                WHERE id = ${open.id}`
              const row = (yield* openByKey(op.key))!
              return { _tag: "Repeated", incident: fromRow(row, now) } as Applied
            }
            const id = randomUUID()
            yield* sql`INSERT INTO incidents ${sql.insert({
              id,
              key: op.key,
              condition: op.condition,
              target: op.target,
              node: op.node ?? null,
              severity: severityRank(op.severity),
              status: "open",
              summary: op.summary,
              opened_at: now,
              last_seen_at: now,
              resolved_at: null,
              count: 1
            })}`
            const row = (yield* openByKey(op.key))!
            return { _tag: "Opened", incident: fromRow(row, now) } as Applied
          }
          case "Change": {
            if (open === undefined) return { _tag: "Nothing" } as Applied
            yield* sql`UPDATE incidents SET condition = ${op.condition}, severity = ${severityRank(op.severity)},
              summary = ${op.summary}, last_seen_at = ${now} WHERE id = ${open.id}`
            return { _tag: "Changed", incident: fromRow((yield* openByKey(op.key))!, now) } as Applied
          }
          case "Resolve": {
            if (open === undefined) return { _tag: "Nothing" } as Applied
            yield* sql`UPDATE incidents SET status = 'resolved', resolved_at = ${now}, last_seen_at = ${now}
              WHERE id = ${open.id}`
            return {
              _tag: "Resolved",
              incident: fromRow({ ...open, status: "resolved", resolved_at: now, last_seen_at: now }, now)
            } as Applied
          }
        }
      }))
    })

    /** Open incidents first (newest first), then resolved ones (most recently resolved first). */
    const list = Effect.fn("Incidents.list")(function*(query: IncidentQuery) {
      const clauses = []
      const status = query.status ?? "all"
      if (status !== "all") clauses.push(sql`status = ${status}`)
      if (query.condition !== undefined) clauses.push(sql`condition = ${query.condition}`)
      if (query.node !== undefined) clauses.push(sql`node = ${query.node}`)
      const rows = yield* sql<Row>`SELECT * FROM incidents WHERE ${sql.and(clauses)}
        ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, COALESCE(resolved_at, opened_at) DESC
        LIMIT ${query.limit ?? 100}`
      const now = Date.now()
      return rows.map((r) => fromRow(r, now))
    })

    const openIncidents = list({ status: "open", limit: 10_000 })

    const byId = Effect.fn("Incidents.byId")(function*(id: string) {
      const rows = yield* sql<Row>`SELECT * FROM incidents WHERE id = ${id}`
      return rows[0] === undefined ? undefined : fromRow(rows[0], Date.now())
    })

    return { apply, list, openIncidents, byId } as const
  })
}) {}
