/**
 * The notification lifecycle's promises, over random histories: incidents that open, resolve,
 * flap, get acknowledged and silenced, escalations arriving, and time passing in uneven steps.
 * Each run drives `step` the way the service does and checks every message it decided.
 */
import { describe, expect, it } from "@effect/vitest"
import * as FastCheck from "effect/FastCheck"
import type { Silence } from "../../src/domain/Silence.js"
import { type Alert, budgeted, type Message, type Note } from "../../src/notify/Alerts.js"
import { emptyState, type LifecycleSettings, step } from "../../src/notify/Lifecycle.js"
import { channelsFor } from "../../src/notify/Routes.js"

const minute = 60_000
const hour = 60 * minute

const settings: LifecycleSettings = {
  groupBy: ["node", "condition"],
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * minute,
  repeatIntervalMs: 4 * hour,
  budget: 4,
  flap: { count: 3, windowMs: 30 * minute },
  channels: ["mail", "chat"],
  // Mail takes errors and worse, chat everything from warning.
  route: channelsFor([{ channels: ["mail"], severity: "error" }, { channels: ["chat"], severity: "warning" }])
}

interface Planned {
  readonly alert: Omit<Alert, "acknowledged" | "resolvedAt">
  readonly resolvedAt: number | null
  readonly ackAt: number | null
  readonly escalateAt: number | null
}

/** A key that fires now and then, or one that flaps (short firings close together). */
const arbFiring = (flappy: boolean) =>
  FastCheck.record({
    gap: flappy ? FastCheck.integer({ min: 0, max: 8 * minute }) : FastCheck.integer({ min: 0, max: 90 * minute }),
    length: flappy
      ? FastCheck.integer({ min: 1_000, max: 8 * minute })
      : FastCheck.option(FastCheck.integer({ min: 1_000, max: 5 * hour }), { nil: null }),
    ackAfter: FastCheck.option(FastCheck.integer({ min: 0, max: 2 * hour }), { nil: null }),
    escalateAfter: FastCheck.option(FastCheck.integer({ min: 0, max: hour }), { nil: null, freq: 4 })
  })

/** Up to 8 keys, each a run of non-overlapping incidents. */
const arbHistory = FastCheck.array(
  FastCheck.boolean().chain((flappy) =>
    FastCheck.record({
      node: FastCheck.constantFrom("pve1", "pve2"),
      condition: FastCheck.constantFrom("VM_CRASHED", "DISK_HIGH", "NODE_UNREACHABLE"),
      severity: FastCheck.constantFrom("warning" as const, "error" as const, "critical" as const),
      firings: FastCheck.array(arbFiring(flappy), { minLength: 1, maxLength: flappy ? 10 : 5 })
    })
  ),
  { minLength: 1, maxLength: 8 }
).map((keys): Array<Planned> =>
  keys.flatMap((k, ki) => {
    let t = 0
    const out: Array<Planned> = []
    for (const [fi, f] of k.firings.entries()) {
      const openedAt = t + f.gap
      const resolvedAt = f.length === null ? null : openedAt + f.length
      const target = k.condition === "NODE_UNREACHABLE" ? `node/${k.node}` : `qemu/${100 + ki}`
      out.push({
        alert: {
          id: `${ki}-${fi}`,
          key: `${k.condition}:${target}`,
          condition: k.condition,
          target,
          node: k.node,
          severity: k.severity,
          summary: `${k.condition} on ${target}`,
          tags: ki === 0 ? ["db"] : [],
          openedAt
        },
        resolvedAt,
        ackAt: f.ackAfter === null ? null : openedAt + f.ackAfter,
        escalateAt: f.escalateAfter === null ? null : openedAt + f.escalateAfter
      })
      if (resolvedAt === null) break
      t = resolvedAt + 1
    }
    return out
  })
)

/** A silence for everything tagged `db`, for the whole run, or none. */
const arbSilences = FastCheck.boolean().map((on): Array<Silence> =>
  on
    ? [{
      id: "s1",
      matchers: { tag: "db" },
      startsAt: new Date(0).toISOString(),
      endsAt: null,
      untilResolved: false,
      recurring: null,
      createdBy: "test",
      comment: "",
      createdAt: new Date(0).toISOString(),
      endedAt: null,
      origin: "api"
    }]
    : []
)

const arbTicks = FastCheck.array(FastCheck.integer({ min: 5_000, max: 10 * minute }), { minLength: 10, maxLength: 40 })

/** Runs the lifecycle over the history until well after everything settled; every message, when. */
const run = (history: ReadonlyArray<Planned>, silences: ReadonlyArray<Silence>, ticks: ReadonlyArray<number>) => {
  const end = Math.max(...history.map((p) => Math.max(p.alert.openedAt, p.resolvedAt ?? 0))) + 2 * hour
  const sent: Array<{ readonly at: number; readonly message: Message }> = []
  let state = emptyState
  let now = 0
  let escalated = new Set<string>()
  for (let i = 0; now <= end; i++) {
    const tick = ticks[i % ticks.length]!
    const alerts: Array<Alert> = history
      .filter((p) => p.alert.openedAt <= now)
      .map((p) => {
        const resolved = p.resolvedAt !== null && p.resolvedAt <= now
        return { ...p.alert, resolvedAt: resolved ? p.resolvedAt : null, acknowledged: !resolved && p.ackAt !== null && p.ackAt <= now }
      })
    const notes: Array<Note> = history
      .filter((p) => p.escalateAt !== null && p.escalateAt <= now && !escalated.has(p.alert.id) && (p.resolvedAt === null || p.escalateAt < p.resolvedAt))
      .map((p) => ({ incidentId: p.alert.id, kind: "escalation" as const, severity: "critical" as const, title: "Needs a person", text: "", at: now }))
    escalated = new Set([...escalated, ...notes.map((n) => n.incidentId)])
    const outcome = step(state, { now, alerts, notes, silences }, settings)
    state = outcome.state
    for (const message of outcome.messages) sent.push({ at: now, message })
    now += tick
  }
  return { sent, end }
}

const mentions = (sent: ReadonlyArray<{ readonly at: number; readonly message: Message }>, id: string, channel: string) =>
  sent.flatMap(({ at, message }) =>
    message.channel !== channel ? [] : message.items.filter((i) => i.alert.id === id).map((i) => ({ at, as: i.as, kind: message.kind })))

const runs = { fastCheck: { numRuns: 200 } }
const arbRun = FastCheck.tuple(arbHistory, arbSilences, arbTicks)

describe("the notification lifecycle: promises over random histories", () => {
  it.prop("a firing that was told always gets its resolve", [arbRun], ([[history, silences, ticks]]) => {
    const { sent } = run(history, silences, ticks)
    for (const p of history) {
      if (p.resolvedAt === null) continue
      for (const channel of settings.channels) {
        const seen = mentions(sent, p.alert.id, channel)
        const told = seen.some((m) => m.at < p.resolvedAt! && m.as !== "resolved" && m.as !== "settled" && m.as !== "flapping")
        if (told) expect(seen.some((m) => m.as === "resolved" && m.at >= p.resolvedAt!)).toBe(true)
      }
    }
  }, runs)

  it.prop("no channel sends more than its budget in a clock hour, besides resolves, escalations and digests", [arbRun], ([[history, silences, ticks]]) => {
    const { sent } = run(history, silences, ticks)
    const perHour = new Map<string, number>()
    for (const { at, message } of sent) {
      if (!budgeted(message)) continue
      const k = `${message.channel}@${Math.floor(at / hour)}`
      perHour.set(k, (perHour.get(k) ?? 0) + 1)
    }
    for (const n of perHour.values()) expect(n).toBeLessThanOrEqual(settings.budget)
  }, runs)

  it.prop("an acknowledged incident is not repeated", [arbRun], ([[history, silences, ticks]]) => {
    const { sent } = run(history, silences, ticks)
    for (const p of history) {
      if (p.ackAt === null || (p.resolvedAt !== null && p.resolvedAt <= p.ackAt)) continue
      for (const channel of settings.channels) {
        const after = mentions(sent, p.alert.id, channel).filter((m) => m.at >= p.ackAt! && m.kind === "alert")
        expect(after.filter((m) => m.as === "repeat" || m.as === "firing" || m.as === "update")).toEqual([])
      }
    }
  }, runs)

  it.prop("nothing is sent about a silenced incident", [arbRun], ([[history, silences, ticks]]) => {
    const { sent } = run(history, silences, ticks)
    if (silences.length === 0) return
    for (const p of history.filter((p) => p.alert.tags.includes("db"))) {
      for (const channel of settings.channels) expect(mentions(sent, p.alert.id, channel)).toEqual([])
    }
  }, runs)

  it.prop("no incident is repeated sooner than the repeat interval", [arbRun], ([[history, silences, ticks]]) => {
    const { sent } = run(history, silences, ticks)
    for (const p of history) {
      for (const channel of settings.channels) {
        const seen = mentions(sent, p.alert.id, channel)
        seen.forEach((m, i) => {
          // Without an earlier message, it was told only as a count in a digest: after it opened, at the earliest.
          const before = seen[i - 1]?.at ?? p.alert.openedAt
          if (m.as === "repeat") expect(m.at - before).toBeGreaterThanOrEqual(settings.repeatIntervalMs)
        })
      }
    }
  }, runs)

  it.prop("each channel hears only what its route takes", [arbRun], ([[history, silences, ticks]]) => {
    const { sent } = run(history, silences, ticks)
    for (const { message } of sent) {
      if (message.channel === "mail") for (const i of message.items) expect(i.alert.severity).not.toBe("warning")
    }
  }, runs)
})

describe("the notification lifecycle, by example", () => {
  const alert = (id: string, at: number, fields: Partial<Alert> = {}): Alert => ({
    id,
    key: `VM_CRASHED:qemu/${id}`,
    condition: "VM_CRASHED",
    target: `qemu/${id}`,
    node: "pve2",
    severity: "error",
    summary: `VM ${id} crashed`,
    tags: [],
    openedAt: at,
    resolvedAt: null,
    acknowledged: false,
    ...fields
  })
  const one = { ...settings, channels: ["chat"], route: () => ["chat"] }

  it("waits group_wait, then tells a group in one message; later ones wait group_interval", () => {
    let s = step(emptyState, { now: 0, alerts: [alert("1", 0)], notes: [], silences: [] }, one)
    expect(s.messages).toEqual([])
    s = step(s.state, { now: 20_000, alerts: [alert("1", 0), alert("2", 20_000)], notes: [], silences: [] }, one)
    expect(s.messages).toEqual([])
    s = step(s.state, { now: 30_000, alerts: [alert("1", 0), alert("2", 20_000)], notes: [], silences: [] }, one)
    expect(s.messages.map((m) => m.items.map((i) => [i.alert.id, i.as]))).toEqual([[["1", "firing"], ["2", "firing"]]])
    s = step(s.state, { now: 60_000, alerts: [alert("1", 0), alert("2", 20_000), alert("3", 60_000)], notes: [], silences: [] }, one)
    expect(s.messages).toEqual([])
    s = step(s.state, { now: 330_000, alerts: [alert("1", 0), alert("2", 20_000), alert("3", 60_000)], notes: [], silences: [] }, one)
    expect(s.messages.map((m) => m.items.map((i) => [i.alert.id, i.as]))).toEqual([[["3", "firing"]]])
  })

  it("keeps a resolve that inhibition would have swallowed", () => {
    const node = alert("n", 60_000, { key: "NODE_UNREACHABLE:node/pve2", condition: "NODE_UNREACHABLE", target: "node/pve2", severity: "critical" })
    let s = step(emptyState, { now: 0, alerts: [alert("1", 0)], notes: [], silences: [] }, one)
    s = step(s.state, { now: 30_000, alerts: [alert("1", 0)], notes: [], silences: [] }, one)
    expect(s.messages).toHaveLength(1)
    // The node goes down (muting VM 1), and VM 1's incident resolves meanwhile.
    s = step(s.state, { now: 400_000, alerts: [alert("1", 0, { resolvedAt: 390_000 }), node], notes: [], silences: [] }, one)
    expect(s.messages.flatMap((m) => m.items.map((i) => [i.alert.id, i.as]))).toEqual([["1", "resolved"]])
  })

  it("holds back past the budget, and tells what it held in one digest when the hour ends", () => {
    const tight = { ...one, budget: 1, groupBy: ["target" as const] }
    const alerts = [alert("1", 0), alert("2", 0), alert("3", 0)]
    let s = step(emptyState, { now: 0, alerts, notes: [], silences: [] }, tight)
    s = step(s.state, { now: 30_000, alerts, notes: [], silences: [] }, tight)
    expect(s.messages).toHaveLength(1)
    s = step(s.state, { now: hour + 1, alerts, notes: [], silences: [] }, tight)
    expect(s.messages.map((m) => [m.kind, m.digest?.held.length])).toEqual([["digest", 2]])
  })
})
