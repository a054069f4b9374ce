/**
 * Notifications: webhooks (generic JSON, and presets shaped for Slack, Discord and ntfy) and
 * email over SMTP with nodemailer (a well-kept library that speaks SMTP properly: STARTTLS, auth,
 * pooling; writing that by hand would be worse). Each delivery retries with exponential backoff
 * and lands in the dead-letter table when it fails for good. Email counts as sent only once the
 * server accepted the message.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import nodemailer from "nodemailer"
import { NoticeLog } from "./NoticeLog.js"
import { RemediationConfig, type Webhook } from "./RemediationConfig.js"

export interface Notice {
  readonly kind: "alert" | "proposal" | "action" | "blocked" | "escalation" | "recovery"
  readonly severity: "info" | "warning" | "error" | "critical"
  readonly title: string
  readonly text: string
  readonly incidentKey: string
  readonly incidentId: string
  readonly data?: Record<string, unknown> | undefined
}

const ntfyPriority = { info: "default", warning: "high", error: "high", critical: "urgent" } as const

/** The HTTP request a webhook preset expects. */
export const webhookRequest = (hook: Webhook, notice: Notice): { body: string; headers: Record<string, string> } => {
  const line = `[${notice.severity.toUpperCase()}] ${notice.title}`
  switch (hook.preset) {
    case "slack":
      return { body: JSON.stringify({ text: `*${line}*\n${notice.text}` }), headers: { "content-type": "application/json" } }
    case "discord":
      return { body: JSON.stringify({ content: `**${line}**\n${notice.text}`.slice(0, 2000) }), headers: { "content-type": "application/json" } }
    case "ntfy":
      return {
        body: notice.text,
        headers: { "content-type": "text/plain", title: line, priority: ntfyPriority[notice.severity], tags: `vigil,${notice.kind}` }
      }
    case "generic":
      return {
        body: JSON.stringify({
          kind: notice.kind,
          severity: notice.severity,
          title: notice.title,
          text: notice.text,
          incident: { key: notice.incidentKey, id: notice.incidentId },
          data: notice.data ?? {},
          time: new Date().toISOString()
        }),
        headers: { "content-type": "application/json" }
      }
  }
}

export class Notifier extends Effect.Service<Notifier>()("vigil/Notifier", {
  scoped: Effect.gen(function*() {
    const config = yield* RemediationConfig
    const log = yield* NoticeLog
    const transport = yield* Option.match(config.smtp, {
      onNone: () => Effect.succeed(undefined),
      onSome: (smtp) =>
        Effect.acquireRelease(
          Effect.sync(() => nodemailer.createTransport(smtp.url, { from: smtp.from })),
          (t) => Effect.sync(() => t.close())
        )
    })

    const retry = Schedule.exponential(config.notifyBackoff).pipe(Schedule.intersect(Schedule.recurs(config.notifyAttempts - 1)))

    /** Tries a delivery with backoff; after the last failure, a dead letter. True when delivered. */
    const deliver = (channel: string, notice: Notice, payload: string, send: Effect.Effect<void, Error>) =>
      send.pipe(
        Effect.timeoutFail({ duration: Duration.seconds(15), onTimeout: () => new Error("timed out") }),
        Effect.retry(retry),
        Effect.as(true),
        Effect.catchAll((error) =>
          Effect.gen(function*() {
            yield* Effect.logWarning(`notification to ${channel} failed for good: ${error.message}`)
            yield* log.deadLetter({
              channel,
              incidentKey: notice.incidentKey,
              subject: notice.title,
              payload,
              attempts: config.notifyAttempts,
              error: error.message
            }).pipe(Effect.ignore)
            return false
          })
        )
      )

    const webhook = (hook: Webhook, notice: Notice) => {
      const { body, headers } = webhookRequest(hook, notice)
      return deliver(`webhook:${hook.preset}`, notice, body, Effect.tryPromise({
        try: async () => {
          const response = await fetch(hook.url, { method: "POST", headers, body })
          if (!response.ok) throw new Error(`HTTP ${response.status} from ${hook.url}`)
        },
        catch: (e) => (e instanceof Error ? e : new Error(String(e)))
      }))
    }

    const email = (notice: Notice) => {
      if (transport === undefined || Option.isNone(config.smtp)) return Effect.succeed(false)
      const smtp = config.smtp.value
      const message = {
        from: smtp.from,
        to: smtp.to.join(", "),
        subject: `[vigil] ${notice.severity.toUpperCase()}: ${notice.title}`,
        text: `${notice.text}\n\nIncident: ${notice.incidentKey}\n`
      }
      return deliver("email", notice, JSON.stringify(message), Effect.tryPromise({
        try: async () => {
          const info = await transport.sendMail(message)
          // Sent means the server accepted it for every recipient.
          if (info.rejected.length > 0) throw new Error(`rejected recipients: ${info.rejected.join(", ")}`)
        },
        catch: (e) => (e instanceof Error ? e : new Error(String(e)))
      }))
    }

    /** Sends on every channel at once; says whether the email was accepted. */
    const notify = Effect.fn("Notifier.notify")(function*(notice: Notice) {
      const [emailSent] = yield* Effect.all([
        email(notice),
        Effect.forEach(config.webhooks, (hook) => webhook(hook, notice), { concurrency: "unbounded" })
      ], { concurrency: "unbounded" })
      return { emailSent }
    })

    return { notify, channels: config.webhooks.length + (transport === undefined ? 0 : 1) } as const
  }),
  dependencies: [NoticeLog.Default]
}) {}
