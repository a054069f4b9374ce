/**
 * Handlers for the remediation group.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import { AuditRepo } from "../remediation/AuditRepo.js"
import { Proposals } from "../remediation/Proposals.js"
import { Engine } from "../remediation/Engine.js"
import { levelNames } from "../remediation/Policy.js"
import { RemediationConfig } from "../remediation/RemediationConfig.js"
import { VigilApi } from "../api/Api.js"
import { storeUnavailable } from "../api/ApiErrors.js"
import { ProposalNotFound, ProposalNotPending } from "../api/RemediationApi.js"

const unavailable = storeUnavailable

export const RemediationHttp = HttpApiBuilder.group(VigilApi, "remediation", (handlers) =>
  Effect.gen(function*() {
    const audit = yield* AuditRepo
    const proposals = yield* Proposals
    const engine = yield* Engine
    const config = yield* RemediationConfig

    const state = Effect.gen(function*() {
      const cap = yield* engine.cap
      return { enabled: config.enabled, cap, capName: levelNames[cap], inFlight: yield* engine.inFlight }
    })

    const decideProposal = (id: string, status: "approved" | "rejected", by: string | undefined) =>
      Effect.gen(function*() {
        const existing = yield* proposals.byId(id).pipe(Effect.mapError(unavailable))
        if (existing === undefined) return yield* new ProposalNotFound({ message: `no proposal ${id}` })
        const decided = yield* proposals.decide(id, status, by ?? "api").pipe(Effect.mapError(unavailable))
        if (decided === undefined) {
          const now = yield* proposals.byId(id).pipe(Effect.mapError(unavailable))
          return yield* new ProposalNotPending({ message: `proposal ${id} is ${now?.status ?? "gone"}, not pending`, status: now?.status ?? "gone" })
        }
        if (status === "rejected") {
          yield* audit.save({
            incidentKey: decided.incidentKey,
            incidentId: decided.incidentId,
            runbookId: decided.runbookId,
            condition: decided.incidentKey.split(":")[0]!,
            action: decided.action,
            actionArgs: decided.actionArgs,
            result: "rejected",
            resultDetails: `rejected by ${by ?? "api"}`,
            autonomyLevel: 2
          }).pipe(Effect.mapError(unavailable))
        }
        yield* engine.wake
        return decided
      })

    return handlers
      .handle("actions", ({ urlParams }) =>
        audit.recent({ incidentKey: urlParams.incident_key, result: urlParams.result, limit: urlParams.limit }).pipe(Effect.mapError(unavailable)))
      .handle("proposals", ({ urlParams }) => proposals.list(urlParams.status).pipe(Effect.mapError(unavailable)))
      .handle("approve", ({ path, payload }) => decideProposal(path.id, "approved", payload.by))
      .handle("reject", ({ path, payload }) => decideProposal(path.id, "rejected", payload.by))
      .handle("state", () => state)
      .handle("setCap", ({ payload }) => Effect.zipRight(engine.setCap(payload.cap), state).pipe(Effect.mapError(unavailable)))
      .handle("killSwitch", () => Effect.zipRight(engine.setCap(1), state).pipe(Effect.mapError(unavailable)))
  }))
