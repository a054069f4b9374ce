/**
 * An incident's timeline (pure): everything vigil knows about it, in order. Its events (with the
 * cause a detection found), remediation's decisions and actions (the start task and its
 * verification), the notifications that told it and how their delivery went, and who
 * acknowledged it; each entry with the trace it belongs to.
 */
import * as Schema from "effect/Schema"
import type { Delivery } from "./Delivery.js"
import type { StoredEvent } from "./Event.js"
import { Incident } from "./Incident.js"
import type { AuditAction } from "./Remediation.js"
import { traceContextOfEvent, traceIdOf } from "./TraceContext.js"

export const TimelineKind = Schema.Literal("event", "cause", "decision", "action", "verification", "notification", "acknowledgement")
export type TimelineKind = typeof TimelineKind.Type

export const TimelineEntry = Schema.Struct({
  at: Schema.String,
  kind: TimelineKind,
  title: Schema.String,
  detail: Schema.NullOr(Schema.String),
  traceId: Schema.NullOr(Schema.String),
  sequence: Schema.optional(Schema.Int).annotations({ description: "The event's sequence" }),
  actionId: Schema.optional(Schema.Int).annotations({ description: "The audit row of a decision or action" }),
  deliveryId: Schema.optional(Schema.String).annotations({ description: "The delivery log's row" })
}).annotations({ identifier: "TimelineEntry" })
export type TimelineEntry = typeof TimelineEntry.Type

export const IncidentTimeline = Schema.Struct({
  incident: Incident,
  traceId: Schema.NullOr(Schema.String).annotations({ description: "The trace of the poll or request that opened it" }),
  entries: Schema.Array(TimelineEntry)
}).annotations({ identifier: "IncidentTimeline" })
export type IncidentTimeline = typeof IncidentTimeline.Type

/**
 * How long after the resolve an event naming only the incident's key still belongs to it: the
 * resolving event is committed just after the incident row, never minutes later.
 */
const resolveGraceMs = 60_000

const dataOf = (event: StoredEvent): Record<string, unknown> => {
  if (event.data === undefined) return {}
  const data: unknown = JSON.parse(event.data)
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {}
}

/**
 * Whether the event is about this incident: remediation and acknowledgements name its id; the
 * watch names its key, and a key is reused when a condition fires again, so those count only
 * while this incident was open.
 */
export const belongsTo = (incident: Incident, event: StoredEvent, data = dataOf(event)): boolean => {
  if (typeof data.incidentId === "string") return data.incidentId === incident.id
  if (data.incident !== incident.key) return false
  const at = event.receivedAt
  return at >= Date.parse(incident.openedAt) && (incident.resolvedAt === null || at <= Date.parse(incident.resolvedAt) + resolveGraceMs)
}

const text = (value: unknown) => (typeof value === "string" ? value : null)

const eventEntries = (incident: Incident, event: StoredEvent): Array<TimelineEntry> => {
  const data = dataOf(event)
  if (!belongsTo(incident, event, data)) return []
  const traceId = traceIdOf(traceContextOfEvent(event)?.traceparent) ?? null
  const kind: TimelineKind = event.type === "incident.acknowledged" || event.type === "incident.unacknowledged" ? "acknowledgement" : "event"
  const entry: TimelineEntry = { at: event.time, kind, title: event.type, detail: text(data.summary), traceId, sequence: event.sequence }
  const cause = data.cause as { readonly kind?: unknown; readonly summary?: unknown } | undefined
  if (typeof cause?.kind !== "string") return [entry]
  return [entry, { at: event.time, kind: "cause", title: cause.kind, detail: text(cause.summary), traceId, sequence: event.sequence }]
}

const actionEntries = (action: AuditAction, traceId: string | null): Array<TimelineEntry> => {
  const acted = action.result === "success" || action.result === "failure"
  const entry: TimelineEntry = {
    at: action.timestamp,
    kind: acted ? "action" : "decision",
    title: acted ? `${action.action}: ${action.result}` : action.result,
    detail: action.resultDetails,
    traceId,
    actionId: action.id
  }
  if (action.verificationResult === null) return [entry]
  // No time of its own is stored: the verification follows its action.
  return [entry, { at: action.timestamp, kind: "verification", title: "verification", detail: action.verificationResult, traceId, actionId: action.id }]
}

const deliveryEntry = (delivery: Delivery, traceId: string | null): TimelineEntry => ({
  at: delivery.createdAt,
  kind: "notification",
  title: `${delivery.kind} to ${delivery.channel}: ${delivery.status}`,
  detail: `${delivery.title} (${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}${delivery.error === null ? "" : `; ${delivery.error}`})`,
  traceId,
  deliveryId: delivery.id
})

/** Entries at the same instant keep the order things happen in. */
const rank: Record<TimelineKind, number> = { event: 0, cause: 1, decision: 2, action: 3, verification: 4, notification: 5, acknowledgement: 6 }

export const timeline = (
  incident: Incident,
  events: ReadonlyArray<StoredEvent>,
  actions: ReadonlyArray<AuditAction>,
  deliveries: ReadonlyArray<Delivery>
): IncidentTimeline => {
  const traceId = traceIdOf(incident.traceparent) ?? null
  const entries = [
    ...events.flatMap((e) => eventEntries(incident, e)),
    ...actions.filter((a) => a.incidentId === incident.id).flatMap((a) => actionEntries(a, traceId)),
    ...deliveries.map((d) => deliveryEntry(d, traceId))
  ]
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank[a.kind] - rank[b.kind] || (a.sequence ?? 0) - (b.sequence ?? 0))
  return { incident, traceId, entries }
}
