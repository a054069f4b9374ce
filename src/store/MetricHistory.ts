/**
 * The metric history table: a poll's points in one transaction, roll-ups from each tier into the
 * next (raw → minute → hour → day), retention per tier, and range queries that read the chosen
 * tier and, past what it has rolled up yet, the finer ones. The SQL mirrors the pure core's
 * `rollUp`: min of mins, max of maxes, sums and counts added, so every tier is exact.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type Bucket, type Point, type Retention, rollUp, type Tier, tiers, tierWidth } from "../domain/MetricHistory.js"
import { Int } from "./Columns.js"

/** Raw points are rolled up this long after their minute ends: a slow poll's point still lands in time. */
export const rollUpGrace = 60_000

/** Rows per INSERT: 5 parameters each stays under SQLite's 32,766 and PostgreSQL's 65,535. */
const chunk = 4000

const SeriesRow = Schema.Struct({ id: Int, resource: Schema.String, metric: Schema.String })
const RollupRow = Schema.Struct({ tier: Int, through: Int })
// SUM and bigint arithmetic come back from PostgreSQL as strings; `Int` takes both, fractions too.
const BucketRow = Schema.Struct({ b: Int, lo: Int, hi: Int, total: Int, n: Int })

const seriesKey = (resource: string, metric: string) => `${resource} ${metric}`

export class MetricHistory extends Effect.Service<MetricHistory>()("vigil/MetricHistory", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // A series' id never changes once written, so it is looked up in SQL only when new.
    const ids = new Map<string, number>()
    const literal = (n: number) => sql.literal(String(Math.trunc(n)))

    const allSeries = SqlSchema.findAll({ Request: Schema.Void, Result: SeriesRow, execute: () => sql`SELECT id, resource, metric FROM metric_series` })
    const rollupRows = SqlSchema.findAll({ Request: Schema.Void, Result: RollupRow, execute: () => sql`SELECT tier, through FROM metric_rollups` })

    /** Gives every series of `points` an id; new ones are committed on their own, before any point refers to them. */
    const ensureSeries = (points: ReadonlyArray<Point>) =>
      Effect.gen(function*() {
        const missing = new Map<string, { resource: string; metric: string }>()
        for (const p of points) {
          const key = seriesKey(p.resource, p.metric)
          if (!ids.has(key)) missing.set(key, { resource: p.resource, metric: p.metric })
        }
        if (missing.size === 0) return
        const rows = [...missing.values()]
        for (let i = 0; i < rows.length; i += chunk) {
          yield* sql`INSERT INTO metric_series ${sql.insert(rows.slice(i, i + chunk))} ON CONFLICT (resource, metric) DO NOTHING`
        }
        for (const r of yield* allSeries()) ids.set(seriesKey(r.resource, r.metric), r.id)
      })

    /** A poll's points, all taken at `t`, in one transaction; a point recorded twice is kept once. */
    const record = Effect.fn("MetricHistory.record")(function*(t: number, points: ReadonlyArray<Point>) {
      if (points.length === 0) return 0
      yield* ensureSeries(points)
      // In key order: the rows land one after another at the end of the raw tier.
      const rows = points.map((p) => ({ series: ids.get(seriesKey(p.resource, p.metric))!, tier: 0, t, vsum: p.value, n: 1 }))
        .sort((a, b) => a.series - b.series)
      yield* sql.withTransaction(Effect.gen(function*() {
        for (let i = 0; i < rows.length; i += chunk) {
          yield* sql`INSERT INTO metric_points ${sql.insert(rows.slice(i, i + chunk))} ON CONFLICT DO NOTHING`
        }
        yield* sql`INSERT INTO metric_times (tier, t) VALUES (0, ${t}) ON CONFLICT DO NOTHING`
      }))
      return rows.length
    })

    /** Up to when each coarser tier is complete (epoch ms; 0 when never rolled up). */
    const rolledThrough = Effect.fn("MetricHistory.rolledThrough")(function*() {
      const rows = yield* rollupRows()
      const through = new Map(rows.map((r) => [r.tier, r.through]))
      return Object.fromEntries(tiers.map((tier, k) => [tier, k === 0 ? Number.POSITIVE_INFINITY : through.get(k) ?? 0])) as Record<Tier, number>
    })

    /**
     * Rolls every bucket that is complete at `now` into the next tier, each tier from where it
     * stopped last, each step in one transaction with its watermark (a crash repeats none).
     */
    const rollUpTo = Effect.fn("MetricHistory.rollUp")(function*(now: number) {
      const through = yield* rolledThrough()
      let complete = now - rollUpGrace
      const rolled: Partial<Record<Tier, number>> = {}
      for (let k = 1; k < tiers.length; k++) {
        const tier = tiers[k]!
        const width = literal(tierWidth[tier])
        const start = through[tier]
        const end = Math.floor(complete / tierWidth[tier]) * tierWidth[tier]
        if (end > start) {
          yield* sql.withTransaction(Effect.gen(function*() {
            // Grouped by time, then series: the buckets come out in key order, appended like a poll's points.
            yield* sql`INSERT INTO metric_points (series, tier, t, vmin, vmax, vsum, n)
              SELECT series, ${literal(k)}, (t / ${width}) * ${width}, MIN(COALESCE(vmin, vsum)), MAX(COALESCE(vmax, vsum)), SUM(vsum), SUM(n)
              FROM metric_points WHERE tier = ${literal(k - 1)} AND t >= ${start} AND t < ${end}
              GROUP BY (t / ${width}), series`
            yield* sql`INSERT INTO metric_times (tier, t)
              SELECT DISTINCT ${literal(k)}, (t / ${width}) * ${width} FROM metric_times WHERE tier = ${literal(k - 1)} AND t >= ${start} AND t < ${end}
              ON CONFLICT DO NOTHING`
            yield* sql`INSERT INTO metric_rollups (tier, through) VALUES (${literal(k)}, ${end})
              ON CONFLICT (tier) DO UPDATE SET through = excluded.through`
          }))
          rolled[tier] = end
        }
        complete = Math.max(start, end)
      }
      return rolled
    })

    /**
     * Deletes what each tier keeps no longer; a tier's rows are kept until the next tier has
     * them, whatever the retention says, so nothing is lost between two roll-ups.
     */
    const retain = Effect.fn("MetricHistory.retain")(function*(now: number, retention: Retention) {
      const through = yield* rolledThrough()
      for (let k = 0; k < tiers.length; k++) {
        const tier = tiers[k]!
        const next = tiers[k + 1]
        const cutoff = Math.min(now - retention[tier], next === undefined ? Number.POSITIVE_INFINITY : through[next])
        yield* sql`DELETE FROM metric_points WHERE tier = ${literal(k)} AND t < ${cutoff}`
        yield* sql`DELETE FROM metric_times WHERE tier = ${literal(k)} AND t < ${cutoff}`
      }
    })

    /**
     * Buckets `step` wide (a multiple of `tier`'s width) over [from, to): from `tier` where it is
     * complete, and from the finer tiers after that, merged exactly.
     */
    const query = Effect.fn("MetricHistory.query")(function*(q: {
      readonly resource: string
      readonly metric: string
      readonly from: number
      readonly to: number
      readonly tier: Tier
      readonly step: number
    }) {
      const found = yield* sql<{ id: number | string }>`SELECT id FROM metric_series WHERE resource = ${q.resource} AND metric = ${q.metric}`
      if (found[0] === undefined) return []
      const series = Number(found[0].id)
      const through = yield* rolledThrough()
      const step = literal(q.step)
      const parts: Array<Bucket> = []
      let cursor = Math.floor(q.from / q.step) * q.step
      for (let k = tiers.indexOf(q.tier); k >= 0 && cursor < q.to; k--) {
        const upper = Math.min(q.to, through[tiers[k]!])
        if (upper <= cursor) continue
        const rows = yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: BucketRow,
          execute: () =>
            // One key lookup per time the tier has in the range (SQLite keeps a CROSS JOIN's order).
            sql`SELECT (p.t / ${step}) * ${step} AS b, MIN(COALESCE(p.vmin, p.vsum)) AS lo, MAX(COALESCE(p.vmax, p.vsum)) AS hi,
                SUM(p.vsum) AS total, SUM(p.n) AS n
              FROM metric_times m CROSS JOIN metric_points p
              WHERE m.tier = ${literal(k)} AND m.t >= ${cursor} AND m.t < ${upper}
                AND p.tier = m.tier AND p.t = m.t AND p.series = ${series}
              GROUP BY (p.t / ${step})`
        })()
        for (const r of rows) parts.push({ t: r.b, min: r.lo, max: r.hi, sum: r.total, count: r.n })
        cursor = upper
      }
      return rollUp(parts, q.step)
    })

    return { record, rollUp: rollUpTo, retain, query, rolledThrough } as const
  })
}) {}
