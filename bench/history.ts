// `npm run bench -- history`: what metric history costs a poll and the database, with 1,000 and
// 10,000 guests polled every 12 s, against history off (which records nothing). Real SQLite in a
// temp dir through vigil's own store layer; time is simulated (points carry the poll's time), so
// hours of polls take seconds.
import * as SqlClient from "@effect/sql/SqlClient"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { mkdtempSync, rmSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { pointsOf } from "../src/domain/MetricHistory.js"
import type { Guest, Snapshot } from "../src/domain/Snapshot.js"
import { noEvidence } from "../src/monitor/Causes.js"
import { diff } from "../src/monitor/Diff.js"
import { defaultRetention } from "../src/monitor/HistoryConfig.js"
import { defaultPolicy, type Metric } from "../src/monitor/ThresholdPolicy.js"
import { evaluate, measure } from "../src/monitor/Thresholds.js"
import { MetricHistory } from "../src/store/MetricHistory.js"
import { SqlLive } from "../src/store/SqlLive.js"
import { StoreConfig } from "../src/store/StoreConfig.js"

const poll = 12_000
const minute = 60_000

/** A cluster of `guests` guests on `guests / 50` nodes: a tenth stopped, a quarter containers, counters growing. */
const cluster = (guests: number, i: number): Snapshot => {
  const nodes = Math.max(3, Math.round(guests / 50))
  const uptime = 86_400 + (i * poll) / 1000
  return {
    source: "bench",
    takenAt: 1_700_000_000_000 + i * poll,
    nodes: Array.from({ length: nodes }, (_, n) => ({ name: `pve${n}`, status: "online" as const, cpu: 0.2 + (i % 7) / 100, maxcpu: 64, mem: 40e9, maxmem: 256e9, disk: 30e9, maxdisk: 100e9 })),
    guests: Array.from({ length: guests }, (_, g): Guest => ({
      kind: g % 4 === 0 ? "lxc" : "qemu", vmid: 1000 + g, name: `guest-${g}`, node: `pve${g % nodes}`,
      status: g % 10 === 0 ? "stopped" : "running", cpu: ((g + i) % 100) / 100, maxcpu: 4, mem: ((g + i) % 97) * 1e8, maxmem: 100e8,
      disk: g % 4 === 0 ? 2e9 + i : 0, maxdisk: 64e9, uptime, netin: uptime * (1000 + g), netout: uptime * 300, diskread: uptime * 2000, diskwrite: uptime * (g % 13) * 100,
      tags: [], template: false
    })),
    storage: Array.from({ length: nodes * 3 }, (_, s) => ({ node: `pve${s % nodes}`, storage: `s${s}`, status: "available", used: (s % 90) * 1e10 + i, total: 100e10, shared: false })),
    portConflicts: [],
    services: []
  }
}

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`

const store = () => {
  const dir = mkdtempSync(Path.join(Os.tmpdir(), "vigil-bench-history-"))
  const config = Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["VIGIL_DATA_DIR", dir]])))
  const layer = MetricHistory.Default.pipe(Layer.provideMerge(SqlLive), Layer.provide(StoreConfig.layer), Layer.provide(config))
  return { dir, runtime: ManagedRuntime.make(layer) }
}

/** Bytes the SQLite file uses (free pages left out), WAL checkpointed in. */
const used = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`PRAGMA wal_checkpoint(TRUNCATE)`
  const [pages] = yield* sql<{ pageCount: number }>`PRAGMA page_count`
  const [free] = yield* sql<{ freelistCount: number }>`PRAGMA freelist_count`
  const [size] = yield* sql<{ pageSize: number }>`PRAGMA page_size`
  return (pages!.pageCount - free!.freelistCount) * size!.pageSize
})

const rowsByTier = Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ tier: number; n: number }>`SELECT tier, count(*) AS n FROM metric_points GROUP BY tier ORDER BY tier`)

const run = async (guests: number, out: (s?: string) => void) => {
  const { dir, runtime } = store()
  try {
    const history = await runtime.runPromise(MetricHistory)
    // The poll's own detection on the same snapshots, for scale.
    const metrics = new Set<Metric>(["cpu", "mem", "disk"])
    const snaps = Array.from({ length: 2 }, (_, i) => cluster(guests, i))
    const state = diff(undefined, snaps[0]!, noEvidence).state
    const thresholds = evaluate(defaultPolicy, new Map(), measure(snaps[0]!, metrics), metrics, 0).states
    const detect: Array<number> = []
    for (let r = 0; r < 9; r++) {
      const t = performance.now()
      diff(state, snaps[1]!, noEvidence)
      evaluate(defaultPolicy, thresholds, measure(snaps[1]!, metrics), metrics, 1)
      detect.push(performance.now() - t)
    }

    // An hour of polls: each one's points and its transaction, timed; after the first twelve
    // minutes the store is rolled up and trimmed once a simulated minute, as the recorder does,
    // with raw points kept 20 minutes so the hour shows the raw tier levelling off.
    const shortRaw = { ...defaultRetention, raw: 20 * minute }
    const base = await runtime.runPromise(used)
    const recordMs: Array<number> = []
    const pointsMs: Array<number> = []
    const upkeepMs: Array<number> = []
    let previous: Snapshot | undefined
    let points = 0
    let rawBytes = 0
    let bucketBytes = 0
    const sizes: Array<number> = []
    const polls = 300
    for (let i = 0; i < polls; i++) {
      const snapshot = cluster(guests, i)
      let t = performance.now()
      const ps = pointsOf(previous, snapshot)
      pointsMs.push(performance.now() - t)
      t = performance.now()
      await runtime.runPromise(history.record(snapshot.takenAt, ps))
      recordMs.push(performance.now() - t)
      previous = snapshot
      points = ps.length
      if (i === 59) {
        // Twelve minutes of raw points alone, then their first roll-up: what a row of each kind takes.
        const rawOnly = await runtime.runPromise(used)
        rawBytes = (rawOnly - base) / ((i + 1) * ps.length)
        const rolled = await runtime.runPromise(Effect.zipRight(history.rollUp(snapshot.takenAt + poll), rowsByTier))
        bucketBytes = ((await runtime.runPromise(used)) - rawOnly) / Number(rolled.find((r) => Number(r.tier) === 1)?.n ?? 1)
      } else if (i > 59 && (i + 1) % 5 === 0) {
        t = performance.now()
        await runtime.runPromise(Effect.zipRight(history.rollUp(snapshot.takenAt + poll), history.retain(snapshot.takenAt + poll, shortRaw)))
        upkeepMs.push(performance.now() - t)
      }
      if ((i + 1) % 100 === 0) sizes.push(await runtime.runPromise(used))
    }
    const rows = new Map((await runtime.runPromise(rowsByTier)).map((r) => [Number(r.tier), Number(r.n)]))
    const size = await runtime.runPromise(used)
    const rawRows = rows.get(0) ?? 0
    const series = points
    const steady = {
      raw: series * (defaultRetention.raw / poll),
      minute: series * (defaultRetention.minute / minute),
      hour: series * (defaultRetention.hour / 3_600_000),
      day: series * (defaultRetention.day / 86_400_000)
    }
    const steadyBytes = steady.raw * rawBytes + (steady.minute + steady.hour + steady.day) * bucketBytes
    out(`### ${guests.toLocaleString("en")} guests (${points.toLocaleString("en")} points a poll)`)
    out()
    out(`- per poll, history on: points from the snapshot ${median(pointsMs).toFixed(1)} ms, their transaction ${median(recordMs).toFixed(1)} ms median (p95 ${[...recordMs].sort((a, b) => a - b)[Math.floor(recordMs.length * 0.95)]!.toFixed(1)} ms); off: nothing`)
    out(`- for scale, the same poll's diff + thresholds: ${median(detect).toFixed(1)} ms`)
    out(`- upkeep once a minute (roll-ups and retention): ${median(upkeepMs).toFixed(1)} ms median, ${Math.max(...upkeepMs).toFixed(1)} ms at most`)
    out(`- database after an hour of polls (raw kept 20 min): ${mb(size - base)} (at 20, 40 and 60 min: ${sizes.map((s) => mb(s - base)).join(", ")}); rows: raw ${rawRows.toLocaleString("en")}, minute ${(rows.get(1) ?? 0).toLocaleString("en")}, hour ${(rows.get(2) ?? 0).toLocaleString("en")}`)
    out(`- about ${rawBytes.toFixed(0)} bytes a raw point, ${bucketBytes.toFixed(0)} a bucket (min, max, sum and count)`)
    out(`- steady state with the default retention (raw 3 h, minutes 1 day, hours 31 days, days 366): ` +
      `${(steady.raw + steady.minute + steady.hour + steady.day).toLocaleString("en", { maximumFractionDigits: 0 })} rows, about ${mb(steadyBytes)}; history off: 0`)
    out()
  } finally {
    await runtime.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

export const historyBench = (out: (s?: string) => void) => async () => {
  out("## 2. Metric history: poll cost and database growth")
  out()
  out("Polls every 12 s (simulated time) into vigil's SQLite store; history off records nothing, so its cost and growth are zero.")
  out()
  for (const guests of [1_000, 10_000]) await run(guests, out)
}
