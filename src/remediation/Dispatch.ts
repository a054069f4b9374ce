/**
 * Carrying out a decision (other than acting, which the Actor does): each is recorded in the
 * audit trail once (the same observation is not written at every review), and told as a
 * `remediation.*` event where it matters, marked for a person where one should know.
 */
import * as Effect from "effect/Effect"
import type { Incident } from "../domain/Incident.js"
import type { ActionResult } from "../domain/Remediation.js"
import { AuditRepo } from "./AuditRepo.js"
import type { Decision, IncidentFacts, PastAction } from "./Decide.js"
import type { Policy } from "./Policy.js"
import { Proposals } from "./Proposals.js"
import { Reporter } from "./Reporter.js"

/** Blocks worth a person's attention; the others are transient or are the system working. */
const notifiedGuardrails = new Set(["protected", "ha-managed", "locked", "node-offline", "no-quorum", "task-log-unavailable"])

/** The same decision is recorded once, not at every review. */
const alreadyRecorded = (history: ReadonlyArray<PastAction>, incident: IncidentFacts, result: string) =>
  history.filter((a) => a.incidentId === incident.id).at(-1)?.result === result

const observed = { Observe: "observed", Suppress: "suppressed", Inhibit: "inhibited" } as const

/** Whether carrying the decision out would do nothing: it was recorded already and says nothing new. */
export const isRepeat = (decision: Exclude<Decision, { _tag: "Act" }>, incident: IncidentFacts, history: ReadonlyArray<PastAction>) => {
  switch (decision._tag) {
    case "Observe":
    case "Suppress":
    case "Inhibit":
      return alreadyRecorded(history, incident, observed[decision._tag])
    case "Alert":
      return alreadyRecorded(history, incident, "alerted")
    case "Block":
      return alreadyRecorded(history, incident, "blocked") && history.at(-1)?.result === "blocked"
    case "Recommend":
    case "Escalate":
      return false
  }
}

export class Dispatcher extends Effect.Service<Dispatcher>()("vigil/Dispatcher", {
  effect: Effect.gen(function*() {
    const audit = yield* AuditRepo
    const proposals = yield* Proposals
    const reporter = yield* Reporter

    const dispatch = Effect.fn("Dispatcher.dispatch")(function*(
      incident: Incident,
      f: IncidentFacts,
      decision: Exclude<Decision, { _tag: "Act" }>,
      history: ReadonlyArray<PastAction>,
      policy: Policy
    ) {
      const level = "runbook" in decision ? Math.min(decision.runbook.level, policy.cap) : 0
      const record = (result: ActionResult, details: string, extra: { escalated?: boolean; action?: string } = {}) =>
        audit.save({
          incidentKey: f.key,
          incidentId: f.id,
          runbookId: "runbook" in decision ? decision.runbook.id : "none",
          condition: f.condition,
          action: extra.action ?? ("runbook" in decision ? decision.runbook.action : "observe"),
          result,
          resultDetails: details,
          autonomyLevel: level,
          node: f.node,
          escalated: extra.escalated
        })

      if (isRepeat(decision, f, history)) return
      switch (decision._tag) {
        case "Observe":
        case "Suppress":
        case "Inhibit": {
          const result = observed[decision._tag]
          const details = decision._tag === "Observe"
            ? decision.reason
            : decision._tag === "Suppress"
            ? `silenced by ${decision.silence.id}${decision.silence.comment === "" ? "" : `: ${decision.silence.comment}`}`
            : `grouped under ${decision.by}`
          yield* record(result, details)
          return
        }
        case "Alert": {
          // The incident itself is notified (its route decides where); remediation only records that it will not act.
          yield* record("alerted", `level ${decision.level}: alert only`)
          return
        }
        case "Recommend": {
          const g = decision.guest
          const proposalId = yield* proposals.propose({
            incidentId: f.id,
            incidentKey: f.key,
            runbookId: decision.runbook.id,
            action: "start_guest",
            actionArgs: JSON.stringify({ node: g.node, kind: g.kind, vmid: g.vmid }),
            ttlMs: policy.proposalTtlMs
          })
          yield* record("proposed", `proposal ${proposalId}: start ${g.kind}/${g.vmid}`)
          yield* reporter.event(f, "proposed", "warning", {
            runbook: decision.runbook.id,
            action: "start_guest",
            proposal: proposalId,
            vmid: g.vmid,
            summary: `Approve starting ${g.kind === "qemu" ? "VM" : "CT"} ${g.vmid} (${g.name})?`,
            detail: `${incident.summary}. Approve: POST /api/v1/proposals/${proposalId}/approve, reject: /reject.`,
            notify: true
          })
          return
        }
        case "Block": {
          yield* record("blocked", `${decision.guardrail}: ${decision.reason}`)
          yield* reporter.event(f, "blocked", "warning", {
            runbook: decision.runbook.id,
            guardrail: decision.guardrail,
            reason: decision.reason,
            summary: `Not acting on ${incident.target}: ${decision.guardrail}`,
            notify: notifiedGuardrails.has(decision.guardrail)
          })
          return
        }
        case "Escalate": {
          yield* record("escalated", decision.reason, { escalated: true, action: "escalate" })
          yield* reporter.event(f, "escalated", "critical", {
            runbook: decision.runbook.id,
            reason: `${decision.reason}. Incident ${incident.key}, open since ${incident.openedAt}.`,
            summary: `Needs a person: ${incident.summary}`,
            notify: true
          })
          return
        }
      }
    })

    return { dispatch } as const
  }),
  dependencies: [Reporter.Default, Proposals.Default, AuditRepo.Default]
}) {}
