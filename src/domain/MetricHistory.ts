/**
 * Metric history's pure core: which points a poll gives (usage as Proxmox reports it, I/O rates
 * from the guests' byte counters), how points fall into buckets of a tier (min, max, sum and count,
 * so peaks survive and a roll-up into a coarser tier is exact), and which tier answers a range.
 */
import * as Schema from "effect/Schema"
import { guestKey, type Guest, type Snapshot, storageKey } from "./Snapshot.js"

/** Finest to coarsest: the points as polled, then buckets of a minute, an hour, a day (UTC). */
export const tiers = ["raw", "minute", "hour", "day"] as const
export const Tier = Schema.Literal(...tiers)
export type Tier = typeof Tier.Type

/** A tier's bucket width in ms; raw points keep their poll time. */
export const tierWidth: Record<Tier, number> = { raw: 0, minute: 60_000, hour: 3_600_000, day: 86_400_000 }

/**
 * What is kept, per resource. Memory, disk and storage are bytes (not percent: a resized disk
 * keeps its history true, and the total is beside it in the cluster view); `cpu` is the ratio
 * Proxmox reports (of all a node's cores, of a guest's own CPUs); the I/O metrics are bytes/s.
 */
export const HistoryMetric = Schema.Literal("cpu", "mem", "disk", "netin", "netout", "diskread", "diskwrite", "used", "total")
export type HistoryMetric = typeof HistoryMetric.Type

const counters = ["netin", "netout", "diskread", "diskwrite"] as const

export const unitOf = (metric: HistoryMetric) =>
  metric === "cpu" ? "ratio" : (counters as ReadonlyArray<string>).includes(metric) ? "bytes/s" : "bytes"

/** The metrics a resource id (`node/pve1`, `qemu/101`, `storage/pve1/local`) has, or undefined for an id of no known kind. */
export const metricsOf = (resource: string): ReadonlyArray<HistoryMetric> | undefined => {
  const kind = resource.split("/")[0]
  if (kind === "node") return ["cpu", "mem", "disk"]
  if (kind === "qemu" || kind === "lxc") return ["cpu", "mem", "disk", ...counters]
  if (kind === "storage") return ["used", "total"]
  return undefined
}

export interface Point {
  readonly resource: string
  readonly metric: HistoryMetric
  readonly value: number
}

const finite = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v)

/**
 * A counter's rate between two polls of a running guest. None across a restart: the counters
 * start again at 0 (a negative delta), or the guest's uptime went back (it restarted and already
 * counted past the old value); a rate is never negative.
 */
const rate = (before: Guest, after: Guest, seconds: number, counter: typeof counters[number]) => {
  const a = before[counter]
  const b = after[counter]
  if (!finite(a) || !finite(b) || seconds <= 0 || b < a) return undefined
  if (finite(before.uptime) && finite(after.uptime) && after.uptime < before.uptime) return undefined
  return (b - a) / seconds
}

/**
 * The points a snapshot gives, `previous` (the snapshot polled before it) giving the rates. Only
 * what runs has usage: stopped guests and offline nodes give nothing (a gap, not zeros), and a
 * VM's disk usage (0 without its guest agent) is left out like the cluster view leaves it out.
 */
export const pointsOf = (previous: Snapshot | undefined, current: Snapshot): Array<Point> => {
  const points: Array<Point> = []
  const add = (resource: string, metric: HistoryMetric, value: number | undefined) => {
    if (finite(value)) points.push({ resource, metric, value })
  }
  for (const n of current.nodes) {
    if (n.status !== "online") continue
    const id = `node/${n.name}`
    add(id, "cpu", n.cpu)
    add(id, "mem", n.mem)
    add(id, "disk", n.disk)
  }
  const before = new Map<string, Guest>()
  for (const g of previous?.guests ?? []) if (g.status === "running") before.set(guestKey(g), g)
  const seconds = previous === undefined ? 0 : (current.takenAt - previous.takenAt) / 1000
  for (const g of current.guests) {
    if (g.status !== "running" || g.template) continue
    const id = guestKey(g)
    add(id, "cpu", g.cpu)
    add(id, "mem", g.mem)
    if (g.disk) add(id, "disk", g.disk)
    const prior = before.get(id)
    if (prior !== undefined) for (const c of counters) add(id, c, rate(prior, g, seconds, c))
  }
  for (const p of current.storage) {
    add(storageKey(p), "used", p.used)
    add(storageKey(p), "total", p.total)
  }
  return points
}

/** Some points, or a tier's bucket: what they were at least, at most, added up, and how many. */
export interface Bucket {
  /** Start of the bucket, epoch ms (a raw point's own time). */
  readonly t: number
  readonly min: number
  readonly max: number
  readonly sum: number
  readonly count: number
}

export const single = (t: number, value: number): Bucket => ({ t, min: value, max: value, sum: value, count: 1 })

/** Two buckets as one (the first one's start): exact, since min, max, sum and count all add up. */
export const merge = (a: Bucket, b: Bucket): Bucket => ({
  t: a.t,
  min: Math.min(a.min, b.min),
  max: Math.max(a.max, b.max),
  sum: a.sum + b.sum,
  count: a.count + b.count
})

/** Within [min, max] always: adding up 0.05 a few times and dividing can land a hair above it. */
export const average = (b: Bucket) => Math.min(b.max, Math.max(b.min, b.sum / b.count))

export const bucketStart = (t: number, width: number) => (width <= 0 ? t : Math.floor(t / width) * width)

/**
 * Buckets (or raw points as buckets of one) gathered into buckets `width` wide, in time order.
 * A roll-up from one tier to the next is this on the finer tier's buckets.
 */
export const rollUp = (buckets: Iterable<Bucket>, width: number): Array<Bucket> => {
  const out = new Map<number, Bucket>()
  for (const b of buckets) {
    const t = bucketStart(b.t, width)
    const seen = out.get(t)
    out.set(t, seen === undefined ? { ...b, t } : merge(seen, b))
  }
  return [...out.values()].sort((a, b) => a.t - b.t)
}

/** How long each tier is kept, in ms. */
export type Retention = Record<Tier, number>

export interface TierChoice {
  readonly tier: Tier
  /** The width of the answer's buckets, ms: a whole multiple of the tier's width (and of a second). */
  readonly step: number
}

/** Points an answer aims at when no step is asked for, and the most it ever has. */
export const targetPoints = 300
export const maxPoints = 2000

const roundUp = (ms: number, unit: number) => Math.max(unit, Math.ceil(ms / unit) * unit)

/**
 * The tier that answers [from, to) at about `step`: among the tiers still holding `from` (or the
 * longest kept one when none does), the coarsest whose buckets are no wider than the step, else
 * the finest of them. The step is then a whole multiple of that tier's width, so each of its
 * buckets falls in one step, and never so small that the answer passes `maxPoints`.
 */
export const chooseTier = (range: { readonly from: number; readonly to: number; readonly step?: number | undefined; readonly now: number }, retention: Retention): TierChoice => {
  const span = Math.max(1, range.to - range.from)
  const wanted = range.step ?? span / targetPoints
  // A tier that lacks only the range's first 5 % still answers it: "the last day" asked a moment
  // after the minute tier's day began would otherwise fall through to hours.
  const holding = tiers.filter((t) => range.now - retention[t] <= range.from + span * 0.05)
  const candidates = holding.length > 0 ? holding : [tiers.reduce((a, b) => (retention[b] > retention[a] ? b : a))]
  const fitting = candidates.filter((t) => tierWidth[t] <= wanted)
  const tier = fitting.length > 0 ? fitting[fitting.length - 1]! : candidates[0]!
  const unit = Math.max(1000, tierWidth[tier])
  // A step a hair over a whole unit (an hour asked a few ms late is 12,000.01 ms a point) is that unit.
  return { tier, step: Math.max(roundUp(wanted - unit / 100, unit), roundUp(span / maxPoints, unit)) }
}
