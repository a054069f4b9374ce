/**
 * Inbound integrations: other systems' notifications, turned into events. Proxmox VE's webhook
 * target posts here (ingest scope).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as Schema from "effect/Schema"
import { PveNotification } from "../domain/PveNotification.js"
import { ServiceUnavailable } from "./ApiErrors.js"
import { RequireIngest } from "./Security.js"

export const Accepted = Schema.Struct({
  id: Schema.String,
  sequence: Schema.Int,
  duplicate: Schema.Boolean.annotations({ description: "The same notification was already stored (PVE sent it again)" })
}).annotations({ identifier: "IntegrationAccepted" })

export class IntegrationsApi extends HttpApiGroup.make("integrations")
  .add(
    HttpApiEndpoint.post("pve", "/api/v1/integrations/pve")
      .middleware(RequireIngest)
      .setPayload(PveNotification)
      .addSuccess(Accepted, { status: 202 })
      .addError(ServiceUnavailable)
  )
{}
