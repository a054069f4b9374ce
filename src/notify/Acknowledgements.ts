/**
 * Acknowledging an incident: a person says they have it. Stored on the incident (so it outlives
 * restarts and leadership changes, and a condition that keeps firing keeps it), told as an
 * `incident.acknowledged` event (`incident.unacknowledged` when taken back); the lifecycle sends
 * no repeats for it until it resolves, and still tells the resolve.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { EventBus } from "../bus/EventBus.js"
import { makeEvent } from "../domain/Event.js"
import { Incidents } from "../store/Incidents.js"
import { alertSource } from "./Alerts.js"

export class IncidentNotFound extends Schema.TaggedError<IncidentNotFound>()("IncidentNotFound", { id: Schema.String }) {}
export class IncidentResolved extends Schema.TaggedError<IncidentResolved>()("IncidentResolved", { id: Schema.String }) {}

export class Acknowledgements extends Effect.Service<Acknowledgements>()("vigil/Acknowledgements", {
  effect: Effect.gen(function*() {
    const incidents = yield* Incidents
    const bus = yield* EventBus

    const change = (id: string, ack: { readonly by: string; readonly comment: string | undefined } | undefined, by: string) =>
      Effect.gen(function*() {
        const before = yield* incidents.byId(id)
        if (before === undefined) return yield* new IncidentNotFound({ id })
        if (before.status !== "open") return yield* new IncidentResolved({ id })
        const after = (yield* incidents.acknowledge(id, ack))!
        yield* bus.publishOne(makeEvent({
          type: ack === undefined ? "incident.unacknowledged" : "incident.acknowledged",
          severity: "info",
          source: alertSource,
          subject: after.target,
          node: after.node ?? undefined,
          data: {
            incident: after.key,
            incidentId: after.id,
            condition: after.condition,
            by,
            comment: ack?.comment ?? null,
            summary: `${after.summary}: ${ack === undefined ? "acknowledgement withdrawn" : "acknowledged"} by ${by}`
          }
        }))
        return after
      })

    return {
      acknowledge: Effect.fn("Acknowledgements.acknowledge")(function*(id: string, by: string, comment: string | undefined) {
        return yield* change(id, { by, comment }, by)
      }),
      unacknowledge: Effect.fn("Acknowledgements.unacknowledge")(function*(id: string, by: string) {
        return yield* change(id, undefined, by)
      })
    } as const
  })
}) {}
