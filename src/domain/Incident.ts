/**
 * Incidents: every firing condition opens one, keyed by condition and target
 * (`VM_CRASHED:qemu/101`, `NODE_UNREACHABLE:node/pve3`; thresholds by family, `DISK:node/pve1`, so
 * an escalation stays one incident), and its resolution closes it. Detectors say what to do to an
 * incident (`IncidentOp`) beside the event that reports it (`Finding`); the store applies it.
 */
import * as Schema from "effect/Schema"
import type { NewEvent } from "./Event.js"
import { Severity } from "./Severity.js"

export const Acknowledgement = Schema.Struct({
  by: Schema.String,
  at: Schema.String,
  comment: Schema.NullOr(Schema.String)
}).annotations({ identifier: "Acknowledgement", description: "A person took it on: no repeats until it resolves" })
export type Acknowledgement = typeof Acknowledgement.Type

export const Incident = Schema.Struct({
  id: Schema.String,
  key: Schema.String,
  condition: Schema.String,
  target: Schema.String,
  node: Schema.NullOr(Schema.String),
  severity: Severity,
  status: Schema.Literal("open", "resolved"),
  summary: Schema.String,
  openedAt: Schema.String,
  lastSeenAt: Schema.String,
  resolvedAt: Schema.NullOr(Schema.String),
  durationSeconds: Schema.Number,
  count: Schema.Int,
  acknowledged: Schema.NullOr(Acknowledgement),
  traceparent: Schema.NullOr(Schema.String).annotations({
    description: "W3C trace context of the poll or request that opened it; what vigil does about it continues this trace"
  })
}).annotations({ identifier: "Incident" })
export type Incident = typeof Incident.Type

export type IncidentOp =
  | {
    readonly _tag: "Open"
    readonly key: string
    readonly condition: string
    readonly target: string
    readonly node: string | undefined
    readonly severity: Severity
    readonly summary: string
  }
  | { readonly _tag: "Change"; readonly key: string; readonly condition: string; readonly severity: Severity; readonly summary: string }
  | { readonly _tag: "Resolve"; readonly key: string; readonly summary: string }

/** An event, and what it does to an incident. */
export interface Finding {
  readonly event: NewEvent
  readonly incident: IncidentOp | undefined
}

/** `VM_CRASHED:qemu/101`. */
export const incidentKey = (condition: string, target: string) => `${condition}:${target}`
