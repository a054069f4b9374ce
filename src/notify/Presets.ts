/**
 * Each webhook preset's HTTP request(s) for a message, as the receiving service documents them:
 * Slack incoming webhooks, Discord webhooks (an embed), ntfy (JSON publishing), Gotify, the
 * Telegram Bot API `sendMessage`, Microsoft Teams Workflows (an Adaptive Card), PagerDuty Events
 * v2 (one trigger or resolve per incident, the incident key as dedup key), Pushover and Matrix
 * (`m.notice`, the delivery id as transaction id, so a retry is not posted twice). The generic
 * preset is vigil's own JSON, signed with HMAC-SHA256 when a secret is set. Pure.
 */
import { createHmac } from "node:crypto"
import { type Severity, severityRank } from "../domain/Severity.js"
import type { Message } from "./Alerts.js"
import type { WebhookChannel } from "./Channels.js"
import { clip, plainText, type Wording } from "./Wording.js"

export interface HttpCall {
  readonly method: "POST" | "PUT"
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

export interface RenderContext {
  /** The delivery's id: the idempotency key receivers deduplicate on. */
  readonly id: string
  readonly now: number
  /** `VIGIL_NOTIFY_WEBHOOK_SECRET`, for the generic preset's signature. */
  readonly secret: string | undefined
}

const json = (method: HttpCall["method"], url: string, body: unknown, headers: Record<string, string> = {}): HttpCall => ({
  method,
  url,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it with the shared secret. */
export const signature = (secret: string, timestamp: number, body: string) =>
  `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

const withoutParams = (url: URL, ...names: ReadonlyArray<string>) => {
  const u = new URL(url)
  for (const n of names) u.searchParams.delete(n)
  return u.toString()
}

const atLeast = (s: Severity, than: Severity) => severityRank(s) >= severityRank(than)
const discordColor = (w: Wording) => (w.status === "resolved" ? 0x2e7d32 : atLeast(w.severity, "error") ? 0xc62828 : 0xf9a825)
const gotifyPriority = (w: Wording) => (w.status === "resolved" ? 2 : atLeast(w.severity, "error") ? 8 : 5)
const pushoverPriority = (w: Wording) => (w.status === "resolved" ? -1 : atLeast(w.severity, "error") ? 1 : 0)
const ntfyPriority = (w: Wording) => (w.status === "resolved" ? 2 : w.severity === "critical" ? 5 : atLeast(w.severity, "error") ? 4 : 3)
const pagerDutySeverity = (s: Severity) => (s === "debug" ? "info" : s)

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** vigil's own JSON: every incident the message tells, with its state and notes. */
export const genericBody = (message: Message, w: Wording, ctx: RenderContext) => ({
  version: "1",
  idempotencyKey: ctx.id,
  kind: message.kind,
  status: w.status,
  severity: w.severity,
  title: w.title,
  text: w.lines.join("\n"),
  link: w.link,
  group: message.group ?? null,
  time: new Date(ctx.now).toISOString(),
  incidents: message.items.map((i) => ({
    id: i.alert.id,
    key: i.alert.key,
    condition: i.alert.condition,
    target: i.alert.target,
    node: i.alert.node,
    severity: i.alert.severity,
    summary: i.alert.summary,
    mention: i.as,
    status: i.alert.resolvedAt === null ? "firing" : "resolved",
    openedAt: new Date(i.alert.openedAt).toISOString(),
    resolvedAt: i.alert.resolvedAt === null ? null : new Date(i.alert.resolvedAt).toISOString(),
    notes: i.notes.map((n) => ({ kind: n.kind, title: n.title, text: n.text, at: new Date(n.at).toISOString() }))
  })),
  digest: message.digest === undefined
    ? null
    : { hourStart: new Date(message.digest.hourStart).toISOString(), held: message.digest.held.length }
})

/** PagerDuty: each incident its own event, keyed by the incident key, so PagerDuty groups what vigil groups. */
const pagerDuty = (channel: WebhookChannel, message: Message, w: Wording, ctx: RenderContext): ReadonlyArray<HttpCall> => {
  const routingKey = channel.url.searchParams.get("routing_key") ?? ""
  const url = withoutParams(channel.url, "routing_key")
  if (message.kind === "test" || message.kind === "digest") {
    return [json("POST", url, {
      routing_key: routingKey,
      event_action: "trigger",
      dedup_key: message.kind === "test" ? `vigil-test-${ctx.id}` : `vigil-digest-${message.digest?.hourStart ?? ctx.now}`,
      payload: { summary: clip(w.title, 1024), source: "vigil", severity: pagerDutySeverity(w.severity), custom_details: { text: w.lines.join("\n") } },
      client: "vigil",
      client_url: w.link
    })]
  }
  return message.items.flatMap((item): ReadonlyArray<HttpCall> => {
    const a = item.alert
    const dedupKey = clip(a.key, 255)
    if (item.as === "resolved") return [json("POST", url, { routing_key: routingKey, event_action: "resolve", dedup_key: dedupKey })]
    if (item.as === "settled") return []
    if (a.resolvedAt !== null) return [json("POST", url, { routing_key: routingKey, event_action: "resolve", dedup_key: dedupKey })]
    const title = message.kind === "flapping" ? `Flapping: ${a.summary}` : message.kind === "escalation" ? w.title : a.summary
    return [json("POST", url, {
      routing_key: routingKey,
      event_action: "trigger",
      dedup_key: dedupKey,
      payload: {
        summary: clip(title, 1024),
        source: a.node ?? "vigil",
        severity: pagerDutySeverity(a.severity),
        timestamp: new Date(a.openedAt).toISOString(),
        component: a.target,
        group: a.node ?? undefined,
        class: a.condition,
        custom_details: { incident: a.id, mention: item.as, notes: item.notes.map((n) => `${n.title}: ${n.text}`) }
      },
      links: [{ href: w.link, text: "Open vigil" }],
      client: "vigil",
      client_url: w.link
    })]
  })
}

/** The request(s) a webhook channel sends for a message. */
export const render = (channel: WebhookChannel, message: Message, w: Wording, ctx: RenderContext): ReadonlyArray<HttpCall> => {
  const url = channel.url
  const text = plainText(w, { title: false })
  switch (channel.preset) {
    case "generic": {
      const body = JSON.stringify(genericBody(message, w, ctx))
      const headers: Record<string, string> = { "content-type": "application/json", "idempotency-key": ctx.id }
      if (ctx.secret !== undefined) headers["vigil-signature"] = signature(ctx.secret, Math.floor(ctx.now / 1000), body)
      return [{ method: "POST", url: url.toString(), headers, body }]
    }
    case "slack":
      return [json("POST", url.toString(), { text: clip(`*${w.title}*\n${text}`, 39_000) })]
    case "discord":
      return [json("POST", url.toString(), {
        embeds: [{
          title: clip(w.title, 256),
          description: clip(text, 4000),
          url: w.link,
          color: discordColor(w),
          timestamp: new Date(ctx.now).toISOString()
        }],
        allowed_mentions: { parse: [] }
      })]
    case "ntfy": {
      const topic = url.pathname.split("/").filter((s) => s !== "").at(-1) ?? ""
      return [json("POST", `${url.origin}/`, {
        topic,
        title: clip(w.title, 250),
        message: clip(text, 3500),
        priority: ntfyPriority(w),
        tags: ["vigil", message.kind],
        click: w.link
      })]
    }
    case "gotify":
      return [json("POST", withoutParams(url, "token"), {
        title: clip(w.title, 250),
        message: text,
        priority: gotifyPriority(w),
        extras: { "client::display": { contentType: "text/plain" }, "client::notification": { click: { url: w.link } } }
      }, { "x-gotify-key": url.searchParams.get("token") ?? "" })]
    case "telegram":
      return [json("POST", withoutParams(url, "chat_id"), {
        chat_id: url.searchParams.get("chat_id"),
        text: clip(plainText(w), 4000),
        link_preview_options: { is_disabled: true }
      })]
    case "teams":
      return [json("POST", url.toString(), {
        type: "message",
        attachments: [{
          contentType: "application/vnd.microsoft.card.adaptive",
          contentUrl: null,
          content: {
            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
            type: "AdaptiveCard",
            version: "1.4",
            body: [
              {
                type: "TextBlock",
                text: w.title,
                weight: "Bolder",
                size: "Medium",
                wrap: true,
                color: w.status === "resolved" ? "Good" : atLeast(w.severity, "error") ? "Attention" : "Warning"
              },
              ...w.lines.map((line) => ({ type: "TextBlock", text: line, wrap: true, spacing: "None" }))
            ],
            actions: [{ type: "Action.OpenUrl", title: "Open vigil", url: w.link }]
          }
        }]
      })]
    case "pagerduty":
      return pagerDuty(channel, message, w, ctx)
    case "pushover": {
      const form = new URLSearchParams({
        token: url.searchParams.get("token") ?? "",
        user: url.searchParams.get("user") ?? "",
        title: clip(w.title, 250),
        message: clip(text, 1024),
        priority: String(pushoverPriority(w)),
        url: clip(w.link, 512),
        url_title: "Open vigil",
        timestamp: String(Math.floor(ctx.now / 1000))
      })
      return [{ method: "POST", url: withoutParams(url, "token", "user"), headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() }]
    }
    case "matrix": {
      const token = url.searchParams.get("access_token") ?? ""
      const base = withoutParams(url, "access_token").replace(/\?$/, "")
      const [path, query] = base.split("?")
      return [json("PUT", `${path}/${encodeURIComponent(ctx.id)}${query === undefined ? "" : `?${query}`}`, {
        msgtype: "m.notice",
        body: plainText(w),
        format: "org.matrix.custom.html",
        formatted_body: `<b>${escapeHtml(w.title)}</b><br>${w.lines.map(escapeHtml).join("<br>")}<br><a href="${escapeHtml(w.link)}">Open vigil</a>`
      }, { authorization: `Bearer ${token}` })]
    }
  }
}
