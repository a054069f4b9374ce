/**
 * Handlers for the heartbeats group.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import { Heartbeats } from "../producers/Heartbeats.js"
import { VigilApi } from "../api/Api.js"
import { ServiceUnavailable } from "../api/ApiErrors.js"

export const HeartbeatsHttp = HttpApiBuilder.group(VigilApi, "heartbeats", (handlers) =>
  Effect.gen(function*() {
    const heartbeats = yield* Heartbeats
    return handlers
      .handle("beat", ({ path, payload }) =>
        heartbeats.beat(path.kind, path.id, payload.status, payload.details).pipe(
          Effect.map(({ producer, recovered }) => ({ kind: producer.kind, id: producer.id, status: producer.status, recovered })),
          Effect.mapError((error) => new ServiceUnavailable({ message: `could not record the recovery: ${error.message}` }))
        ))
      .handle("list", () =>
        Effect.map(heartbeats.list, (producers) =>
          producers.map((p) => ({
            kind: p.kind,
            id: p.id,
            status: p.status,
            alive: !p.lost,
            lastBeatAt: new Date(p.lastBeatAt).toISOString(),
            details: p.details ?? null
          }))))
  }))
