/**
 * Sends a logged message on its channel (the row is written first, by whoever decided to send:
 * its id is the idempotency key receivers see), records each attempt, and retries back off
 * exponentially up to `VIGIL_NOTIFY_ATTEMPTS`; a delivery that fails them all is dead, to be sent
 * again by an admin. The Transport puts each attempt on the wire.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Tracer from "effect/Tracer"
import { spanOf } from "../domain/TraceContext.js"
import type { Message } from "./Alerts.js"
import { Deliveries } from "./Deliveries.js"
import { NotifyConfig } from "./NotifyConfig.js"
import { Transport } from "./Transport.js"
import { notifications } from "../telemetry/Instruments.js"

/**
 * A notice continues the trace of the (first) incident it tells, and links to the others: one
 * message can group several incidents, each with its own trace.
 */
const deliverySpan = (id: string, message: Message): Tracer.SpanOptions => {
  const traces = message.items.flatMap((i) => spanOf(i.alert.traceparent) ?? [])
  return {
    parent: traces[0],
    links: traces.slice(1).map((span) => ({ _tag: "SpanLink", span, attributes: {} })),
    attributes: { delivery: id, channel: message.channel, kind: message.kind, incidents: message.items.map((i) => i.alert.key).join(" ") }
  }
}

export class Sender extends Effect.Service<Sender>()("vigil/Sender", {
  effect: Effect.gen(function*() {
    const config = yield* NotifyConfig
    const deliveries = yield* Deliveries
    const transport = yield* Transport

    const retries = Schedule.exponential(config.backoff).pipe(Schedule.intersect(Schedule.recurs(config.attempts - 1)))

    /**
     * Tries a logged delivery until it is sent or out of attempts, recording each attempt. Under
     * its own id: a retry (by an admin, or by a leader finishing what another started) is the
     * same notification to the receiver.
     */
    const attempt = (id: string, message: Message) =>
      Effect.gen(function*() {
        const channel = config.channels.find((c) => c.name === message.channel)
        if (channel === undefined) return yield* deliveries.attempted(id, "dead", `no channel named ${message.channel} any more`)
        const w = transport.words(message)
        let tries = 0
        const result = yield* Effect.suspend(() => {
          tries++
          return transport.send(channel, message, w, id).pipe(
            Effect.tapError((e) => {
              notifications.inc({ channel: channel.name, result: "failed" })
              return deliveries.attempted(id, tries < config.attempts ? "pending" : "dead", e.reason).pipe(Effect.ignore)
            })
          )
        }).pipe(Effect.retry(retries), Effect.either)
        if (result._tag === "Right") {
          notifications.inc({ channel: channel.name, result: "sent" })
          return yield* deliveries.attempted(id, "sent", null)
        }
        notifications.inc({ channel: channel.name, result: "dead" })
        yield* Effect.logWarning(`notification to ${channel.name} failed for good: ${result.left.reason}`)
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning(`delivery ${id} could not be recorded`, cause)),
        Effect.withSpan("Notify.deliver", deliverySpan(id, message))
      )

    /** The title the delivery log shows for a message. */
    const title = (message: Message) => transport.words(message).title

    return { attempt, title } as const
  }),
  dependencies: [Deliveries.Default, Transport.Default]
}) {}
