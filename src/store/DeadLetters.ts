/**
 * SQL for `dead_letters`: the records internal consumers skipped, and why.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { DeadLetter } from "../domain/DeadLetter.js"
import { Int, iso } from "./Columns.js"


const Row = Schema.Struct({
  id: Int,
  consumer: Schema.String,
  eventSequence: Int,
  eventType: Schema.String,
  eventId: Schema.String,
  eventSource: Schema.String,
  error: Schema.String,
  attempts: Int,
  failedAt: Int
})

const toDeadLetter = (r: typeof Row.Type): DeadLetter => ({
  id: r.id,
  consumer: r.consumer,
  sequence: r.eventSequence,
  type: r.eventType,
  eventId: r.eventId,
  eventSource: r.eventSource,
  error: r.error,
  attempts: r.attempts,
  failedAt: iso(r.failedAt)
})

export interface NewDeadLetter {
  readonly consumer: string
  readonly sequence: number
  readonly type: string
  readonly eventId: string
  readonly eventSource: string
  readonly error: string
  readonly attempts: number
  readonly failedAt: number
}

export class DeadLetters extends Effect.Service<DeadLetters>()("vigil/DeadLetters", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Records a skipped record; recording the same one twice keeps the first. */
    const record = Effect.fn("DeadLetters.record")(function*(d: NewDeadLetter) {
      yield* sql`INSERT INTO dead_letters ${sql.insert({
        consumer: d.consumer,
        eventSequence: d.sequence,
        eventType: d.type,
        eventId: d.eventId,
        eventSource: d.eventSource,
        // An error can quote the record; keep the row small.
        error: d.error.slice(0, 2000),
        attempts: d.attempts,
        failedAt: d.failedAt
      })} ON CONFLICT (consumer, event_sequence) DO NOTHING`
    })

    const list = SqlSchema.findAll({
      Request: Schema.Struct({ consumer: Schema.optional(Schema.String), limit: Schema.Int }),
      Result: Row,
      execute: ({ consumer, limit }) =>
        sql`SELECT * FROM dead_letters ${consumer === undefined ? sql`` : sql`WHERE consumer = ${consumer}`}
          ORDER BY id DESC LIMIT ${limit}`
    })

    /** The highest sequence a consumer skipped, so it resumes past it. */
    const lastSkipped = Effect.fn("DeadLetters.lastSkipped")(function*(consumer: string) {
      const rows = yield* sql<{ m: number | string | null }>`SELECT max(event_sequence) AS m FROM dead_letters WHERE consumer = ${consumer}`
      return rows[0]?.m == null ? undefined : Number(rows[0].m)
    })

    return {
      record,
      list: (query: { readonly consumer?: string | undefined; readonly limit: number }) => Effect.map(list(query), (rows) => rows.map(toDeadLetter)),
      lastSkipped
    } as const
  })
}) {}
