/**
 * How remediation tells what it does: a `remediation.*` event per decision, with the line a
 * person reads (`summary`) and whether a person should be told (`notify`). Notifications read
 * these events; remediation never sends a message itself.
 */
import * as Effect from "effect/Effect"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import type { Severity } from "../domain/Severity.js"
import type { IncidentFacts } from "./Decide.js"

export const remediationSource = "vigil/remediation"

export interface Report {
  /** The line a person reads. */
  readonly summary: string
  /** Whether a person should be told. */
  readonly notify: boolean
  readonly [field: string]: unknown
}

export class Reporter extends Effect.Service<Reporter>()("vigil/Reporter", {
  effect: Effect.gen(function*() {
    const bus = yield* EventBus

    /** A `remediation.<outcome>` event about the incident. */
    const event = Effect.fn("Reporter.event")(function*(incident: IncidentFacts, outcome: string, severity: Severity, data: Report) {
      yield* bus.publishOne(makeEvent({
        type: `remediation.${outcome}`,
        severity,
        source: remediationSource,
        subject: incident.target,
        node: incident.node ?? undefined,
        data: { incident: incident.key, incidentId: incident.id, condition: incident.condition, ...data }
      }))
    })

    return { event } as const
  })
}) {}
