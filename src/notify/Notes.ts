/**
 * Notes from remediation's events: what vigil did or needs about an incident, for its next
 * message (or at once, for an escalation or a proposal). Only vigil's own remediation is read
 * (its source cannot be forged), and only what remediation marked for a person. Pure.
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { StoredEvent } from "../domain/Event.js"
import { RemediationNotice } from "../domain/EventKinds.js"
import type { Note } from "./Alerts.js"

export const remediationSource = "vigil/remediation"

const kinds: Record<string, Note["kind"]> = {
  "remediation.succeeded": "action",
  "remediation.failed": "action",
  "remediation.blocked": "blocked",
  "remediation.proposed": "proposal",
  "remediation.escalated": "escalation"
}

const decode = Schema.decodeUnknownEither(Schema.parseJson(RemediationNotice))

export const noteOf = (event: StoredEvent): Note | undefined => {
  const kind = kinds[event.type]
  if (kind === undefined || event.source !== remediationSource || event.data === undefined) return undefined
  const data = decode(event.data)
  if (Either.isLeft(data) || data.right.incidentId === undefined || data.right.notify !== true) return undefined
  const d = data.right
  return {
    incidentId: d.incidentId!,
    kind,
    severity: event.severity,
    title: d.summary ?? event.type,
    text: d.detail ?? d.reason ?? "",
    at: event.receivedAt
  }
}
