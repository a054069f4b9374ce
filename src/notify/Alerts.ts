/**
 * What the notification lifecycle works on: incidents as alerts (with the guest's tags, for
 * silences), notes remediation adds to them, and the messages it decides to send. Also the two
 * pure rules that decide whether an alert may be told at all: silences, and inhibition (a cause
 * that is already being told mutes its consequences).
 */
import * as Schema from "effect/Schema"
import { type Silence, silencing } from "../domain/Silence.js"
import { Severity } from "../domain/Severity.js"

/** The source of the events notifications publish (acknowledgements, flapping, digests). */
export const alertSource = "vigil/notify"

/** An incident as the lifecycle sees it. Times are epoch ms. */
export const Alert = Schema.Struct({
  id: Schema.String,
  key: Schema.String,
  condition: Schema.String,
  target: Schema.String,
  node: Schema.NullOr(Schema.String),
  severity: Severity,
  summary: Schema.String,
  tags: Schema.Array(Schema.String),
  openedAt: Schema.Number,
  resolvedAt: Schema.NullOr(Schema.Number),
  acknowledged: Schema.Boolean,
  /** The trace that opened the incident: its notices continue it. Absent in state stored before traces. */
  traceparent: Schema.optional(Schema.String)
})
export type Alert = typeof Alert.Type

/**
 * Something remediation did or needs about an incident, from its `remediation.*` events. An
 * escalation or a proposal needs a person now and goes at once; what vigil did (an action, a
 * guardrail that stopped it) rides with the incident's next message.
 */
export const Note = Schema.Struct({
  incidentId: Schema.String,
  kind: Schema.Literal("action", "blocked", "proposal", "escalation"),
  severity: Severity,
  title: Schema.String,
  text: Schema.String,
  at: Schema.Number
})
export type Note = typeof Note.Type

export const isUrgent = (note: Note) => note.kind === "escalation" || note.kind === "proposal"

/** How an alert appears in a message. */
export const Mention = Schema.Literal(
  "firing", // told for the first time (or again, at a higher severity)
  "repeat", // still firing, told again after the repeat interval
  "update", // already told; carries new notes
  "resolved", // told before, resolved now
  "settled", // never told, resolved, but with notes worth telling (vigil fixed it)
  "flapping", // started flapping: told once, then quiet until it is stable
  "stable" // stopped flapping; told in its current state
)
export type Mention = typeof Mention.Type

export const Item = Schema.Struct({ alert: Alert, as: Mention, notes: Schema.Array(Note) })
export type Item = typeof Item.Type

export const MessageKind = Schema.Literal("alert", "escalation", "proposal", "flapping", "stable", "digest", "test")
export type MessageKind = typeof MessageKind.Type

/** A summary of what the storm budget held back on a channel in one hour. */
export const Digest = Schema.Struct({
  hourStart: Schema.Number,
  held: Schema.Array(Schema.Struct({ condition: Schema.String, node: Schema.NullOr(Schema.String), key: Schema.String }))
})
export type Digest = typeof Digest.Type

/** One message to one channel; stored with its delivery, so a dead letter can be sent again as it was. */
export const Message = Schema.Struct({
  channel: Schema.String,
  kind: MessageKind,
  /** The group it tells (grouped messages); the items' own groups otherwise. */
  group: Schema.optional(Schema.String),
  items: Schema.Array(Item),
  digest: Schema.optional(Digest),
  /** A flapping or stable notice: how often the condition fired in the window. */
  openings: Schema.optional(Schema.Number)
})
export type Message = typeof Message.Type

/** Messages that count against a channel's hourly budget: all but resolves, escalations and digests. */
export const budgeted = (m: Message): boolean =>
  m.kind !== "escalation" && m.kind !== "digest" && m.kind !== "test" && m.items.some((i) => i.as !== "resolved")

/** The labels notifications can be grouped by (`VIGIL_NOTIFY_GROUP_BY`). */
export const GroupLabel = Schema.Literal("node", "condition", "target", "severity")
export type GroupLabel = typeof GroupLabel.Type

/** The group an alert belongs to on a channel: the channel and the values of the grouping labels. */
export const groupId = (channel: string, alert: Alert, by: ReadonlyArray<GroupLabel>): string =>
  [channel, ...by.map((label) => `${label}=${alert[label] ?? "-"}`)].join("|")

/** The silence that mutes the alert now, if any. */
export const silenceOf = (silences: ReadonlyArray<Silence>, alert: Alert, now: number): Silence | undefined =>
  silencing(silences, alert, now)

/**
 * The open alert that mutes this one, if any: a node that is down mutes what runs on it, an
 * unavailable storage its capacity alerts, and lost quorum the alerts about single nodes (in a
 * partition every node looks unreachable from one side). The muted alert's resolve is still told
 * if its firing was.
 */
export const inhibitorOf = (alert: Alert, open: ReadonlyArray<Alert>): Alert | undefined =>
  open.find((o) => {
    if (o.id === alert.id || o.resolvedAt !== null) return false
    if (o.condition === "NODE_UNREACHABLE") {
      return alert.condition !== "NODE_UNREACHABLE" && alert.node !== null && o.target === `node/${alert.node}`
    }
    if (o.condition === "STORAGE_UNAVAILABLE") {
      return alert.condition.startsWith("STORAGE_") && alert.condition !== "STORAGE_UNAVAILABLE" && o.target === alert.target
    }
    if (o.condition === "QUORUM_LOST") return alert.target.startsWith("node/")
    return false
  })
