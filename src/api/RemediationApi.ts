/**
 * The remediation group: the audit trail, L2 proposals to approve or reject, and the autonomy
 * cap with its kill switch.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import { RequireAdmin, RequireRead } from "./Security.js"
import { AuditAction, AutonomyLevel, Proposal } from "../domain/Remediation.js"
import { ServiceUnavailable } from "./ApiErrors.js"

export class ProposalNotFound extends Schema.TaggedError<ProposalNotFound>()(
  "ProposalNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class ProposalNotPending extends Schema.TaggedError<ProposalNotPending>()(
  "ProposalNotPending",
  { message: Schema.String, status: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export const RemediationState = Schema.Struct({
  enabled: Schema.Boolean,
  cap: AutonomyLevel,
  capName: Schema.String,
  inFlight: Schema.Int
}).annotations({ identifier: "RemediationState" })

const ProposalPath = Schema.Struct({ id: Schema.String })
const Decider = Schema.Struct({ by: Schema.optional(Schema.String.pipe(Schema.maxLength(128))) })

export class RemediationApi extends HttpApiGroup.make("remediation")
  .add(
    HttpApiEndpoint.get("actions", "/api/v1/actions")
      .middleware(RequireRead)
      .setUrlParams(Schema.Struct({
        incident_key: Schema.optional(Schema.String),
        result: Schema.optional(Schema.String),
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000, { message: () => "must be between 1 and 1000" })))
      }))
      .addSuccess(Schema.Array(AuditAction))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("proposals", "/api/v1/proposals")
      .middleware(RequireRead)
      .setUrlParams(Schema.Struct({ status: Schema.optional(Schema.Literal("pending", "approved", "rejected", "expired", "executed")) }))
      .addSuccess(Schema.Array(Proposal))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("approve", "/api/v1/proposals/:id/approve")
      .middleware(RequireAdmin)
      .setPath(ProposalPath)
      .setPayload(Decider)
      .addSuccess(Proposal)
      .addError(ProposalNotFound)
      .addError(ProposalNotPending)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("reject", "/api/v1/proposals/:id/reject")
      .middleware(RequireAdmin)
      .setPath(ProposalPath)
      .setPayload(Decider)
      .addSuccess(Proposal)
      .addError(ProposalNotFound)
      .addError(ProposalNotPending)
      .addError(ServiceUnavailable)
  )
  .add(HttpApiEndpoint.get("state", "/api/v1/remediation").middleware(RequireRead).addSuccess(RemediationState))
  .add(
    HttpApiEndpoint.post("setCap", "/api/v1/remediation/autonomy")
      .middleware(RequireAdmin)
      .setPayload(Schema.Struct({ cap: AutonomyLevel }))
      .addSuccess(RemediationState)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("killSwitch", "/api/v1/remediation/kill-switch")
      .middleware(RequireAdmin)
      .addSuccess(RemediationState)
      .addError(ServiceUnavailable)
  )
{}
