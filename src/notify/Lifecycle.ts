/**
 * The notification lifecycle, as a pure function of (state, incidents, notes, silences, time):
 * which messages go to which channel now, and the state to remember. Alertmanager's grouping
 * (`group_wait` before a new group's first message, `group_interval` between messages of a
 * group, `repeat_interval` before an unchanged alert is told again) with what it lacks:
 * acknowledgement (no repeats), inhibition that keeps resolves, flapping as one state, and a
 * storm budget per channel with a digest.
 *
 * The promises, property-tested: an alert whose firing was told gets its resolve, whatever muted
 * it since; a channel sends at most its budget per hour besides resolves, escalations and
 * digests; an acknowledged alert is not repeated; a silenced alert is never told; no alert is
 * repeated sooner than the repeat interval.
 */
import * as Schema from "effect/Schema"
import type { Silence } from "../domain/Silence.js"
import { Severity, severityRank } from "../domain/Severity.js"
import {
  type Alert,
  type GroupLabel,
  groupId,
  inhibitorOf,
  isUrgent,
  type Item,
  type Mention,
  type Message,
  Note,
  silenceOf
} from "./Alerts.js"
import { applyBudget } from "./Budget.js"
import { type FlapChange, flapChanges, type FlapSettings } from "./Flapping.js"

/** An alert told on one channel: in which group, when, at which severity, and whether its resolve is owed. */
const Told = Schema.Struct({
  group: Schema.String,
  lastAt: Schema.Number,
  severity: Severity,
  resolveOwed: Schema.Boolean
})
type Told = typeof Told.Type

const Tracked = Schema.Struct({
  channels: Schema.Record({ key: Schema.String, value: Told }),
  /** Notes not yet told, per channel. */
  notes: Schema.Record({ key: Schema.String, value: Schema.Array(Note) })
})

export const LifecycleState = Schema.Struct({
  incidents: Schema.Record({ key: Schema.String, value: Tracked }),
  groups: Schema.Record({ key: Schema.String, value: Schema.Struct({ firstSeenAt: Schema.Number, lastSentAt: Schema.NullOr(Schema.Number) }) }),
  budgets: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({
      hour: Schema.Number,
      used: Schema.Number,
      held: Schema.Array(Schema.Struct({ condition: Schema.String, node: Schema.NullOr(Schema.String), key: Schema.String }))
    })
  }),
  flapping: Schema.Record({ key: Schema.String, value: Schema.Struct({ since: Schema.Number }) })
})
export type LifecycleState = typeof LifecycleState.Type

export const emptyState: LifecycleState = { incidents: {}, groups: {}, budgets: {}, flapping: {} }

export interface LifecycleSettings {
  readonly groupBy: ReadonlyArray<GroupLabel>
  readonly groupWaitMs: number
  readonly groupIntervalMs: number
  readonly repeatIntervalMs: number
  /** Messages per channel per hour. */
  readonly budget: number
  readonly flap: FlapSettings
  readonly channels: ReadonlyArray<string>
  /** The channels an alert goes to. */
  readonly route: (alert: Alert) => ReadonlyArray<string>
}

export interface Observation {
  readonly now: number
  /** Open incidents, those opened or resolved within two flap windows, and every one the state tracks. */
  readonly alerts: ReadonlyArray<Alert>
  /** Notes that arrived since the last step. */
  readonly notes: ReadonlyArray<Note>
  readonly silences: ReadonlyArray<Silence>
}

export interface Outcome {
  readonly state: LifecycleState
  /** What to send now, budget applied. */
  readonly messages: ReadonlyArray<Message>
  readonly flaps: ReadonlyArray<FlapChange>
}

type Working = Map<string, { channels: Record<string, Told>; notes: Record<string, ReadonlyArray<Note>> }>

/** How an alert is mentioned on a channel now, or not at all. */
const mentionOf = (
  alert: Alert,
  told: Told | undefined,
  notes: ReadonlyArray<Note>,
  muted: boolean,
  flapping: boolean,
  settings: LifecycleSettings,
  now: number
): Mention | undefined => {
  if (alert.resolvedAt !== null) {
    if (told?.resolveOwed === true) return flapping ? undefined : "resolved"
    return told === undefined && notes.length > 0 && !muted && !alert.acknowledged ? "settled" : undefined
  }
  if (muted || alert.acknowledged) return undefined
  if (told === undefined || severityRank(alert.severity) > severityRank(told.severity)) return "firing"
  if (now - told.lastAt >= settings.repeatIntervalMs) return "repeat"
  return notes.length > 0 ? "update" : undefined
}

export const step = (state: LifecycleState, obs: Observation, settings: LifecycleSettings): Outcome => {
  const { now } = obs
  const byId = new Map(obs.alerts.map((a) => [a.id, a]))
  const open = obs.alerts.filter((a) => a.resolvedAt === null)
  const working: Working = new Map(
    Object.entries(state.incidents).map(([id, t]) => [id, { channels: { ...t.channels }, notes: { ...t.notes } }])
  )
  const track = (id: string) => {
    let t = working.get(id)
    if (t === undefined) working.set(id, t = { channels: {}, notes: {} })
    return t
  }

  // Notes: what needs a person goes now; the rest waits for the alert's next message.
  const urgent: Array<Note> = []
  for (const note of obs.notes) {
    const alert = byId.get(note.incidentId)
    if (alert === undefined) continue
    if (isUrgent(note)) {
      urgent.push(note)
      continue
    }
    const t = track(alert.id)
    for (const channel of settings.route(alert)) t.notes[channel] = [...(t.notes[channel] ?? []), note]
  }

  const silenced = (a: Alert) => silenceOf(obs.silences, a, now) !== undefined
  const flap = flapChanges(state.flapping, obs.alerts, settings.flap, now)
  const messages: Array<Message> = []

  // A key that starts flapping is told once; its owed resolves wait for the notice that it is
  // stable again, which tells them with its final state.
  const toldNow = new Set<string>()
  const owedOn = (channel: string, a: Alert) => a.resolvedAt !== null && working.get(a.id)?.channels[channel]?.resolveOwed === true
  for (const change of flap.changes) {
    const quiet = silenced(change.latest)
    for (const channel of settings.route(change.latest)) {
      const group = groupId(channel, change.latest, settings.groupBy)
      if (change._tag === "Started") {
        if (!quiet) messages.push({ channel, kind: "flapping", group, items: [{ alert: change.latest, as: "flapping", notes: [] }], openings: change.openings })
        continue
      }
      const owed = obs.alerts.filter((a) => a.key === change.key && a.id !== change.latest.id && owedOn(channel, a))
      const items: Array<Item> = [
        ...(quiet && !owedOn(channel, change.latest) ? [] : [{ alert: change.latest, as: owedOn(channel, change.latest) ? "resolved" as const : "stable" as const, notes: [] }]),
        ...owed.map((alert) => ({ alert, as: "resolved" as const, notes: [] }))
      ]
      if (items.length > 0) messages.push({ channel, kind: quiet ? "alert" : "stable", group, items, openings: change.openings })
      for (const item of items) toldNow.add(`${channel}|${item.alert.id}`)
    }
  }

  // What needs a person goes now, and is not told again in its group's message this round.
  for (const note of urgent) {
    const alert = byId.get(note.incidentId)!
    if (silenced(alert)) continue
    for (const channel of settings.route(alert)) {
      // A note that arrives after its incident resolved tells the resolve too.
      const as: Mention = alert.resolvedAt === null ? "firing" : working.get(alert.id)?.channels[channel]?.resolveOwed ? "resolved" : "settled"
      messages.push({ channel, kind: note.kind === "escalation" ? "escalation" : "proposal", items: [{ alert, as, notes: [note] }] })
      toldNow.add(`${channel}|${alert.id}`)
    }
  }

  // Grouped messages: every alert's mention on each of its channels, sent when its group is due.
  const groups = { ...state.groups }
  const live = new Set<string>()
  const pending = new Map<string, { channel: string; items: Array<Item> }>()
  const waiting = new Set<string>()
  for (const alert of obs.alerts) {
    const t = working.get(alert.id)
    const flapping = flap.flapping[alert.key] !== undefined
    const muted = silenced(alert) || inhibitorOf(alert, open) !== undefined || flapping
    for (const channel of settings.route(alert)) {
      const told = t?.channels[channel]
      const group = told?.group ?? groupId(channel, alert, settings.groupBy)
      if (alert.resolvedAt === null || told?.resolveOwed === true) live.add(group)
      const notes = t?.notes[channel] ?? []
      const as = mentionOf(alert, told, notes, muted, flapping, settings, now)
      if (as === undefined || toldNow.has(`${channel}|${alert.id}`)) continue
      live.add(group)
      waiting.add(alert.id)
      const entry = pending.get(group) ?? { channel, items: [] }
      entry.items.push({ alert, as, notes })
      pending.set(group, entry)
    }
  }
  for (const [group, { channel, items }] of pending) {
    const g = groups[group] ?? { firstSeenAt: now, lastSentAt: null }
    groups[group] = g
    const due = g.lastSentAt === null ? now >= g.firstSeenAt + settings.groupWaitMs : now >= g.lastSentAt + settings.groupIntervalMs
    if (!due) continue
    groups[group] = { ...g, lastSentAt: now }
    messages.push({ channel, kind: "alert", group, items })
  }

  const budget = applyBudget(state.budgets, messages, settings.channels, settings.budget, now)

  // Remember what was told (and what the budget held back, told only as a count).
  const record = (channel: string, item: Item, group: string, sent: boolean) => {
    const t = track(item.alert.id)
    const before = t.channels[channel]
    delete t.notes[channel]
    // Once a firing was told, its resolve stays owed until it is told, whatever else happens to the alert.
    const tell = (sent: boolean) =>
      (t.channels[channel] = {
        group: before?.group ?? group,
        lastAt: now,
        severity: item.alert.severity,
        resolveOwed: sent || (t.channels[channel]?.resolveOwed ?? false)
      })
    switch (item.as) {
      case "firing":
      case "repeat":
      case "update":
      case "stable":
        if (item.alert.resolvedAt === null) tell(sent)
        return
      case "resolved":
      case "settled":
        if (before !== undefined) t.channels[channel] = { ...before, resolveOwed: false }
        return
      case "flapping":
        return
    }
  }
  for (const m of budget.send) {
    for (const item of m.items) record(m.channel, item, m.group ?? groupId(m.channel, item.alert, settings.groupBy), true)
  }
  for (const { channel, item } of budget.held) record(channel, item, groupId(channel, item.alert, settings.groupBy), false)

  // Forget what is over: resolved with nothing owed or waiting to be told, or no longer known.
  const incidents: Record<string, typeof Tracked.Type> = {}
  for (const [id, t] of working) {
    const alert = byId.get(id)
    if (alert === undefined) continue
    const owed = Object.values(t.channels).some((c) => c.resolveOwed)
    const notes = Object.values(t.notes).some((n) => n.length > 0)
    if (alert.resolvedAt !== null && !owed && !(notes && waiting.has(id))) continue
    incidents[id] = t
  }
  for (const group of Object.keys(groups)) if (!live.has(group)) delete groups[group]

  return {
    state: { incidents, groups, budgets: budget.budgets, flapping: flap.flapping },
    messages: budget.send,
    flaps: flap.changes
  }
}
