/**
 * Handlers for the notifications group. Who acknowledges or silences is the token's user when
 * authentication is on; otherwise what the caller says (or `api`).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import { VigilApi } from "../api/Api.js"
import { Conflict, NotFound, storeUnavailable } from "../api/ApiErrors.js"
import { CurrentUser } from "../api/Security.js"
import { Acknowledgements } from "../notify/Acknowledgements.js"
import { Alerting } from "../notify/Alerting.js"
import { redactedUrl } from "../notify/Channels.js"
import { Deliveries } from "../notify/Deliveries.js"
import { Silences } from "../store/Silences.js"

/** A declared error as it is; anything else is the store failing. */
const orUnavailable = <E extends { readonly message: string }>(e: E) =>
  e instanceof NotFound || e instanceof Conflict ? e : storeUnavailable(e)

const who = (said: string | undefined) => Effect.map(CurrentUser, (user) => user.name ?? said ?? "api")

export const NotifyHttp = HttpApiBuilder.group(VigilApi, "notify", (handlers) =>
  Effect.gen(function*() {
    const acks = yield* Acknowledgements
    const silences = yield* Silences
    const deliveries = yield* Deliveries
    const alerting = yield* Alerting

    const ackErrors = {
      IncidentNotFound: (e: { readonly id: string }) => Effect.fail(new NotFound({ message: `no incident ${e.id}` })),
      IncidentResolved: (e: { readonly id: string }) => Effect.fail(new Conflict({ message: `incident ${e.id} is resolved: nothing to acknowledge` }))
    }

    return handlers
      .handle("acknowledge", ({ path, payload }) =>
        Effect.flatMap(who(payload.by), (by) => acks.acknowledge(path.id, by, payload.comment)).pipe(
          Effect.catchTags(ackErrors),
          Effect.mapError(orUnavailable)
        ))
      .handle("unacknowledge", ({ path }) =>
        Effect.flatMap(who(undefined), (by) => acks.unacknowledge(path.id, by)).pipe(
          Effect.catchTags(ackErrors),
          Effect.mapError(orUnavailable)
        ))
      .handle("silences", () => silences.list.pipe(Effect.mapError(storeUnavailable)))
      .handle("createSilence", ({ payload }) =>
        Effect.flatMap(who(payload.createdBy), (by) => silences.create(payload, by)).pipe(Effect.mapError(storeUnavailable)))
      .handle("endSilence", ({ path }) =>
        Effect.gen(function*() {
          if (silences.fixed.some((s) => s.id === path.id)) {
            return yield* new Conflict({ message: `${path.id} comes from VIGIL_SILENCES; change the variable to end it` })
          }
          const ended = yield* silences.end(path.id).pipe(Effect.mapError(storeUnavailable))
          if (!ended) return yield* new NotFound({ message: `no silence ${path.id} that has not ended` })
          return { ended: true as const }
        }))
      .handle("deliveries", ({ urlParams }) =>
        deliveries.list({ status: urlParams.status, channel: urlParams.channel, limit: urlParams.limit ?? 100 }).pipe(Effect.mapError(storeUnavailable)))
      .handle("retryDelivery", ({ path }) =>
        Effect.gen(function*() {
          const result = yield* alerting.retry(path.id).pipe(Effect.mapError(storeUnavailable))
          if (result === undefined) return yield* new NotFound({ message: `no delivery ${path.id}` })
          if (result === "not-dead") return yield* new Conflict({ message: `delivery ${path.id} is not dead: only a dead letter is sent again` })
          return result
        }))
      .handle("channels", () =>
        Effect.succeed(alerting.channels.map((c) => ({ name: c.name, type: c._tag === "Email" ? "email" : c.preset, target: redactedUrl(c) }))))
      .handle("testChannel", ({ path }) =>
        Effect.gen(function*() {
          if (!alerting.channels.some((c) => c.name === path.name)) {
            return yield* new NotFound({ message: `no channel ${path.name} (channels: ${alerting.channels.map((c) => c.name).join(", ") || "none"})` })
          }
          const sent = yield* alerting.test(path.name).pipe(Effect.mapError(storeUnavailable))
          return sent!.delivery
        }))
  }))
