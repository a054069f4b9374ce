/**
 * Puts one message on one channel, once: email through nodemailer (SMTP done properly: STARTTLS,
 * auth, pooling), sent only once the server accepted it for every recipient; webhooks through the
 * platform's HttpClient, sent only when every request of the preset got a 2xx. No log, no retries:
 * the Sender adds those; `vigil doctor --send-test` uses this alone.
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
import * as Schema from "effect/Schema"
import nodemailer from "nodemailer"
import type { Message } from "./Alerts.js"
import type { Channel, EmailChannel, WebhookChannel } from "./Channels.js"
import { NotifyConfig } from "./NotifyConfig.js"
import { type HttpCall, render } from "./Presets.js"
import { plainText, type Wording, wording } from "./Wording.js"

export class DeliveryFailed extends Schema.TaggedError<DeliveryFailed>()("DeliveryFailed", { reason: Schema.String }) {}

export class Transport extends Effect.Service<Transport>()("vigil/Transport", {
  scoped: Effect.gen(function*() {
    const config = yield* NotifyConfig
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

    /** Sends the message on the channel once, under the delivery id receivers see as its idempotency key. */
    const send = (channel: Channel, message: Message, w: Wording, id: string) =>
      (channel._tag === "Email" ? mail(channel, w) : webhook(channel, message, w, id)).pipe(
        Effect.timeoutFail({ duration: config.timeout, onTimeout: () => new DeliveryFailed({ reason: `no answer within the timeout` }) })
      )

    /** What a person reads for a message on any channel. */
    const words = (message: Message) => wording(message, wordingContext)

    return { send, words } as const
  }),
  dependencies: [FetchHttpClient.layer]
}) {}
