/**
 * What detection found, as events and incident operations: the pieces every detector's findings
 * share. One module per kind of detection decides its event types, severities and wording
 * (ChangeFindings, ThresholdFindings, SourceHealth).
 */
import type { Cause } from "../domain/Cause.js"
import { makeEvent } from "../domain/Event.js"
import type { Finding, IncidentOp } from "../domain/Incident.js"
import type { Severity } from "../domain/Severity.js"

export type { Finding, IncidentOp }

export const monitorSource = "vigil/monitor"

/** An event from the monitor, and the incident operation beside it; a cause goes in data and in the `cause` attribute. */
export const finding = (
  fields: {
    readonly type: string
    readonly severity: Severity
    readonly subject: string
    readonly node?: string | undefined
    readonly data: Record<string, unknown>
    readonly cause?: Cause | undefined
  },
  incident?: IncidentOp
): Finding => ({
  event: makeEvent({
    type: fields.type,
    severity: fields.severity,
    subject: fields.subject,
    node: fields.node,
    source: monitorSource,
    data: {
      ...fields.data,
      ...(fields.cause === undefined ? {} : { cause: fields.cause }),
      ...(incident ? { incident: incident.key } : {})
    },
    extensions: fields.cause === undefined ? undefined : { cause: fields.cause.kind }
  }),
  incident
})

/** The one event a check sends when it switches itself off (not installed, or not permitted): what is not watched, and why. */
export const unavailableEvent = (type: string, subject: string, reason: string, summary: string) =>
  makeEvent({ type, source: monitorSource, subject, data: { reason, summary } })

export const pct = (v: number | undefined) => (v === undefined ? "n/a" : `${v.toFixed(1)}%`)
