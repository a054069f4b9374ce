import { expect, layer } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type Bucket, type HistoryMetric, rollUp, single, type Tier, tierWidth } from "../../src/domain/MetricHistory.js"
import { defaultRetention } from "../../src/monitor/HistoryConfig.js"
import { MetricHistory, rollUpGrace } from "../../src/store/MetricHistory.js"
import { TestBackbone } from "../support/Backbone.js"

const day = 86_400_000
const hour = 3_600_000
/** A fixed start, on a day boundary, so the day tier's buckets are whole days of the data. */
const start = 20_000 * day

/** A deterministic walk: whole values keep every sum exact in both databases. */
const valueAt = (series: number, i: number) => ((i * 7919 + series * 104_729) % 1000) + (i % 97 === 0 ? 50_000 : 0)

/** Three days of polls every 10 minutes, then the last two hours every 12 seconds, for two series. */
const polls = [
  ...Array.from({ length: 3 * 144 }, (_, i) => start + i * 600_000),
  ...Array.from({ length: 600 }, (_, i) => start + 3 * day + i * 12_000)
]
const series: ReadonlyArray<readonly [string, HistoryMetric]> = [["qemu/100", "cpu"], ["node/pve1", "mem"]]
const rawOf = (s: number) => polls.map((t, i) => single(t, valueAt(s, i)))
const end = polls[polls.length - 1]! + 12_000

const TestHistory = (dialect: "sqlite" | "pg") => MetricHistory.Default.pipe(Layer.provideMerge(TestBackbone({}, dialect)))

const recordAll = Effect.gen(function*() {
  const history = yield* MetricHistory
  for (const [i, t] of polls.entries()) {
    yield* history.record(t, series.map(([resource, metric], s) => ({ resource, metric, value: valueAt(s, i) })))
  }
})

const rowsIn = (tier: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number | string }>`SELECT count(*) AS n FROM metric_points WHERE tier = ${tier}`).pipe(
    Effect.map((r) => Number(r[0]!.n))
  )

const queryAll = (s: number, tier: Tier, step: number, from = start, to = end) =>
  Effect.flatMap(MetricHistory, (h) => h.query({ resource: series[s]![0], metric: series[s]![1], from, to, tier, step }))

const within = (buckets: ReadonlyArray<Bucket>, from: number, to: number) => buckets.filter((b) => b.t >= from && b.t < to)

for (const dialect of ["sqlite", "pg"] as const) {
  layer(TestHistory(dialect), { timeout: 120_000 })(`metric history on ${dialect}`, (it) => {
    it.effect("roll-ups into minutes, hours and days equal bucketing the raw points directly, and answers merge the tiers exactly", () =>
      Effect.gen(function*() {
        const history = yield* MetricHistory
        yield* recordAll
        expect(yield* rowsIn(0)).toBe(polls.length * series.length)

        // Before any roll-up, every tier's answer comes from the raw points.
        expect(yield* queryAll(0, "hour", hour)).toEqual(rollUp(rawOf(0), hour))

        const rolled = yield* history.rollUp(end)
        const complete = Math.floor((end - rollUpGrace) / tierWidth.minute) * tierWidth.minute
        expect(rolled).toEqual({ minute: complete, hour: Math.floor(complete / hour) * hour, day: start + 3 * day })
        for (const [tier, k] of [["minute", 1], ["hour", 2], ["day", 3]] as const) {
          const stored = yield* SqlClient.SqlClient.pipe(Effect.flatMap((sql) =>
            sql<{ t: number | string; vmin: number; vmax: number; vsum: number; n: number | string }>`
              SELECT t, vmin, vmax, vsum, n FROM metric_points p JOIN metric_series s ON s.id = p.series
              WHERE s.resource = 'qemu/100' AND p.tier = ${k} ORDER BY t`))
          const asBuckets = stored.map((r) => ({ t: Number(r.t), min: Number(r.vmin), max: Number(r.vmax), sum: Number(r.vsum), count: Number(r.n) }))
          expect(asBuckets, tier).toEqual(within(rollUp(rawOf(0), tierWidth[tier]), 0, (yield* history.rolledThrough())[tier]))
        }

        // A second roll-up at the same time adds nothing; a later one takes up where it stopped.
        expect(yield* history.rollUp(end)).toEqual({})
        expect(yield* rowsIn(1)).toBe(series.length * new Set(polls.filter((t) => t < complete).map((t) => Math.floor(t / 60_000))).size)

        // Whatever tier answers, the buckets are those of the raw points: the coarse tier where it
        // is complete, the finer ones after it.
        for (const [tier, step] of [["day", day], ["hour", hour], ["hour", 2 * hour], ["minute", 5 * 60_000], ["raw", 60_000]] as const) {
          expect(yield* queryAll(1, tier, step), `${tier} by ${step}`).toEqual(rollUp(rawOf(1), step))
        }
        const from = start + day + 30 * 60_000
        expect(yield* queryAll(0, "hour", hour, from, end)).toEqual(within(rollUp(rawOf(0), hour), Math.floor(from / hour) * hour, end))
        expect(yield* history.query({ resource: "qemu/999", metric: "cpu", from: start, to: end, tier: "raw", step: 60_000 })).toEqual([])
      }))

    it.effect("retention removes each tier's old rows, but never what the next tier has not rolled up yet", () =>
      Effect.gen(function*() {
        const history = yield* MetricHistory
        const sql = yield* SqlClient.SqlClient
        yield* sql`DELETE FROM metric_points`
        yield* sql`DELETE FROM metric_rollups`
        yield* sql`DELETE FROM metric_times`
        yield* recordAll
        // Not rolled up: nothing goes, however old.
        yield* history.retain(end + 400 * day, defaultRetention)
        expect(yield* rowsIn(0)).toBe(polls.length * series.length)

        yield* history.rollUp(end)
        const short = { raw: hour, minute: day, hour: 2 * day, day: 366 * day }
        yield* history.retain(end, short)
        const oldest = yield* sql<{ tier: number | string; t: number | string }>`SELECT tier, MIN(t) AS t FROM metric_points GROUP BY tier ORDER BY tier`
        const through = yield* history.rolledThrough()
        expect(oldest.map((r) => [Number(r.tier), Number(r.t)])).toEqual([
          [0, polls.find((t) => t >= Math.min(end - hour, through.minute))!],
          [1, Math.ceil((end - day) / 60_000) * 60_000],
          [2, Math.ceil((end - 2 * day) / hour) * hour],
          [3, start]
        ])
        // The last day still answers by the hour from what is left, exactly as before.
        expect(yield* queryAll(0, "hour", hour, end - day, end)).toEqual(within(rollUp(rawOf(0), hour), Math.floor((end - day) / hour) * hour, end))
        // Days past every retention are gone.
        yield* history.retain(end + 400 * day, short)
        expect(yield* rowsIn(3)).toBe(0)
      }))
  })
}

