/**
 * SQL for the `events` table, in the subset both SQLite and PostgreSQL speak
 * (`ON CONFLICT ... DO NOTHING RETURNING`, `substr`, plain aggregates). It holds no state:
 * ordering and batching belong to the EventStore writer above it.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type NewEvent, StoredEvent } from "../domain/Event.js"
import type { EventFilter } from "../domain/EventFilter.js"
import { severityOfRank, severityRank } from "../domain/Severity.js"
import { Int } from "./Columns.js"

/** What became of one event handed to `insert`. */
export type InsertOutcome =
  | { readonly _tag: "Inserted"; readonly event: StoredEvent }
  | { readonly _tag: "Duplicate"; readonly sequence: number }

/** A row of `events`, decoded into the committed event it stores. */
/** An event's columns, but the sequence the database assigns: absent attributes are NULL, severity its rank. */
const columnsOf = (e: NewEvent, receivedAt: number) => ({
  id: e.id,
  source: e.source,
  type: e.type,
  time: e.time,
  subject: e.subject ?? null,
  datacontenttype: e.datacontenttype ?? null,
  severity: severityRank(e.severity),
  node: e.node ?? null,
  data: e.data ?? null,
  dataBase64: e.dataBase64 ?? null,
  extensions: e.extensions ?? null,
  audience: e.audience ?? null,
  receivedAt
})

const EventRow = Schema.transform(
  Schema.Struct({
    seq: Int,
    id: Schema.String,
    source: Schema.String,
    type: Schema.String,
    time: Schema.String,
    subject: Schema.NullOr(Schema.String),
    datacontenttype: Schema.NullOr(Schema.String),
    severity: Int,
    node: Schema.NullOr(Schema.String),
    data: Schema.NullOr(Schema.String),
    dataBase64: Schema.NullOr(Schema.String),
    extensions: Schema.NullOr(Schema.String),
    audience: Schema.NullOr(Schema.String),
    receivedAt: Int
  }),
  Schema.instanceOf(StoredEvent),
  {
    strict: true,
    decode: (row) =>
      new StoredEvent(row.seq, {
        id: row.id,
        source: row.source,
        type: row.type,
        time: row.time,
        subject: row.subject ?? undefined,
        datacontenttype: row.datacontenttype ?? undefined,
        severity: severityOfRank(row.severity),
        node: row.node ?? undefined,
        data: row.data ?? undefined,
        dataBase64: row.dataBase64 ?? undefined,
        extensions: row.extensions ?? undefined,
        audience: row.audience ?? undefined
      }, row.receivedAt),
    encode: (e) => ({ seq: e.sequence, ...columnsOf(e, e.receivedAt) })
  }
)
const decodeRows = Schema.decodeUnknown(Schema.Array(EventRow))

const columns =
  "seq, id, source, type, time, subject, datacontenttype, severity, node, data, data_base64, extensions, audience, received_at"

const keyOf = (source: string, id: string) => `${source}\u0000${id}`

/** Rows per INSERT statement: well under SQLite's 32766 bound variables at 13 columns a row. */
const insertChunk = 500

/** Rows per DELETE when retention prunes, so no single statement holds the writer for long. */
const deleteChunk = 10_000

export interface EventCounts {
  readonly byTypeAndSeverity: ReadonlyArray<{ readonly type: string; readonly severity: number; readonly n: number }>
  readonly first: number | undefined
  readonly last: number | undefined
  readonly total: number
}

export class EventRepo extends Effect.Service<EventRepo>()("vigil/EventRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const filterClause = (filter: EventFilter): Array<Fragment> => {
      const clauses: Array<Fragment> = []
      if (filter.types.length > 0) {
        clauses.push(sql.or(filter.types.map((p) =>
          p._tag === "Exact"
            ? sql`type = ${p.type}`
            : sql`substr(type, 1, ${p.prefix.length}) = ${p.prefix}`
        )))
      }
      if (filter.minSeverity !== undefined) clauses.push(sql`severity >= ${severityRank(filter.minSeverity)}`)
      if (filter.node !== undefined) clauses.push(sql`node = ${filter.node}`)
      if (filter.source !== undefined) clauses.push(sql`source = ${filter.source}`)
      if (filter.viewer !== undefined) clauses.push(sql`(audience IS NULL OR audience = ${filter.viewer})`)
      return clauses
    }

    /**
     * Inserts in order; an event whose (source, id) is already stored (before, or earlier in the
     * same list) is a duplicate and reports the sequence it was stored under. Call inside a
     * transaction: sequences are assigned in list order.
     */
    const insert = Effect.fn("EventRepo.insert")(function*(events: ReadonlyArray<NewEvent>, receivedAt: number) {
      const inserted = new Map<string, number>()
      for (let start = 0; start < events.length; start += insertChunk) {
        const chunk = events.slice(start, start + insertChunk)
        const rows = chunk.map((e) => columnsOf(e, receivedAt))
        const returned = yield* sql<{ seq: number | string; source: string; id: string }>`
          INSERT INTO events ${sql.insert(rows)}
          ON CONFLICT (source, id) DO NOTHING
          RETURNING seq, source, id`
        for (const r of returned) inserted.set(keyOf(r.source, r.id), Number(r.seq))
      }
      const outcomes: Array<InsertOutcome> = []
      const claimed = new Set<string>()
      for (const e of events) {
        const key = keyOf(e.source, e.id)
        const seq = inserted.get(key)
        if (seq !== undefined && !claimed.has(key)) {
          claimed.add(key)
          outcomes.push({ _tag: "Inserted", event: new StoredEvent(seq, e, receivedAt) })
        } else if (seq !== undefined) {
          outcomes.push({ _tag: "Duplicate", sequence: seq })
        } else {
          const existing = yield* sql<{ seq: number | string }>`
            SELECT seq FROM events WHERE source = ${e.source} AND id = ${e.id}`
          outcomes.push({ _tag: "Duplicate", sequence: Number(existing[0]?.seq ?? 0) })
        }
      }
      return outcomes
    })

    /** Matching events with `sequence > after`, oldest first: one page of a replay. */
    const after = Effect.fn("EventRepo.after")(function*(filter: EventFilter, after: number, limit: number) {
      const rows = yield* sql`
        SELECT ${sql.literal(columns)} FROM events
        WHERE ${sql.and([sql`seq > ${after}`, ...filterClause(filter)])}
        ORDER BY seq ASC LIMIT ${limit}`
      return yield* decodeRows(rows)
    })

    /** Matching events newest first, optionally bounded by sequence on either side. */
    const recent = Effect.fn("EventRepo.recent")(function*(
      filter: EventFilter,
      bounds: { readonly after?: number | undefined; readonly before?: number | undefined },
      limit: number
    ) {
      const clauses = filterClause(filter)
      if (bounds.after !== undefined) clauses.push(sql`seq > ${bounds.after}`)
      if (bounds.before !== undefined) clauses.push(sql`seq < ${bounds.before}`)
      const rows = yield* sql`
        SELECT ${sql.literal(columns)} FROM events
        WHERE ${sql.and(clauses)}
        ORDER BY seq DESC LIMIT ${limit}`
      return yield* decodeRows(rows)
    })

    /** Events about one subject received since `since` (epoch ms), oldest first: an incident's target. */
    const aboutSubject = Effect.fn("EventRepo.aboutSubject")(function*(subject: string, since: number, limit: number) {
      const rows = yield* sql`
        SELECT ${sql.literal(columns)} FROM events
        WHERE subject = ${subject} AND received_at >= ${since}
        ORDER BY seq ASC LIMIT ${limit}`
      return yield* decodeRows(rows)
    })

    const counts = Effect.fn("EventRepo.counts")(function*() {
      const groups = yield* sql<{ type: string; severity: number; n: number | string }>`
        SELECT type, severity, count(*) AS n FROM events GROUP BY type, severity`
      const range = yield* sql<{ first: number | string | null; last: number | string | null; n: number | string }>`
        SELECT min(seq) AS first, max(seq) AS last, count(*) AS n FROM events`
      const r = range[0]
      return {
        byTypeAndSeverity: groups.map((g) => ({ type: g.type, severity: Number(g.severity), n: Number(g.n) })),
        first: r?.first == null ? undefined : Number(r.first),
        last: r?.last == null ? undefined : Number(r.last),
        total: Number(r?.n ?? 0)
      } satisfies EventCounts
    })

    /** The lowest sequence still stored, if any. */
    const minSequence = Effect.fn("EventRepo.minSequence")(function*() {
      const rows = yield* sql<{ m: number | string | null }>`SELECT min(seq) AS m FROM events`
      return rows[0]?.m == null ? undefined : Number(rows[0].m)
    })

    /** The highest sequence stored, or 0 when the table is empty. */
    const maxSequence = Effect.fn("EventRepo.maxSequence")(function*() {
      const rows = yield* sql<{ m: number | string | null }>`SELECT max(seq) AS m FROM events`
      return rows[0]?.m == null ? 0 : Number(rows[0].m)
    })

    const countSince = Effect.fn("EventRepo.countSince")(function*(receivedAtOrAfter: number) {
      const rows = yield* sql<{ n: number | string }>`
        SELECT count(*) AS n FROM events WHERE received_at >= ${receivedAtOrAfter}`
      return Number(rows[0]?.n ?? 0)
    })

    /** The highest sequence whose event arrived before `receivedAt`, if any. */
    const lastSequenceBefore = Effect.fn("EventRepo.lastSequenceBefore")(function*(receivedAt: number) {
      const rows = yield* sql<{ m: number | string | null }>`
        SELECT max(seq) AS m FROM events WHERE received_at < ${receivedAt}`
      return rows[0]?.m == null ? undefined : Number(rows[0].m)
    })

    /** The sequence below which all but the newest `keep` events lie, if there are more than that. */
    const lastSequenceBeyondNewest = Effect.fn("EventRepo.lastSequenceBeyondNewest")(function*(keep: number) {
      const rows = yield* sql<{ seq: number | string }>`
        SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ${keep}`
      return rows[0] === undefined ? undefined : Number(rows[0].seq)
    })

    /** Deletes every event with `sequence <= upTo`, in chunks; returns how many were removed. */
    const deleteUpTo = Effect.fn("EventRepo.deleteUpTo")(function*(upTo: number) {
      let removed = 0
      while (true) {
        const bound = yield* sql<{ seq: number | string }>`
          SELECT seq FROM events WHERE seq <= ${upTo} ORDER BY seq ASC LIMIT 1 OFFSET ${deleteChunk - 1}`
        const chunkEnd = bound[0] === undefined ? upTo : Number(bound[0].seq)
        const counted = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM events WHERE seq <= ${chunkEnd}`
        const n = Number(counted[0]?.n ?? 0)
        if (n === 0) return removed
        yield* sql`DELETE FROM events WHERE seq <= ${chunkEnd}`
        removed += n
        if (chunkEnd === upTo) return removed
      }
    })

    const getMeta = Effect.fn("EventRepo.getMeta")(function*(key: string) {
      const rows = yield* sql<{ value: string }>`SELECT value FROM vigil_meta WHERE key = ${key}`
      return rows[0]?.value
    })

    const setMeta = Effect.fn("EventRepo.setMeta")(function*(key: string, value: string) {
      yield* sql`INSERT INTO vigil_meta (key, value) VALUES (${key}, ${value})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value`
    })

    const ping = sql`SELECT 1 AS ok`.pipe(Effect.asVoid, Effect.withSpan("EventRepo.ping"))

    return {
      insert,
      after,
      recent,
      aboutSubject,
      counts,
      countSince,
      minSequence,
      maxSequence,
      lastSequenceBefore,
      lastSequenceBeyondNewest,
      deleteUpTo,
      getMeta,
      setMeta,
      ping,
      withTransaction: sql.withTransaction
    } as const
  })
}) {}
