/**
 * Handlers for inbound integrations: a PVE notification becomes a stored `pve.notification`.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import { VigilApi } from "../api/Api.js"
import { storeUnavailable } from "../api/ApiErrors.js"
import { EventBus } from "../bus/EventBus.js"
import { pveNotificationEvent } from "../domain/PveNotification.js"
import { eventsIngested } from "../telemetry/Instruments.js"

export const IntegrationsHttp = HttpApiBuilder.group(VigilApi, "integrations", (handlers) =>
  Effect.gen(function*() {
    const bus = yield* EventBus
    return handlers.handle("pve", ({ payload }) =>
      Effect.gen(function*() {
        const event = pveNotificationEvent(payload)
        const outcome = yield* bus.publishOne(event).pipe(Effect.mapError(storeUnavailable))
        const duplicate = outcome._tag !== "Inserted"
        eventsIngested.inc({ route: "integrations/pve", result: duplicate ? "duplicate" : "accepted" })
        return { id: event.id, sequence: outcome._tag === "Inserted" ? outcome.event.sequence : outcome.sequence, duplicate }
      }))
  }))
