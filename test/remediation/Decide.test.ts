import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import type { Silence } from "../../src/domain/Silence.js"
import type { Guest, Snapshot } from "../../src/domain/Snapshot.js"
import { attemptsInWindow, type Context, decide, type Decision, effectiveLevel, type IncidentFacts, type PastAction, type TaskEntry } from "../../src/remediation/Decide.js"
import { type AutonomyLevel, defaultPolicy, type Policy } from "../../src/remediation/Policy.js"

// Biased towards the acting levels, so that the guardrails, not the ladder, are what is tested most.
const arbLevel = FastCheck.constantFrom<AutonomyLevel>(0, 1, 2, 3, 3, 4, 4, 4)

/** Undefined three times in four: each guardrail fires often, but not so often that nothing acts. */
const sometimes = <A>(arb: FastCheck.Arbitrary<A>) =>
  FastCheck.oneof({ arbitrary: FastCheck.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 })

const arbGuest: FastCheck.Arbitrary<Guest> = FastCheck.record({
  kind: FastCheck.constant("qemu" as const),
  vmid: FastCheck.constant(101),
  name: FastCheck.constant("db"),
  node: FastCheck.constantFrom("pve1", "pve2"),
  status: FastCheck.constantFrom("stopped" as const, "stopped" as const, "stopped" as const, "running" as const),
  tags: FastCheck.oneof(
    { arbitrary: FastCheck.constant(["prod"]), weight: 3 },
    { arbitrary: FastCheck.subarray(["prod", "protected", "db"]), weight: 1 }
  ),
  template: FastCheck.constant(false),
  hastate: sometimes(FastCheck.constantFrom("started", "ignored")),
  lock: sometimes(FastCheck.constantFrom("backup", "migrate", "snapshot"))
}).map((g) => Object.fromEntries(Object.entries(g).filter(([, v]) => v !== undefined)) as unknown as Guest)

const arbSnapshot: FastCheck.Arbitrary<Snapshot> = FastCheck.record({
  guest: arbGuest,
  pve1: FastCheck.constantFrom("online" as const, "offline" as const, "online" as const, "online" as const),
  pve2: FastCheck.constantFrom("online" as const, "offline" as const, "online" as const, "online" as const),
  quorate: FastCheck.constantFrom(true, true, true, false, undefined)
}).map(({ guest, pve1, pve2, quorate }) => ({
  source: "test",
  takenAt: 0,
  nodes: [{ name: "pve1", status: pve1 }, { name: "pve2", status: pve2 }],
  guests: [guest],
  storage: [],
  portConflicts: [],
  services: [],
  ...(quorate === undefined ? {} : { quorate })
}))

const arbTasks: FastCheck.Arbitrary<ReadonlyArray<TaskEntry> | undefined> = FastCheck.option(
  FastCheck.oneof(FastCheck.constant([]), FastCheck.constant([]), FastCheck.array(FastCheck.record({
    type: FastCheck.constantFrom("qmstart", "qmstop", "qmshutdown", "vzdump", "qmigrate", "qmconfig"),
    id: FastCheck.constantFrom("101", "102"),
    user: FastCheck.constantFrom("root@pam", "vigil@pve!token"),
    starttime: FastCheck.integer({ min: 0, max: 4000 })
  }), { maxLength: 4 })),
  { nil: undefined, freq: 10 }
)

const arbPolicy: FastCheck.Arbitrary<Policy> = FastCheck.record({
  level: arbLevel,
  cap: arbLevel,
  maxAttempts: FastCheck.integer({ min: 1, max: 4 }),
  cooldownMs: FastCheck.constantFrom(0, 30_000, 120_000),
  maxConcurrent: FastCheck.integer({ min: 1, max: 3 }),
  protectedVmids: FastCheck.oneof({ arbitrary: FastCheck.constant([200]), weight: 3 }, { arbitrary: FastCheck.constant([101]), weight: 1 })
}).map(({ level, cap, maxAttempts, cooldownMs, maxConcurrent, protectedVmids }) => ({
  ...defaultPolicy,
  runbooks: defaultPolicy.runbooks.map((r) => (r.condition === "VM_CRASHED" ? { ...r, level } : r)),
  cap,
  maxAttempts,
  cooldownMs,
  maxConcurrent,
  protectedVmids,
  windowMs: 3_600_000
}))

const incident: IncidentFacts = { id: "i-1", key: "VM_CRASHED:qemu/101", condition: "VM_CRASHED", target: "qemu/101", node: "pve1", severity: "error", openedAt: 1_000_000 }

/** Runs the engine's loop in miniature: decide at each clock tick and record what it did. */
const simulate = (policy: Policy, snapshot: Snapshot, tasks: ReadonlyArray<TaskEntry> | undefined, ticks: ReadonlyArray<number>, outcomes: ReadonlyArray<boolean>) => {
  const history: Array<PastAction> = []
  const decisions: Array<{ at: number; decision: Decision }> = []
  let now = incident.openedAt
  ticks.forEach((dt, i) => {
    now += dt
    const ctx: Context = { snapshot, history, inFlight: [], tasks, openIncidents: [], proposal: "none", actingUser: "vigil@pve!token", silences: [] }
    const decision = decide({ ...incident, node: snapshot.guests[0]!.node }, ctx, policy, now)
    decisions.push({ at: now, decision })
    if (decision._tag === "Act") {
      history.push({ incidentId: incident.id, action: "start_guest", result: outcomes[i % outcomes.length] ? "success" : "failure", at: now, permanent: false })
    } else if (decision._tag === "Escalate") {
      history.push({ incidentId: incident.id, action: "escalate", result: "escalated", at: now, permanent: false })
    }
  })
  return { history, decisions }
}

const arbRun = FastCheck.tuple(
  arbPolicy,
  arbSnapshot,
  arbTasks,
  FastCheck.array(FastCheck.integer({ min: 0, max: 900_000 }), { minLength: 1, maxLength: 40 }),
  FastCheck.array(FastCheck.boolean(), { minLength: 1, maxLength: 5 })
)

const runs = { fastCheck: { numRuns: 3000 } }

describe("decide: invariants over random incidents, snapshots and clocks", () => {
  it.prop("never more than N attempts per key within any window", [arbRun], ([[policy, snapshot, tasks, ticks, outcomes]]) => {
    const { history } = simulate(policy, snapshot, tasks, ticks, outcomes)
    for (const a of history) {
      expect(attemptsInWindow(history.filter((h) => h.at <= a.at), policy, a.at)).toBeLessThanOrEqual(policy.maxAttempts)
    }
  }, runs)

  it.prop("never acts above the effective autonomy level", [arbRun], ([[policy, snapshot, tasks, ticks, outcomes]]) => {
    const runbook = policy.runbooks.find((r) => r.condition === "VM_CRASHED")!
    const acted = simulate(policy, snapshot, tasks, ticks, outcomes).decisions.some((d) => d.decision._tag === "Act")
    if (effectiveLevel(runbook, policy) < 3) expect(acted).toBe(false)
  }, runs)

  it.prop("never acts on a protected, HA-managed or locked guest, on an offline node or without quorum", [arbRun], ([[policy, snapshot, tasks, ticks, outcomes]]) => {
    const g = snapshot.guests[0]!
    const forbidden =
      policy.protectedVmids.includes(g.vmid) || g.tags.some((t) => policy.protectedTags.includes(t)) ||
      (g.hastate !== undefined && g.hastate !== "ignored") || g.lock !== undefined ||
      snapshot.nodes.find((n) => n.name === g.node)?.status !== "online" || snapshot.quorate === false
    const acted = simulate(policy, snapshot, tasks, ticks, outcomes).decisions.some((d) => d.decision._tag === "Act")
    if (forbidden) expect(acted).toBe(false)
  }, runs)

  it.prop("never restarts a guest whose stop the task log explains, or whose log cannot be read", [arbRun], ([[policy, snapshot, tasks, ticks, outcomes]]) => {
    const explained = tasks === undefined || tasks.some((t) =>
      t.id === "101" && t.starttime * 1000 >= incident.openedAt - policy.causeLookbackMs &&
      (["qmstop", "qmshutdown", "vzdump", "qmigrate"].includes(t.type) || (t.user === "vigil@pve!token" && t.type !== "qmstart"))
    )
    const acted = simulate(policy, snapshot, tasks, ticks, outcomes).decisions.some((d) => d.decision._tag === "Act")
    if (explained) expect(acted).toBe(false)
  }, runs)

  it.prop("escalates exactly once per exhausted incident", [arbRun], ([[policy, snapshot, tasks, ticks, outcomes]]) => {
    const { decisions } = simulate(policy, snapshot, tasks, ticks, outcomes)
    expect(decisions.filter((d) => d.decision._tag === "Escalate").length).toBeLessThanOrEqual(1)
  }, runs)

  it("the random runs above do act and escalate often enough to make the properties meaningful", () => {
    const sample = FastCheck.sample(arbRun, { numRuns: 2000, seed: 42 })
    const outcomes = sample.map(([policy, snapshot, tasks, ticks, results]) => simulate(policy, snapshot, tasks, ticks, results).decisions)
    const acting = outcomes.filter((ds) => ds.some((d) => d.decision._tag === "Act")).length
    const escalating = outcomes.filter((ds) => ds.some((d) => d.decision._tag === "Escalate")).length
    expect(acting).toBeGreaterThan(100)
    expect(escalating).toBeGreaterThan(50)
  })

  it("tries N times, then escalates once, then waits", () => {
    const policy: Policy = { ...defaultPolicy, cooldownMs: 0, protectedTags: [] }
    const snapshot: Snapshot = {
      source: "t", takenAt: 0, storage: [], portConflicts: [], services: [], quorate: true,
      nodes: [{ name: "pve1", status: "online" }],
      guests: [{ kind: "qemu", vmid: 101, name: "db", node: "pve1", status: "stopped", tags: [], template: false }]
    }
    const { decisions } = simulate(policy, snapshot, [], [1, 1, 1, 1, 1, 1], [false])
    expect(decisions.map((d) => d.decision._tag)).toEqual(["Act", "Act", "Act", "Escalate", "Observe", "Observe"])
  })

  it("a proposal or an alert is not an attempt: neither counts against the limit nor starts the cooldown", () => {
    const snapshot: Snapshot = {
      source: "t", takenAt: 0, storage: [], portConflicts: [], services: [], quorate: true,
      nodes: [{ name: "pve1", status: "online" }],
      guests: [{ kind: "qemu", vmid: 101, name: "db", node: "pve1", status: "stopped", tags: [], template: false }]
    }
    const history: Array<PastAction> = [
      { incidentId: incident.id, action: "start_guest", result: "proposed", at: incident.openedAt, permanent: false },
      { incidentId: incident.id, action: "start_guest", result: "alerted", at: incident.openedAt, permanent: false }
    ]
    const ctx: Context = { snapshot, history, inFlight: [], tasks: [], openIncidents: [], proposal: "approved", actingUser: undefined, silences: [] }
    const policy: Policy = { ...defaultPolicy, protectedTags: [], runbooks: defaultPolicy.runbooks.map((r) => (r.condition === "VM_CRASHED" ? { ...r, level: 2 as const } : r)) }
    expect(decide(incident, ctx, policy, incident.openedAt + 1000)).toMatchObject({ _tag: "Act", attempt: 1 })
  })

  it("silences suppress (a maintenance window too), and a node outage inhibits its guests' incidents", () => {
    const ctx: Context = { snapshot: undefined, history: [], inFlight: [], tasks: [], openIncidents: [], proposal: "none", actingUser: undefined, silences: [] }
    const silence: Silence = {
      id: "m1",
      matchers: { node: "pve1" },
      startsAt: new Date(0).toISOString(),
      endsAt: new Date(2_000_000).toISOString(),
      untilResolved: false,
      recurring: null,
      createdBy: "alice",
      comment: "maintenance",
      createdAt: new Date(0).toISOString(),
      endedAt: null,
      origin: "api"
    }
    expect(decide(incident, { ...ctx, silences: [silence] }, defaultPolicy, 1_500_000)._tag).toBe("Suppress")
    expect(decide(incident, { ...ctx, silences: [silence] }, defaultPolicy, 2_500_000)._tag).not.toBe("Suppress")
    // Thursday 1 January 1970, 01:25 in Berlin: inside a Thursday 01:00–02:00 window there, outside a Friday one.
    const weekly = (day: "thu" | "fri"): Silence => ({ ...silence, endsAt: null, recurring: { days: [day], start: "01:00", end: "02:00", timeZone: "Europe/Berlin" } })
    expect(decide(incident, { ...ctx, silences: [weekly("thu")] }, defaultPolicy, 1_500_000)._tag).toBe("Suppress")
    expect(decide(incident, { ...ctx, silences: [weekly("fri")] }, defaultPolicy, 1_500_000)._tag).not.toBe("Suppress")
    const inhibited = decide(incident, { ...ctx, openIncidents: [{ key: "NODE_UNREACHABLE:node/pve1", condition: "NODE_UNREACHABLE", target: "node/pve1" }] }, defaultPolicy, 1_500_000)
    expect(inhibited).toEqual({ _tag: "Inhibit", by: "NODE_UNREACHABLE:node/pve1" })
  })
})
