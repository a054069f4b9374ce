import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import type { Snapshot } from "../../src/domain/Snapshot.js"
import { policyFromConfig } from "../../src/monitor/ThresholdConfig.js"
import { defaultPolicy, type Metric, type Rule, ruleFor } from "../../src/monitor/ThresholdPolicy.js"
import { evaluate, measure, step, type Step, type ThresholdState } from "../../src/monitor/Thresholds.js"

const disk = defaultPolicy.rules.disk // error > 90, critical > 95, hysteresis 5

const run = (rule: Rule, values: ReadonlyArray<number | undefined>, stepMs = 1000) => {
  let state: ThresholdState = { level: -1 }
  const steps: Array<Step> = []
  values.forEach((v, i) => {
    const r = step(rule, state, v, i * stepMs)
    state = r.state
    if (r.step) steps.push(r.step)
  })
  return { steps, state }
}

const arbValue = FastCheck.oneof(
  FastCheck.double({ min: 0, max: 100, noNaN: true }),
  FastCheck.constantFrom(84.9, 85, 85.1, 89.9, 90, 90.1, 94.9, 95, 95.1, 100),
  FastCheck.constant(undefined)
)
// As configuration enforces, the hysteresis band stays below the lowest level.
const arbRule: FastCheck.Arbitrary<Rule> = FastCheck.record({
  levels: FastCheck.uniqueArray(FastCheck.integer({ min: 16, max: 99 }), { minLength: 1, maxLength: 3 }).map((xs) =>
    xs.sort((a, b) => a - b).map((above, i, all) => ({ severity: i === all.length - 1 ? "critical" as const : "warning" as const, above }))
  ),
  hysteresis: FastCheck.integer({ min: 0, max: 15 }),
  forMs: FastCheck.constantFrom(0, 0, 2000, 5000)
})

describe("threshold steps", () => {
  it.prop("every firing is followed by exactly one resolution once the metric clears", [arbRule, FastCheck.array(arbValue, { maxLength: 60 })], ([rule, values]) => {
    const { steps } = run(rule, [...values, 0])
    let open = false
    for (const s of steps) {
      if (s._tag === "Fired") {
        expect(open).toBe(false)
        open = true
      } else if (s._tag === "Resolved") {
        expect(open).toBe(true)
        open = false
      } else {
        expect(open).toBe(true)
      }
    }
    expect(open).toBe(false)
    expect(steps.filter((s) => s._tag === "Fired").length).toBe(steps.filter((s) => s._tag === "Resolved").length)
  }, { fastCheck: { numRuns: 2000 } })

  it.prop("a metric oscillating between the clear and trigger levels does not fire again", [
    FastCheck.array(FastCheck.double({ min: 85.01, max: 90, noNaN: true }), { minLength: 1, maxLength: 50 })
  ], ([wobble]) => {
    const { steps } = run(disk, [91, ...wobble])
    expect(steps).toEqual([{ _tag: "Fired", to: 0 }])
  }, { fastCheck: { numRuns: 1000 } })

  it.prop("the same value again and again fires at most once", [arbRule, arbValue, FastCheck.integer({ min: 2, max: 20 })], ([rule, value, times]) => {
    const { steps } = run({ ...rule, forMs: 0 }, Array.from({ length: times }, () => value))
    expect(steps.length).toBeLessThanOrEqual(1)
  })

  it.prop("a level fires only after being exceeded for its whole 'for' duration", [FastCheck.array(arbValue, { maxLength: 40 })], ([values]) => {
    const rule: Rule = { ...disk, forMs: 3000 }
    let state: ThresholdState = { level: -1 }
    let aboveSince: number | undefined
    values.forEach((v, i) => {
      const now = i * 1000
      if (v !== undefined && v > 90) aboveSince ??= now
      else aboveSince = undefined
      const r = step(rule, state, v, now)
      if (r.step?._tag === "Fired") expect(now - aboveSince!).toBeGreaterThanOrEqual(3000)
      state = r.state
    })
  })

  it("escalates across levels, de-escalates within the hysteresis band, and resolves below it", () => {
    const { steps } = run(disk, [50, 92, 96, 93, 91, 88, 86, 84.9, 84])
    expect(steps).toEqual([
      { _tag: "Fired", to: 0 },
      { _tag: "Escalated", from: 0, to: 1 },
      { _tag: "Deescalated", from: 1, to: 0 },
      { _tag: "Resolved", from: 0 }
    ])
  })

  it("jumping past every level fires once at the highest", () => {
    expect(run(disk, [10, 97]).steps).toEqual([{ _tag: "Fired", to: 1 }])
  })
})

const snapshot = (diskPercent: number, tags: Array<string> = []): Snapshot => ({
  source: "test",
  takenAt: 0,
  nodes: [{ name: "pve1", status: "online", cpu: 0.1, mem: 10, maxmem: 100, disk: diskPercent, maxdisk: 100 }],
  guests: [{ kind: "qemu", vmid: 101, name: "db", node: "pve1", status: "running", tags, template: false, cpu: 0.1, mem: 10, maxmem: 100, disk: diskPercent, maxdisk: 100 }],
  storage: [{ node: "pve1", storage: "local", status: "available", used: 50, total: 100, shared: false }],
  portConflicts: [],
  services: []
})

describe("evaluate", () => {
  const all: ReadonlySet<Metric> = new Set(["cpu", "mem", "disk", "storage"])

  it.prop("identical snapshots emit nothing after the first evaluation", [FastCheck.integer({ min: 0, max: 100 })], ([d]) => {
    const s = snapshot(d)
    const first = evaluate(defaultPolicy, new Map(), measure(s, all), all, 0)
    const second = evaluate(defaultPolicy, first.states, measure(s, all), all, 1000)
    expect(second.transitions).toEqual([])
  })

  it("resolves a violation whose target stops being measured", () => {
    const fired = evaluate(defaultPolicy, new Map(), measure(snapshot(97), all), all, 0)
    expect(fired.transitions.map((t) => [t.step._tag, t.measurement.key])).toEqual([
      ["Fired", "disk:node/pve1"],
      ["Fired", "disk:qemu/101"]
    ])
    const stopped = { ...snapshot(97), guests: [] }
    const after = evaluate(defaultPolicy, fired.states, measure(stopped, all), all, 1000)
    expect(after.transitions.map((t) => [t.step._tag, t.measurement.key])).toEqual([["Resolved", "disk:qemu/101"]])
  })

  it("leaves other metrics' violations alone (tiers evaluate different metrics)", () => {
    const fired = evaluate(defaultPolicy, new Map(), measure(snapshot(97), all), all, 0)
    const storageOnly: ReadonlySet<Metric> = new Set(["storage"])
    const after = evaluate(defaultPolicy, fired.states, measure(snapshot(97), storageOnly), storageOnly, 1000)
    expect(after.transitions).toEqual([])
  })

  it("refuses a hysteresis that would never let a violation clear", () => {
    expect(policyFromConfig({ cpu: { hysteresis: 96 } })).toEqual(Either.left("cpu: hysteresis 96 must be below the lowest level (95), or it could never clear"))
  })

  it("applies overrides by node, guest, tag and storage, later ones winning", () => {
    const policy = Either.getOrThrow(policyFromConfig({
      disk: { levels: [{ severity: "warning", above: 50 }] },
      overrides: [
        { metric: "disk", match: { node: "pve1" }, levels: [{ severity: "error", above: 60 }] },
        { metric: "disk", match: { tag: "scratch" }, disabled: true },
        { metric: "disk", match: { vmid: 101 }, levels: [{ severity: "critical", above: 70 }], for: "2 minutes" }
      ]
    }))
    const [node, guest] = measure(snapshot(65), new Set(["disk"]))
    expect(ruleFor(policy, node!)?.levels).toEqual([{ severity: "error", above: 60 }])
    expect(ruleFor(policy, guest!)).toEqual({ levels: [{ severity: "critical", above: 70 }], hysteresis: 5, forMs: 120_000 })
    const [, scratch] = measure(snapshot(65, ["scratch"]), new Set(["disk"]))
    expect(ruleFor(policy, { ...scratch!, vmid: 999 })).toBeUndefined()
  })
})

describe("measuring only what evaluate would act on", () => {
  const fc = FastCheck
  const figure = fc.oneof(fc.constant(undefined), fc.constantFrom(0, 50, 84.9, 85.1, 90.1, 95.1, 99), fc.double({ min: 0, max: 100, noNaN: true }))
  const arbGuest = fc.record({
    vmid: fc.integer({ min: 100, max: 112 }),
    kind: fc.constantFrom("qemu" as const, "lxc" as const),
    node: fc.constantFrom("pve1", "pve2"),
    status: fc.constantFrom("running" as const, "running" as const, "stopped" as const),
    template: fc.constantFrom(false, false, false, true),
    tags: fc.subarray(["web", "scratch"]),
    cpu: figure.map((v) => (v === undefined ? undefined : v / 100)),
    mem: figure,
    disk: figure
  }).map(({ cpu, mem, disk, ...g }) => ({
    ...g,
    name: `g${g.vmid}`,
    ...(cpu === undefined ? {} : { cpu }),
    ...(mem === undefined ? {} : { mem, maxmem: 100 }),
    ...(disk === undefined ? {} : { disk, maxdisk: 100 })
  }))
  const arbSnapshot = (takenAt: number) =>
    fc.uniqueArray(arbGuest, { selector: (g) => g.vmid, maxLength: 8 }).map((guests): Snapshot => ({
      source: "test",
      takenAt,
      nodes: [{ name: "pve1", status: "online", cpu: 0.5, mem: 90, maxmem: 100 }, { name: "pve2", status: "online" }],
      guests,
      storage: [{ node: "pve1", storage: "local", status: "available", used: 96, total: 100, shared: false }],
      portConflicts: [],
      services: []
    }))
  const arbPolicy = fc.constantFrom(
    defaultPolicy,
    Either.getOrThrow(policyFromConfig({
      cpu: { levels: [{ severity: "warning", above: 40 }], for: "2 seconds" },
      overrides: [
        { metric: "disk", match: { tag: "scratch" }, disabled: true },
        { metric: "mem", match: { vmid: 103 }, levels: [{ severity: "critical", above: 20 }] },
        { metric: "cpu", match: { node: "pve2" }, levels: [{ severity: "error", above: 70 }], for: "0 seconds" }
      ]
    }))
  )
  const arbMetrics = fc.subarray<Metric>(["cpu", "mem", "disk", "storage"], { minLength: 1 }).map((m) => new Set(m))

  it.prop("evaluate gives the same states and transitions, round after round", [arbPolicy, arbMetrics, fc.array(arbSnapshot(0), { minLength: 1, maxLength: 4 })], ([policy, metrics, rounds]) => {
    let all: ReturnType<typeof evaluate>["states"] = new Map()
    let some: ReturnType<typeof evaluate>["states"] = new Map()
    rounds.forEach((round, i) => {
      const s = { ...round, takenAt: i * 1000 }
      const everything = evaluate(policy, all, measure(s, metrics), metrics, s.takenAt)
      const focused = evaluate(policy, some, measure(s, metrics, { policy, states: some }), metrics, s.takenAt)
      expect(focused.transitions).toStrictEqual(everything.transitions)
      expect([...focused.states]).toStrictEqual([...everything.states])
      all = everything.states
      some = focused.states
    })
  }, { fastCheck: { numRuns: 2000 } })
})
