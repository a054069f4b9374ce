/**
 * Stand-ins for the services vigil's presets post to, on one loopback server. Each checks a
 * request the way the real service does (its documented method, path, auth, content type,
 * required fields, limits and enums) and answers as it does: the status and body of success,
 * and its error shape for what it refuses. What each got, and what it refused, is recorded.
 *
 * Sources: Gotify server (api/message.go), the Telegram Bot API (sendMessage), Microsoft Teams
 * Workflows webhooks (Adaptive Cards), PagerDuty Events API v2, Pushover's message API, the
 * Matrix client-server API (rooms/{roomId}/send), Slack incoming webhooks, Discord's Execute
 * Webhook, and ntfy's JSON publishing.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly service: string
  readonly method: string
  readonly path: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: any
  readonly raw: string
}

interface Answer {
  readonly status: number
  readonly body?: unknown
  readonly text?: string
}

/** The secrets the stand-ins accept. */
export const secrets = {
  gotify: "AbCdEf.123456",
  telegram: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
  pagerduty: "0123456789abcdef0123456789abcdef",
  pushoverToken: "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
  pushoverUser: "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
  matrix: "syt_dmlnaWw_abcdefghijklmnop_0a1b2c"
}

const json = (raw: string): unknown => {
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

const isString = (v: unknown): v is string => typeof v === "string"
const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v)

const gotify = (req: Http.IncomingMessage, url: URL, body: any): Answer => {
  const error = (status: number, error: string, description: string) => ({ status, body: { error, errorCode: status, errorDescription: description } })
  const token = url.searchParams.get("token") ?? req.headers["x-gotify-key"]
  if (token !== secrets.gotify) return error(401, "Unauthorized", "you need to provide a valid access token or user credentials to access this api")
  if (!isObject(body) || !isString(body.message) || body.message === "") return error(400, "Bad Request", "Field 'message' is required")
  if (body.title !== undefined && !isString(body.title)) return error(400, "Bad Request", "Field 'title' is not valid")
  if (body.priority !== undefined && !Number.isInteger(body.priority)) return error(400, "Bad Request", "Field 'priority' is not valid")
  if (body.extras !== undefined && !isObject(body.extras)) return error(400, "Bad Request", "Field 'extras' is not valid")
  return { status: 200, body: { id: 1, appid: 1, message: body.message, title: body.title ?? "vigil", priority: body.priority ?? 0, date: new Date().toISOString() } }
}

const telegram = (token: string, body: any): Answer => {
  const error = (status: number, description: string) => ({ status, body: { ok: false, error_code: status, description } })
  if (token !== secrets.telegram) return error(401, "Unauthorized")
  if (!isObject(body) || body.chat_id === undefined || body.chat_id === "") return error(400, "Bad Request: chat_id is empty")
  if (!isString(body.text) || body.text.length === 0) return error(400, "Bad Request: message text is empty")
  if ([...body.text].length > 4096) return error(400, "Bad Request: message is too long")
  if (body.parse_mode !== undefined && !["MarkdownV2", "HTML", "Markdown"].includes(body.parse_mode)) return error(400, "Bad Request: unsupported parse_mode")
  if (body.link_preview_options !== undefined && !isObject(body.link_preview_options)) return error(400, "Bad Request: can't parse link preview options")
  return { status: 200, body: { ok: true, result: { message_id: 1, chat: { id: body.chat_id }, date: 0, text: body.text } } }
}

const teams = (body: any): Answer => {
  const mismatch = (missing: string) => ({
    status: 400,
    body: { error: { code: "TriggerInputSchemaMismatch", message: `The input body for trigger 'manual' of type 'Request' did not match its schema definition. Error details: 'Required properties are missing from object: ${missing}.'` } }
  })
  if (!isObject(body) || body.type !== "message") return mismatch("type")
  if (!Array.isArray(body.attachments) || body.attachments.length === 0) return mismatch("attachments")
  for (const a of body.attachments) {
    if (a.contentType !== "application/vnd.microsoft.card.adaptive") return mismatch("contentType")
    if (!("contentUrl" in a)) return mismatch("contentUrl")
    const card = a.content
    // A wrong card is accepted by the trigger and fails later in the flow; here it is refused, so tests see it.
    if (!isObject(card) || card.type !== "AdaptiveCard" || !isString(card.version) || !Array.isArray(card.body)) return mismatch("content")
    if (!card.body.every((e: any) => isObject(e) && isString(e.type) && (e.type !== "TextBlock" || isString(e.text)))) return mismatch("content.body")
    if (card.actions !== undefined && !card.actions.every((x: any) => x.type === "Action.OpenUrl" ? isString(x.url) : ["Action.ShowCard", "Action.ToggleVisibility"].includes(x.type))) {
      return mismatch("content.actions")
    }
  }
  if (JSON.stringify(body).length > 28 * 1024) return { status: 413, text: "payload too large" }
  return { status: 202, text: "" }
}

const pagerduty = (body: any): Answer => {
  const invalid = (error: string) => ({ status: 400, body: { status: "invalid event", message: "Event object is invalid", errors: [error] } })
  if (!isObject(body)) return { status: 400, body: { status: "Unrecognized object", message: "Event object format is unrecognized", errors: ["JSON parse error"] } }
  if (!isString(body.routing_key) || body.routing_key.length !== 32) return invalid("Length of 'routing_key' is incorrect (should be 32 characters)")
  if (!["trigger", "acknowledge", "resolve"].includes(body.event_action)) return invalid("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
  if (body.dedup_key !== undefined && (!isString(body.dedup_key) || body.dedup_key.length > 255)) return invalid("'dedup_key' is invalid")
  if (body.event_action !== "trigger" && body.dedup_key === undefined) return invalid("'dedup_key' is missing")
  if (body.event_action === "trigger") {
    const p = body.payload
    if (!isObject(p)) return invalid("'payload' is missing or blank")
    if (!isString(p.summary) || p.summary === "" || p.summary.length > 1024) return invalid("'payload.summary' is missing or blank")
    if (!isString(p.source) || p.source === "") return invalid("'payload.source' is missing or blank")
    if (!["critical", "error", "warning", "info"].includes(p.severity)) return invalid("'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')")
    if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) return invalid("'payload.timestamp' is invalid")
    if (body.links !== undefined && !(Array.isArray(body.links) && body.links.every((l: any) => isString(l.href)))) return invalid("'links' is invalid")
  }
  return { status: 202, body: { status: "success", message: "Event processed", dedup_key: body.dedup_key ?? "generated" } }
}

const pushover = (req: Http.IncomingMessage, raw: string): Answer => {
  const type = req.headers["content-type"] ?? ""
  const fields: Record<string, string> = type.startsWith("application/json")
    ? Object.fromEntries(Object.entries((json(raw) ?? {}) as object).map(([k, v]) => [k, String(v)]))
    : Object.fromEntries(new URLSearchParams(raw))
  const invalid = (param: string, error: string) => ({ status: 400, body: { [param]: "invalid", errors: [error], status: 0, request: "r" } })
  if (!/^[A-Za-z0-9]{30}$/.test(fields.token ?? "") || fields.token !== secrets.pushoverToken) return invalid("token", "application token is invalid")
  if (!/^[A-Za-z0-9]{30}$/.test(fields.user ?? "") || fields.user !== secrets.pushoverUser) return invalid("user", "user identifier is not a valid user, group, or subscribed user key")
  if (fields.message === undefined || fields.message === "") return invalid("message", "message cannot be blank")
  if ([...fields.message].length > 1024) return invalid("message", "message is too long")
  if (fields.title !== undefined && [...fields.title].length > 250) return invalid("title", "title is too long")
  if (fields.url !== undefined && fields.url.length > 512) return invalid("url", "url is too long")
  if (fields.url_title !== undefined && fields.url_title.length > 100) return invalid("url_title", "url_title is too long")
  const priority = fields.priority === undefined ? 0 : Number(fields.priority)
  if (![-2, -1, 0, 1, 2].includes(priority)) return invalid("priority", "priority is invalid")
  if (priority === 2 && (fields.retry === undefined || fields.expire === undefined)) return invalid("retry", "retry and expire are required for emergency priority")
  return { status: 200, body: { status: 1, request: "647d2300-702c-4b38-8b2f-d56326ae460b" } }
}

const matrixEvents = new Map<string, string>()
const matrix = (req: Http.IncomingMessage, txn: string, body: any): Answer => {
  const auth = req.headers.authorization
  if (auth === undefined) return { status: 401, body: { errcode: "M_MISSING_TOKEN", error: "Missing access token" } }
  if (auth !== `Bearer ${secrets.matrix}`) return { status: 401, body: { errcode: "M_UNKNOWN_TOKEN", error: "Unrecognised access token" } }
  if (!isObject(body)) return { status: 400, body: { errcode: "M_NOT_JSON", error: "Content not JSON." } }
  if (!isString(body.msgtype) || !isString(body.body)) return { status: 400, body: { errcode: "M_BAD_JSON", error: "msgtype and body are required" } }
  if ((body.format === undefined) !== (body.formatted_body === undefined)) return { status: 400, body: { errcode: "M_BAD_JSON", error: "format and formatted_body go together" } }
  if (body.format !== undefined && body.format !== "org.matrix.custom.html") return { status: 400, body: { errcode: "M_BAD_JSON", error: "unknown format" } }
  if (Buffer.byteLength(JSON.stringify(body)) > 65536) return { status: 413, body: { errcode: "M_TOO_LARGE", error: "event too large" } }
  // A transaction id seen before is a retransmission: the same event, not a new one.
  const event = matrixEvents.get(txn) ?? `$${matrixEvents.size + 1}:example.org`
  matrixEvents.set(txn, event)
  return { status: 200, body: { event_id: event } }
}

const slack = (body: any): Answer => {
  if (!isObject(body)) return { status: 400, text: "invalid_payload" }
  if ((!isString(body.text) || body.text === "") && !Array.isArray(body.blocks)) return { status: 400, text: "no_text" }
  return { status: 200, text: "ok" }
}

const discord = (body: any): Answer => {
  const invalid = (field: string, code: string) => ({ status: 400, body: { code: 50035, message: "Invalid Form Body", errors: { [field]: { _errors: [{ code, message: code }] } } } })
  if (!isObject(body)) return { status: 400, body: { code: 50109, message: "The request body contains invalid JSON." } }
  const embeds: Array<any> = body.embeds ?? []
  if ((body.content === undefined || body.content === "") && embeds.length === 0) return { status: 400, body: { code: 50006, message: "Cannot send an empty message" } }
  if (body.content !== undefined && body.content.length > 2000) return invalid("content", "BASE_TYPE_MAX_LENGTH")
  if (embeds.length > 10) return invalid("embeds", "BASE_TYPE_MAX_LENGTH")
  let total = 0
  for (const e of embeds) {
    if (e.title !== undefined && e.title.length > 256) return invalid("embeds.0.title", "BASE_TYPE_MAX_LENGTH")
    if (e.description !== undefined && e.description.length > 4096) return invalid("embeds.0.description", "BASE_TYPE_MAX_LENGTH")
    if (e.color !== undefined && !Number.isInteger(e.color)) return invalid("embeds.0.color", "NUMBER_TYPE_COERCE")
    if (e.timestamp !== undefined && Number.isNaN(Date.parse(e.timestamp))) return invalid("embeds.0.timestamp", "DATE_TIME_TYPE_PARSE")
    total += (e.title ?? "").length + (e.description ?? "").length
  }
  if (total > 6000) return invalid("embeds", "MAX_EMBED_SIZE_EXCEEDED")
  return { status: 204 }
}

const ntfy = (body: any): Answer => {
  const error = (code: number, http: number, message: string) => ({ status: http, body: { code, http, error: message, link: "https://ntfy.sh/docs/publish/" } })
  if (!isObject(body)) return error(40024, 400, "invalid request: request body must be valid JSON")
  if (!isString(body.topic) || !/^[-_A-Za-z0-9]{1,64}$/.test(body.topic)) return error(40009, 400, "invalid request: topic invalid")
  if (body.priority !== undefined && !(Number.isInteger(body.priority) && body.priority >= 1 && body.priority <= 5)) return error(40007, 400, "invalid priority parameter")
  if (body.tags !== undefined && !(Array.isArray(body.tags) && body.tags.every(isString))) return error(40024, 400, "invalid request: tags must be a list")
  if (body.message !== undefined && Buffer.byteLength(String(body.message)) > 4096) return error(41303, 413, "message too large")
  return { status: 200, body: { id: "hwQ2YpKdmg", time: 0, event: "message", topic: body.topic, title: body.title, message: body.message ?? "triggered", priority: body.priority ?? 3 } }
}

/** Which stand-in a request is for, and its answer. */
const route = (req: Http.IncomingMessage, url: URL, raw: string): { readonly service: string; readonly answer: Answer } => {
  const method = req.method ?? "GET"
  const body = json(raw)
  const path = url.pathname
  const post = (service: string, answer: () => Answer) =>
    method === "POST" ? { service, answer: answer() } : { service, answer: { status: 405, text: "method not allowed" } }
  if (path === "/gotify/message") return post("gotify", () => gotify(req, url, body))
  const tg = /^\/bot([^/]+)\/sendMessage$/i.exec(path)
  if (tg !== null) return post("telegram", () => telegram(tg[1]!, body))
  if (path.startsWith("/workflows/") && path.endsWith("/triggers/manual/paths/invoke")) return post("teams", () => teams(body))
  if (path === "/v2/enqueue") return post("pagerduty", () => pagerduty(body))
  if (path === "/1/messages.json") return post("pushover", () => pushover(req, raw))
  const mx = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/m\.room\.message\/([^/]+)$/.exec(path)
  if (mx !== null) {
    return method === "PUT" ? { service: "matrix", answer: matrix(req, decodeURIComponent(mx[2]!), body) } : { service: "matrix", answer: { status: 405, body: { errcode: "M_UNRECOGNIZED" } } }
  }
  if (path.startsWith("/services/")) return post("slack", () => slack(body))
  if (path.startsWith("/api/webhooks/")) return post("discord", () => discord(body))
  // ntfy takes JSON at its root URL, the topic in the body.
  if (path === "/") return post("ntfy", () => ntfy(body))
  if (path === "/hook") return post("generic", () => ({ status: 204 }))
  return { service: "none", answer: { status: 404, text: "no such service" } }
}

/** Every stand-in on one loopback server, for the test's scope. */
export const startServices = Effect.acquireRelease(
  Effect.promise(async () => {
    const accepted: Array<Received> = []
    const refused: Array<Received & { readonly answer: unknown }> = []
    const server = Http.createServer((req, res) => {
      let raw = ""
      req.setEncoding("utf8")
      req.on("data", (c) => (raw += c))
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://localhost")
        const { service, answer } = route(req, url, raw)
        const received = { service, method: req.method ?? "", path: url.pathname, headers: req.headers, body: json(raw) ?? raw, raw }
        if (answer.status < 300) accepted.push(received)
        else refused.push({ ...received, answer: answer.body ?? answer.text })
        if (answer.body !== undefined) res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body))
        else res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.text ?? "")
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { accepted, refused, base, server }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
)
