/**
 * Channels: where notifications go. Webhooks come from `VIGIL_NOTIFY_WEBHOOKS`, a comma list of
 * `[name:][preset=]url`; email from `VIGIL_SMTP_*` (channel `email`). A webhook's name defaults
 * to its preset (`slack`, then `slack-2` for a second one); routes refer to channels by name.
 * Each preset's URL carries what the service needs, checked at start:
 *
 *   generic=https://example.org/hook                                (signed with VIGIL_NOTIFY_WEBHOOK_SECRET)
 *   slack=https://hooks.slack.com/services/T…/B…/…                   discord=https://discord.com/api/webhooks/…
 *   ntfy=https://ntfy.sh/my-topic                                    teams=<Workflows "Teams webhook" URL>
 *   gotify=https://gotify.example.org/message?token=APPTOKEN
 *   telegram=https://api.telegram.org/bot<TOKEN>/sendMessage?chat_id=<CHAT>
 *   pagerduty=https://events.pagerduty.com/v2/enqueue?routing_key=<INTEGRATION KEY>
 *   pushover=https://api.pushover.net/1/messages.json?token=<APP>&user=<USER>
 *   matrix=https://matrix.example.org/_matrix/client/v3/rooms/<ROOM>/send/m.room.message?access_token=<TOKEN>
 */
import * as Either from "effect/Either"

export const presets = ["generic", "slack", "discord", "ntfy", "gotify", "telegram", "teams", "pagerduty", "pushover", "matrix"] as const
export type Preset = (typeof presets)[number]

export interface WebhookChannel {
  readonly _tag: "Webhook"
  readonly name: string
  readonly preset: Preset
  readonly url: URL
}

export interface EmailChannel {
  readonly _tag: "Email"
  readonly name: "email"
  readonly url: string
  readonly from: string
  readonly to: ReadonlyArray<string>
}

export type Channel = WebhookChannel | EmailChannel

/** What each preset needs in its URL besides the address; the error says what is missing. */
const required: Partial<Record<Preset, (url: URL) => string | undefined>> = {
  gotify: (u) => (u.searchParams.get("token") ? undefined : "needs ?token=<application token>"),
  telegram: (u) =>
    !/^\/bot[^/]+\/sendMessage$/.test(u.pathname)
      ? "must be https://api.telegram.org/bot<TOKEN>/sendMessage?chat_id=<CHAT>"
      : u.searchParams.get("chat_id") ? undefined : "needs ?chat_id=<chat>",
  pagerduty: (u) => (u.searchParams.get("routing_key") ? undefined : "needs ?routing_key=<integration key>"),
  pushover: (u) => (u.searchParams.get("token") && u.searchParams.get("user") ? undefined : "needs ?token=<app>&user=<user key>"),
  matrix: (u) =>
    !/\/_matrix\/client\/v3\/rooms\/[^/]+\/send\/m\.room\.message$/.test(u.pathname)
      ? "must end with /_matrix/client/v3/rooms/<room>/send/m.room.message"
      : u.searchParams.get("access_token") ? undefined : "needs ?access_token=<token>"
}

const entryPattern = /^(?:([a-z][a-z0-9-]{0,31}):)?(?:([a-z]+)=)?(https?:\/\/.+)$/

/** Parses `VIGIL_NOTIFY_WEBHOOKS` entries; the error names the entry and what is wrong with it. */
export const parseWebhooks = (entries: ReadonlyArray<string>): Either.Either<ReadonlyArray<WebhookChannel>, string> => {
  const out: Array<WebhookChannel> = []
  const seen = new Map<string, number>()
  for (const entry of entries) {
    const m = entryPattern.exec(entry)
    if (m === null) return Either.left(`"${entry}" is not [name:][preset=]http(s)://url`)
    const preset = (m[2] ?? "generic") as Preset
    if (!presets.includes(preset)) return Either.left(`"${entry}": unknown preset ${m[2]} (presets: ${presets.join(", ")})`)
    let url: URL
    try {
      url = new URL(m[3]!)
    } catch {
      return Either.left(`"${entry}": ${m[3]} is not a URL`)
    }
    const problem = required[preset]?.(url)
    if (problem !== undefined) return Either.left(`"${entry}": a ${preset} URL ${problem}`)
    const base = m[1] ?? preset
    const n = (seen.get(base) ?? 0) + 1
    seen.set(base, n)
    const name = m[1] !== undefined || n === 1 ? base : `${base}-${n}`
    if (m[1] !== undefined && n > 1) return Either.left(`"${entry}": two channels are named ${base}`)
    out.push({ _tag: "Webhook", name, preset, url })
  }
  return Either.right(out)
}

/** A channel's URL with its secrets hidden, for the API and logs. */
export const redactedUrl = (channel: Channel): string => {
  if (channel._tag === "Email") return channel.url.replace(/\/\/[^@/]*@/, "//…@")
  const u = new URL(channel.url)
  for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, "…")
  return `${u.origin}${u.pathname.replace(/\/bot[^/]+\//, "/bot…/").replace(/(\/webhooks?\/[^/]+\/)[^/]+/, "$1…").replace(/(\/services\/[^/]+\/[^/]+\/)[^/]+/, "$1…")}${u.search}`
}
