/**
 * How remediation tells what it does: a `remediation.*` event per decision, a notice to the
 * configured channels (and the audit row marked when the mail was accepted), and one recovery
 * notice for each notified incident once it is resolved.
 */
import * as Effect from "effect/Effect"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import { Incidents } from "../store/Incidents.js"
import { AuditRepo } from "./AuditRepo.js"
import type { IncidentFacts } from "./Decide.js"
import { NoticeLog } from "./NoticeLog.js"
import { type Notice, Notifier } from "./Notifier.js"

export const remediationSource = "vigil/remediation"

export class Reporter extends Effect.Service<Reporter>()("vigil/Reporter", {
  effect: Effect.gen(function*() {
    const bus = yield* EventBus
    const notifier = yield* Notifier
    const log = yield* NoticeLog
    const audit = yield* AuditRepo
    const incidents = yield* Incidents

    /** A `remediation.<outcome>` event about the incident. */
    const event = Effect.fn("Reporter.event")(function*(
      incident: IncidentFacts,
      outcome: string,
      severity: "info" | "warning" | "error" | "critical",
      data: Record<string, unknown>
    ) {
      yield* bus.publishOne(makeEvent({
        type: `remediation.${outcome}`,
        severity,
        source: remediationSource,
        subject: incident.target,
        node: incident.node ?? undefined,
        data: { incident: incident.key, incidentId: incident.id, condition: incident.condition, ...data }
      }))
    })

    /** Notifies every channel; the incident will get its recovery notice, the audit row its `email_sent`. */
    const notify = Effect.fn("Reporter.notify")(function*(
      incident: IncidentFacts,
      auditId: number | undefined,
      notice: Omit<Notice, "incidentKey" | "incidentId">
    ) {
      if (notifier.channels === 0) return
      const { emailSent } = yield* notifier.notify({ ...notice, incidentKey: incident.key, incidentId: incident.id })
      yield* log.markNotified(incident.id, incident.key)
      if (emailSent && auditId !== undefined) yield* audit.markEmailSent(auditId)
    })

    /** Each incident that was notified gets one recovery notice once it is resolved. */
    const recoveries = Effect.gen(function*() {
      for (const n of yield* log.awaitingRecovery) {
        const incident = yield* incidents.byId(n.incidentId)
        if (incident === undefined || incident.status !== "resolved") continue
        yield* notifier.notify({
          kind: "recovery",
          severity: "info",
          title: `Recovered: ${incident.summary}`,
          text: `${incident.condition} on ${incident.target} resolved at ${incident.resolvedAt} after ${incident.durationSeconds} s.`,
          incidentKey: incident.key,
          incidentId: incident.id
        })
        yield* log.markRecoverySent(incident.id)
      }
    }).pipe(Effect.withSpan("Reporter.recoveries"))

    return { event, notify, recoveries } as const
  }),
  dependencies: [Notifier.Default, NoticeLog.Default, AuditRepo.Default]
}) {}
