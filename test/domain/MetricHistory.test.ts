import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import { average, type Bucket, chooseTier, maxPoints, pointsOf, rollUp, single, tierWidth } from "../../src/domain/MetricHistory.js"
import type { Guest, Snapshot } from "../../src/domain/Snapshot.js"
import { defaultRetention } from "../../src/monitor/HistoryConfig.js"

const guest = (vmid: number, fields: Partial<Guest> = {}): Guest => ({
  kind: "qemu", vmid, name: `g${vmid}`, node: "pve1", status: "running", uptime: 1000, tags: [], template: false,
  cpu: 0.25, maxcpu: 2, mem: 1e9, maxmem: 4e9, disk: 0, maxdisk: 32e9, netin: 1000, netout: 2000, diskread: 3000, diskwrite: 4000, ...fields
})

const snapshot = (takenAt: number, guests: ReadonlyArray<Guest>): Snapshot => ({
  source: "test",
  takenAt,
  nodes: [{ name: "pve1", status: "online", cpu: 0.5, mem: 8e9, maxmem: 16e9, disk: 4e9, maxdisk: 100e9 }, { name: "pve2", status: "offline" }],
  guests,
  storage: [{ node: "pve1", storage: "local", status: "available", used: 10e9, total: 100e9, shared: false }],
  portConflicts: [],
  services: []
})

const value = (points: ReturnType<typeof pointsOf>, resource: string, metric: string) =>
  points.find((p) => p.resource === resource && p.metric === metric)?.value

describe("the points a poll gives", () => {
  it("usage of what runs, rates from the counters' growth since the previous poll", () => {
    const before = snapshot(0, [guest(100), guest(101, { status: "stopped", cpu: 0, mem: 0 })])
    const after = snapshot(12_000, [guest(100, { uptime: 1012, netin: 1000 + 12 * 500, netout: 2000, diskread: 3000 + 1200, diskwrite: 4000 + 24_000 })])
    const points = pointsOf(before, after)
    expect(value(points, "node/pve1", "cpu")).toBe(0.5)
    expect(value(points, "node/pve1", "mem")).toBe(8e9)
    expect(points.filter((p) => p.resource === "node/pve2")).toEqual([])
    expect(value(points, "qemu/100", "cpu")).toBe(0.25)
    expect(value(points, "qemu/100", "netin")).toBe(500)
    expect(value(points, "qemu/100", "netout")).toBe(0)
    expect(value(points, "qemu/100", "diskread")).toBe(100)
    expect(value(points, "qemu/100", "diskwrite")).toBe(2000)
    // A VM's disk usage is 0 without its guest agent: not a measurement.
    expect(value(points, "qemu/100", "disk")).toBeUndefined()
    expect(value(points, "storage/pve1/local", "used")).toBe(10e9)
    expect(value(points, "storage/pve1/local", "total")).toBe(100e9)
    // The first poll has no rates: there is nothing to compare with.
    expect(pointsOf(undefined, after).filter((p) => p.metric === "netin")).toEqual([])
  })

  it("a restart gives no rate, never a negative one: counters back at 0, or an uptime that went back", () => {
    const before = snapshot(0, [guest(100, { netin: 50_000 }), guest(101, { uptime: 5000, netin: 100 })])
    const after = snapshot(12_000, [guest(100, { uptime: 3, netin: 200 }), guest(101, { uptime: 6, netin: 90_000 })])
    const points = pointsOf(before, after)
    expect(points.filter((p) => ["netin", "netout", "diskread", "diskwrite"].includes(p.metric))).toEqual([])
  })

  it.prop("rates are never negative, whatever the counters do", [FastCheck.array(FastCheck.record({
    netin: FastCheck.nat(), netout: FastCheck.nat(), diskread: FastCheck.nat(), diskwrite: FastCheck.nat(), uptime: FastCheck.nat(), running: FastCheck.boolean()
  }), { minLength: 2, maxLength: 8 })], ([polls]) => {
    const snaps = polls.map((p, i) => snapshot(i * 12_000, [guest(100, { ...p, status: p.running ? "running" : "stopped" })]))
    for (let i = 1; i < snaps.length; i++) {
      for (const p of pointsOf(snaps[i - 1], snaps[i]!)) expect(p.value).toBeGreaterThanOrEqual(0)
    }
  })
})

// Whole values keep sums exact, so a roll-up can be compared with `toEqual`; any double keeps min and max exact.
const arbPoints = (values: FastCheck.Arbitrary<number>) =>
  FastCheck.array(FastCheck.tuple(FastCheck.integer({ min: 0, max: 3 * 86_400_000 }), values), { maxLength: 300 })
    .map((ps) => ps.map(([t, v]) => single(t, v)))
const whole = FastCheck.integer({ min: -1_000_000_000, max: 1_000_000_000 })
const anyDouble = FastCheck.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 })

describe("downsampling", () => {
  it.prop("each bucket holds exactly the min, max, count and average of the points in it", [arbPoints(anyDouble)], ([points]) => {
    const buckets = rollUp(points, tierWidth.minute)
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(points.length)
    for (const b of buckets) {
      const inside = points.filter((p) => p.t >= b.t && p.t < b.t + tierWidth.minute).map((p) => p.sum)
      expect(b.count).toBe(inside.length)
      expect(b.min).toBe(Math.min(...inside))
      expect(b.max).toBe(Math.max(...inside))
      expect(average(b)).toBeCloseTo(inside.reduce((a, v) => a + v, 0) / inside.length, 3)
      expect(b.min <= average(b) && average(b) <= b.max).toBe(true)
    }
  })

  it.prop("rolling minute buckets up into hours, and hours into days, equals bucketing the raw points directly", [arbPoints(whole)], ([points]) => {
    const minutes = rollUp(points, tierWidth.minute)
    const hours = rollUp(minutes, tierWidth.hour)
    expect(hours).toEqual(rollUp(points, tierWidth.hour))
    expect(rollUp(hours, tierWidth.day)).toEqual(rollUp(points, tierWidth.day))
  })

  it.prop("with any doubles, roll-ups keep min, max and count exact and the average to rounding", [arbPoints(anyDouble)], ([points]) => {
    const direct = rollUp(points, tierWidth.hour)
    const viaMinutes = rollUp(rollUp(points, tierWidth.minute), tierWidth.hour)
    const strip = (bs: ReadonlyArray<Bucket>) => bs.map(({ sum: _, ...rest }) => rest)
    expect(strip(viaMinutes)).toEqual(strip(direct))
    direct.forEach((b, i) => expect(average(viaMinutes[i]!)).toBeCloseTo(average(b), 3))
  })
})

describe("the tier that answers a range", () => {
  const now = 400 * 86_400_000
  const hour = 3_600_000
  const choose = (from: number, to: number, step?: number) => chooseTier({ from, to, step, now }, defaultRetention)

  it("the last hour from raw points, the last day from minutes, a month from hours, a year from days", () => {
    expect(choose(now - hour, now)).toEqual({ tier: "raw", step: 12_000 })
    // "The last hour" as a browser asks it, its `from` a few ms before the server's hour.
    expect(choose(now - hour - 7, now)).toEqual({ tier: "raw", step: 12_000 })
    expect(choose(now - 24 * hour, now)).toEqual({ tier: "minute", step: 300_000 })
    expect(choose(now - 30 * 24 * hour, now).tier).toBe("hour")
    expect(choose(now - 365 * 24 * hour, now).tier).toBe("day")
  })

  it("a step asked for picks the coarsest tier no wider than it, still holding the range's start", () => {
    expect(choose(now - hour, now, 60_000)).toEqual({ tier: "minute", step: 60_000 })
    expect(choose(now - hour, now, 5_000)).toEqual({ tier: "raw", step: 5_000 })
    // Raw points are kept 3 hours: a 10 s step over yesterday comes from minutes, a minute apart.
    expect(choose(now - 20 * hour, now - 19 * hour, 10_000)).toEqual({ tier: "minute", step: 60_000 })
    // A step that is not a whole number of the tier's buckets is rounded up to one.
    expect(choose(now - 2 * 24 * hour, now, 90 * 60_000)).toEqual({ tier: "hour", step: 2 * hour })
  })

  it.prop("the answer never has more than the most points, and its step is whole buckets of its tier", [
    FastCheck.integer({ min: 0, max: now - 1 }), FastCheck.integer({ min: 1, max: now }), FastCheck.option(FastCheck.integer({ min: 1, max: 86_400_000 }), { nil: undefined })
  ], ([a, b, step]) => {
    const [from, to] = a < b ? [a, b] : [b, a + 1]
    const choice = chooseTier({ from, to, step, now }, defaultRetention)
    expect((to - from) / choice.step).toBeLessThanOrEqual(maxPoints)
    expect(choice.step % Math.max(1000, tierWidth[choice.tier])).toBe(0)
  })
})
