import { describe, expect, it } from "@effect/vitest"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { pollRounds, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const history = (url: string, query: string) => getJson(`${url}/api/v1/metrics/history?${query}`)

describe("metric history over the API", () => {
  it.scopedLive("records what the watch polls, and answers a resource's metric with its tier, step and min/max/avg points", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      yield* pollRounds(sim, 4)

      const cpu = yield* history(vigil.url, "resource=qemu/100&metric=cpu")
      expect(cpu.status).toBe(200)
      expect(cpu.body).toMatchObject({ resource: "qemu/100", metric: "cpu", unit: "ratio", tier: "raw", step: 12_000 })
      expect(cpu.body.to - cpu.body.from).toBe(3_600_000)
      expect(cpu.body.points.length).toBeGreaterThan(0)
      for (const p of cpu.body.points) {
        expect(Object.keys(p).sort()).toEqual(["avg", "max", "min", "t"])
        expect(p.min).toBeLessThanOrEqual(p.avg)
        expect(p.avg).toBeLessThanOrEqual(p.max)
      }

      // Rates from the guest's counters: bytes/s, never negative, some traffic seen.
      const netin = yield* history(vigil.url, `resource=qemu/100&metric=netin&from=${Date.now() - 600_000}&step=1`)
      expect(netin.body).toMatchObject({ unit: "bytes/s", tier: "raw", step: 1000 })
      expect(netin.body.points.every((p: any) => p.min >= 0)).toBe(true)
      expect(Math.max(...netin.body.points.map((p: any) => p.max))).toBeGreaterThan(0)

      const node = yield* history(vigil.url, `resource=node/pve1&metric=mem&from=${new Date(Date.now() - 3_600_000).toISOString()}`)
      expect(node.body).toMatchObject({ unit: "bytes" })
      expect(node.body.points.length).toBeGreaterThan(0)
      const pool = yield* history(vigil.url, "resource=storage/pve1/local&metric=used&step=5 minutes")
      expect(pool.body).toMatchObject({ tier: "minute", step: 300_000 })
      expect(pool.body.points.length).toBeGreaterThan(0)

      // A resource with no history answers no points, not an error.
      const stopped = yield* history(vigil.url, "resource=qemu/999&metric=cpu")
      expect(stopped.body.points).toEqual([])
    }))

  it.scopedLive("answers 400 naming the parameter that is wrong", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const refused = [
        ["resource=pve1&metric=cpu", "resource"],
        ["resource=qemu/100&metric=temperature", "metric"],
        ["metric=cpu", "resource"],
        ["resource=qemu/100&metric=cpu&from=yesterday", "from"],
        ["resource=qemu/100&metric=cpu&to=soon", "to"],
        ["resource=qemu/100&metric=cpu&step=0.5", "step"],
        ["resource=qemu/100&metric=cpu&step=often", "step"]
      ] as const
      for (const [query, parameter] of refused) {
        const answer = yield* history(vigil.url, query)
        expect(answer.status, query).toBe(400)
        expect(JSON.stringify(answer.body.issues), query).toContain(`"${parameter}"`)
      }
      const wrongKind = yield* history(vigil.url, "resource=storage/pve1/local&metric=cpu")
      expect(wrongKind).toMatchObject({ status: 400, body: { message: "metric: storage/pve1/local has no cpu history (it has used, total)" } })
      const backwards = yield* history(vigil.url, "resource=node/pve1&metric=cpu&from=2000&to=1000")
      expect(backwards).toMatchObject({ status: 400, body: { message: "from: must be before to" } })
    }))

  it.scopedLive("VIGIL_HISTORY=off records nothing and says so", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim, { VIGIL_HISTORY: "off" }))
      yield* watchSeeded(vigil.url, sim)
      yield* pollRounds(sim, 2)
      const rows = yield* vigil.use(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT count(*) AS n FROM metric_points`))
      expect(rows[0]!.n).toBe(0)
      expect(yield* history(vigil.url, "resource=qemu/100&metric=cpu")).toEqual({
        status: 404,
        body: { _tag: "NotFound", message: "metric history is off (VIGIL_HISTORY=off)" }
      })
    }))

  it.effect("a bad VIGIL_HISTORY_RETENTION stops the start naming the variable and the tier", () =>
    Effect.gen(function*() {
      for (const [value, says] of [
        ['{"weekly": "1 day"}', 'unknown tier "weekly"'],
        ['{"raw": "forever"}', '"forever" is not a duration'],
        ['{"raw": "0 seconds"}', "must be a positive duration"],
        ["6 hours", "JSON"]
      ] as const) {
        const exit = yield* Effect.exit(Effect.scoped(startVigil({ VIGIL_HISTORY_RETENTION: value })))
        expect(exit._tag, value).toBe("Failure")
        const text = String(exit._tag === "Failure" ? exit.cause : "")
        expect(text, value).toContain("VIGIL_HISTORY_RETENTION")
        expect(text.includes(says) || (says === "JSON" && /JSON|Unexpected token/.test(text)), `${value}: ${text}`).toBe(true)
      }
    }))
})
