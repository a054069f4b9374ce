/**
 * Sends a logged message on its channel (the row is written first, by whoever decided to send:
 * its id is the idempotency key receivers see), records each attempt, and retries back off
 * exponentially up to `VIGIL_NOTIFY_ATTEMPTS`; a delivery that fails them all is dead, to be sent
 * again by an admin. Email goes through nodemailer (SMTP done properly: STARTTLS, auth, pooling),
 * and counts as sent only once the server accepted it for every recipient; webhooks through the
 * platform's HttpClient, sent only when every request of the preset got a 2xx.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import nodemailer from "nodemailer"
import type { Message } from "./Alerts.js"
import type { Channel, EmailChannel, WebhookChannel } from "./Channels.js"
import { Deliveries } from "./Deliveries.js"
import { NotifyConfig } from "./NotifyConfig.js"
import { type HttpCall, render } from "./Presets.js"
import { plainText, type Wording, wording } from "./Wording.js"

export class DeliveryFailed extends Schema.TaggedError<DeliveryFailed>()("DeliveryFailed", { reason: Schema.String }) {}

export class Sender extends Effect.Service<Sender>()("vigil/Sender", {
  scoped: Effect.gen(function*() {
    const config = yield* NotifyConfig
    const deliveries = yield* Deliveries
    const client = yield* HttpClient.HttpClient
    const secret = Option.map(config.webhookSecret, Redacted.value).pipe(Option.getOrUndefined)
    const email = config.channels.find((c): c is EmailChannel => c._tag === "Email")
    const transport = email === undefined
      ? undefined
      : yield* Effect.acquireRelease(
        Effect.sync(() => nodemailer.createTransport(email.url, { from: email.from })),
        (t) => Effect.sync(() => t.close())
      )
    const wordingContext = { publicUrl: config.publicUrl, flapWindowMs: Duration.toMillis(config.flapWindow), budget: config.budget }

    const call = (c: HttpCall) =>
      client.execute(
        HttpClientRequest.make(c.method)(c.url).pipe(
          HttpClientRequest.setHeaders(c.headers),
          HttpClientRequest.setBody(HttpBody.text(c.body, c.headers["content-type"]))
        )
      ).pipe(
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300
            ? Effect.void
            : Effect.flatMap(response.text.pipe(Effect.orElseSucceed(() => "")), (text) =>
              Effect.fail(new DeliveryFailed({ reason: `HTTP ${response.status} from ${new URL(c.url).host}${text === "" ? "" : `: ${text.slice(0, 200)}`}` })))
        ),
        Effect.scoped,
        Effect.catchTags({
          RequestError: (e) => Effect.fail(new DeliveryFailed({ reason: e.message })),
          ResponseError: (e) => Effect.fail(new DeliveryFailed({ reason: e.message }))
        })
      )

    const webhook = (channel: WebhookChannel, message: Message, w: Wording, id: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.forEach(render(channel, message, w, { id, now, secret }), call, { discard: true }))

    const mail = (channel: EmailChannel, w: Wording) =>
      Effect.tryPromise({
        try: async () => {
          if (transport === undefined) throw new Error("no SMTP transport")
          const info = await transport.sendMail({
            from: channel.from,
            to: channel.to.join(", "),
            subject: `[vigil] ${w.severity.toUpperCase()}: ${w.title}`,
            text: plainText(w, { title: false })
          })
          if (info.rejected.length > 0) throw new Error(`rejected recipients: ${info.rejected.join(", ")}`)
        },
        catch: (e) => new DeliveryFailed({ reason: e instanceof Error ? e.message : String(e) })
      })

    const once = (channel: Channel, message: Message, w: Wording, id: string) =>
      (channel._tag === "Email" ? mail(channel, w) : webhook(channel, message, w, id)).pipe(
        Effect.timeoutFail({ duration: config.timeout, onTimeout: () => new DeliveryFailed({ reason: `no answer within the timeout` }) })
      )

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
        const w = wording(message, wordingContext)
        let tries = 0
        const result = yield* Effect.suspend(() => {
          tries++
          return once(channel, message, w, id).pipe(
            Effect.tapError((e) => deliveries.attempted(id, tries < config.attempts ? "pending" : "dead", e.reason).pipe(Effect.ignore))
          )
        }).pipe(Effect.retry(retries), Effect.either)
        if (result._tag === "Right") return yield* deliveries.attempted(id, "sent", null)
        yield* Effect.logWarning(`notification to ${channel.name} failed for good: ${result.left.reason}`)
      }).pipe(Effect.catchAllCause((cause) => Effect.logWarning(`delivery ${id} could not be recorded`, cause)))

    /** The title the delivery log shows for a message. */
    const title = (message: Message) => wording(message, wordingContext).title

    return { attempt, title } as const
  }),
  dependencies: [Deliveries.Default, FetchHttpClient.layer]
}) {}
