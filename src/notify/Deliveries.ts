/**
 * The delivery log in SQL: one row per notification, written before the first attempt and
 * updated after each, so a crash mid-delivery leaves a `pending` row the next leader sends again
 * (receivers deduplicate on its id). A row that failed every attempt is `dead`.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type Delivery, DeliveryStatus } from "../domain/Delivery.js"
import { Int, iso } from "../store/Columns.js"
import { Message } from "./Alerts.js"

const Row = Schema.Struct({
  id: Schema.String,
  createdAt: Int,
  updatedAt: Int,
  channel: Schema.String,
  kind: Schema.String,
  title: Schema.String,
  incidentKeys: Schema.parseJson(Schema.Array(Schema.String)),
  status: DeliveryStatus,
  attempts: Int,
  error: Schema.NullOr(Schema.String),
  message: Schema.parseJson(Message)
})
type Row = typeof Row.Type

const toDelivery = (r: Row): Delivery => ({
  id: r.id,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
  channel: r.channel,
  kind: r.kind,
  title: r.title,
  incidents: r.incidentKeys,
  status: r.status,
  attempts: r.attempts,
  error: r.error
})

export interface DeliveryQuery {
  readonly status?: DeliveryStatus | undefined
  readonly channel?: string | undefined
  readonly limit: number
}

/** How long the log keeps a delivery. */
const keptMs = 30 * 24 * 3_600_000

export class Deliveries extends Effect.Service<Deliveries>()("vigil/Deliveries", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const begin = Effect.fn("Deliveries.begin")(function*(id: string, message: Message, title: string) {
      const now = yield* Clock.currentTimeMillis
      yield* sql`INSERT INTO deliveries ${sql.insert({
        id,
        createdAt: now,
        updatedAt: now,
        channel: message.channel,
        kind: message.kind,
        title,
        incidentKeys: JSON.stringify([...new Set(message.items.map((i) => i.alert.key))]),
        status: "pending",
        attempts: 0,
        error: null,
        message: JSON.stringify(Schema.encodeSync(Message)(message))
      })}`
    })

    const attempted = Effect.fn("Deliveries.attempted")(function*(id: string, status: DeliveryStatus, error: string | null) {
      const now = yield* Clock.currentTimeMillis
      yield* sql`UPDATE deliveries SET status = ${status}, attempts = attempts + 1, error = ${error}, updated_at = ${now} WHERE id = ${id}`
    })

    /** Back to pending, for an admin's retry of a dead letter; false if it is not dead. */
    const reopen = Effect.fn("Deliveries.reopen")(function*(id: string) {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ id: string }>`UPDATE deliveries SET status = 'pending', updated_at = ${now}
        WHERE id = ${id} AND status = 'dead' RETURNING id`
      return rows.length > 0
    })

    const listRows = SqlSchema.findAll({
      Request: Schema.Struct({ status: Schema.optional(DeliveryStatus), channel: Schema.optional(Schema.String), limit: Schema.Int }),
      Result: Row,
      execute: (q) => {
        const clauses = []
        if (q.status !== undefined) clauses.push(sql`status = ${q.status}`)
        if (q.channel !== undefined) clauses.push(sql`channel = ${q.channel}`)
        return sql`SELECT * FROM deliveries WHERE ${sql.and(clauses)} ORDER BY created_at DESC, id LIMIT ${q.limit}`
      }
    })

    /** Newest first. */
    const list = (query: DeliveryQuery) => Effect.map(listRows(query), (rows) => rows.map(toDelivery))

    const byIdRow = SqlSchema.findOne({ Request: Schema.String, Result: Row, execute: (id) => sql`SELECT * FROM deliveries WHERE id = ${id}` })

    /** A delivery and the message it carries. */
    const byId = (id: string) => Effect.map(byIdRow(id), (row) => row._tag === "None" ? undefined : { delivery: toDelivery(row.value), message: row.value.message })

    /** Deliveries left pending by a process that stopped mid-way, older than `olderThanMs`. */
    const stalled = (olderThanMs: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        SqlSchema.findAll({
          Request: Int,
          Result: Row,
          execute: (before) => sql`SELECT * FROM deliveries WHERE status = 'pending' AND updated_at < ${before} ORDER BY created_at LIMIT 100`
        })(now - olderThanMs)).pipe(Effect.map((rows) => rows.map((r) => ({ id: r.id, message: r.message }))))

    const aboutRows = SqlSchema.findAll({
      Request: Schema.Struct({ pattern: Schema.String, since: Int }),
      Result: Row,
      execute: (q) => sql`SELECT * FROM deliveries WHERE created_at >= ${q.since} AND incident_keys LIKE ${q.pattern} ORDER BY created_at, id LIMIT 500`
    })

    /**
     * The deliveries that told this incident, oldest first: by its key (a LIKE that `_` in a key
     * only widens), then exactly, by the incident ids in each message.
     */
    const aboutIncident = Effect.fn("Deliveries.aboutIncident")(function*(incident: { readonly id: string; readonly key: string; readonly openedAt: string }) {
      const rows = yield* aboutRows({ pattern: `%${JSON.stringify(incident.key).replace(/%/g, "_")}%`, since: Date.parse(incident.openedAt) })
      return rows.filter((r) => r.message.items.some((i) => i.alert.id === incident.id)).map(toDelivery)
    })

    const cleanup = Effect.flatMap(Clock.currentTimeMillis, (now) => sql`DELETE FROM deliveries WHERE created_at < ${now - keptMs}`)

    return { begin, attempted, reopen, list, byId, stalled, aboutIncident, cleanup } as const
  })
}) {}
