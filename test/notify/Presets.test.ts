/**
 * Every preset against a stand-in that checks the service's documented request (test/support/
 * Services.ts): a test message, then an incident's firing and its resolve, each accepted as the
 * real service would accept it. The generic webhook's signature is checked with the shared
 * secret, as a receiver would.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHmac } from "node:crypto"
import { NotifyConfig } from "../../src/notify/NotifyConfig.js"
import { waitUntil } from "../support/Clients.js"
import { eventually } from "../support/Eventually.js"
import { secrets, startServices } from "../support/Services.js"
import { getJson, startVigil } from "../support/Vigil.js"

const post = (url: string, body?: unknown) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) })
      .then(async (r) => ({ status: r.status, body: await r.json() as any }))
  )

const secret = "a shared secret"

/** Checks a `vigil-signature: t=…,v1=…` header the way a receiver does: recompute, compare, check the age. */
const verify = (header: string | undefined, body: string, now: number) => {
  const parts = Object.fromEntries((header ?? "").split(",").map((p) => p.split("=") as [string, string]))
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest("hex")
  return parts.v1 === expected && Math.abs(now / 1000 - Number(parts.t)) < 300
}

describe("notification presets against the services they post to", () => {
  it.scopedLive("each preset's test message, firing and resolve are accepted as the service documents them", () =>
    Effect.gen(function*() {
      const services = yield* startServices
      const b = services.base
      const hooks = [
        `gotify=${b}/gotify/message?token=${secrets.gotify}`,
        `telegram=${b}/bot${secrets.telegram}/sendMessage?chat_id=-1001234567890`,
        `teams=${b}/workflows/0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s1g`,
        `pagerduty=${b}/v2/enqueue?routing_key=${secrets.pagerduty}`,
        `pushover=${b}/1/messages.json?token=${secrets.pushoverToken}&user=${secrets.pushoverUser}`,
        `matrix=${b}/_matrix/client/v3/rooms/!ops:example.org/send/m.room.message?access_token=${secrets.matrix}`,
        `slack=${b}/services/T000/B000/XXXX`,
        `discord=${b}/api/webhooks/1234/abcd`,
        `ntfy=${b}/vigil-alerts`,
        `generic=${b}/hook`
      ]
      const vigil = yield* startVigil({
        VIGIL_NOTIFY_WEBHOOKS: hooks.join(","),
        VIGIL_NOTIFY_WEBHOOK_SECRET: secret,
        VIGIL_NOTIFY_TICK: "50 millis",
        VIGIL_NOTIFY_GROUP_WAIT: "100 millis",
        VIGIL_NOTIFY_GROUP_INTERVAL: "100 millis",
        VIGIL_HEARTBEAT_TTL: "400 millis",
        VIGIL_PUBLIC_URL: "https://vigil.example.org"
      })
      const channels = (yield* getJson(`${vigil.url}/api/v1/channels`)).body as Array<any>
      expect(channels.map((c) => c.name)).toEqual(["gotify", "telegram", "teams", "pagerduty", "pushover", "matrix", "slack", "discord", "ntfy", "generic"])
      // Secrets are not shown.
      expect(JSON.stringify(channels)).not.toContain(secrets.telegram)
      expect(JSON.stringify(channels)).not.toContain(secrets.pagerduty)

      for (const c of channels) {
        const sent = yield* post(`${vigil.url}/api/v1/channels/${c.name}/test`)
        expect({ channel: c.name, ...sent }).toMatchObject({ channel: c.name, status: 200, body: { status: "sent", attempts: 1 } })
      }

      // An agent goes silent (an AGENT_LOST incident, a warning), then beats again (resolved).
      const beat = post(`${vigil.url}/api/v1/heartbeats/agent/a1`, { status: "ok" })
      yield* beat
      yield* waitUntil("the firing reached every service", () => services.accepted.filter((r) => JSON.stringify(r.body).includes("agent")).length >= 10, 10_000)
      yield* beat
      yield* eventually(
        "every delivery sent",
        Effect.map(getJson(`${vigil.url}/api/v1/deliveries?limit=1000`), (r) => r.body as Array<any>),
        (ds) => ds.length === 30 && ds.every((d) => d.status === "sent")
      )
      expect(services.refused).toEqual([])
      const by = (service: string) => services.accepted.filter((r) => r.service === service)
      for (const service of ["gotify", "telegram", "teams", "pushover", "matrix", "slack", "discord", "ntfy", "generic"]) {
        expect({ service, n: by(service).length }).toEqual({ service, n: 3 })
      }

      // PagerDuty: a trigger and a resolve keyed by the incident, so it groups what vigil groups.
      const pd = by("pagerduty").map((r) => r.body)
      expect(pd.map((e) => [e.event_action, e.dedup_key])).toEqual([
        ["trigger", expect.stringMatching(/^vigil-test-/)],
        ["trigger", "AGENT_LOST:agent/a1"],
        ["resolve", "AGENT_LOST:agent/a1"]
      ])
      expect(pd[1].payload).toMatchObject({ severity: "warning", class: "AGENT_LOST", component: "agent/a1", source: "vigil" })
      expect(pd[1].links).toEqual([{ href: "https://vigil.example.org/", text: "Open vigil" }])

      // Matrix: the delivery id is the transaction id (a retry is not posted twice).
      const deliveries = (yield* getJson(`${vigil.url}/api/v1/deliveries?channel=matrix`)).body as Array<any>
      expect(by("matrix").map((r) => decodeURIComponent(r.path.split("/").at(-1)!)).sort()).toEqual(deliveries.map((d) => d.id).sort())
      expect(by("matrix")[1]!.body).toMatchObject({ msgtype: "m.notice", format: "org.matrix.custom.html" })

      // Telegram and ntfy: the chat and the topic from the URL, in the body.
      expect(by("telegram").every((r) => r.body.chat_id === "-1001234567890")).toBe(true)
      expect(by("ntfy").map((r) => [r.body.topic, r.body.priority])).toEqual([["vigil-alerts", 2], ["vigil-alerts", 3], ["vigil-alerts", 2]])

      // Generic: signed, with an idempotency key, and vigil's own JSON.
      for (const r of by("generic")) {
        expect(verify(r.headers["vigil-signature"] as string, r.raw, Date.now())).toBe(true)
        expect(r.headers["idempotency-key"]).toBe(r.body.idempotencyKey)
      }
      expect(verify(by("generic")[1]!.headers["vigil-signature"] as string, `${by("generic")[1]!.raw} `, Date.now())).toBe(false)
      expect(by("generic")[1]!.body).toMatchObject({
        version: "1",
        kind: "alert",
        status: "firing",
        severity: "warning",
        incidents: [{ key: "AGENT_LOST:agent/a1", mention: "firing", status: "firing" }]
      })
      expect(by("generic")[2]!.body).toMatchObject({ status: "resolved", incidents: [{ key: "AGENT_LOST:agent/a1", mention: "resolved" }] })
    }))

  it.scopedLive("the stand-ins refuse what the services refuse", () =>
    Effect.gen(function*() {
      const services = yield* startServices
      const b = services.base
      const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
        Effect.promise(() =>
          fetch(`${b}${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) })
            .then(async (r) => ({ status: r.status, body: await r.text() }))
        )
      expect(yield* send("POST", `/bot${secrets.telegram}/sendMessage`, { chat_id: 1, text: "x".repeat(4097) })).toMatchObject({ status: 400, body: expect.stringContaining("message is too long") })
      expect(yield* send("POST", "/v2/enqueue", { routing_key: secrets.pagerduty, event_action: "trigger", payload: { summary: "s", source: "x", severity: "high" } })).toMatchObject({ status: 400 })
      expect(yield* send("POST", "/v2/enqueue", { routing_key: secrets.pagerduty, event_action: "resolve" })).toMatchObject({ status: 400, body: expect.stringContaining("dedup_key") })
      expect(yield* send("POST", "/workflows/x/triggers/manual/paths/invoke", { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: {} }] })).toMatchObject({ status: 400, body: expect.stringContaining("contentUrl") })
      expect(yield* send("POST", "/gotify/message", { title: "no message" }, { "x-gotify-key": secrets.gotify })).toMatchObject({ status: 400, body: expect.stringContaining("'message' is required") })
      expect(yield* send("POST", "/1/messages.json", `token=${secrets.pushoverToken}&user=${secrets.pushoverUser}&message=hi&priority=2`, { "content-type": "application/x-www-form-urlencoded" })).toMatchObject({ status: 400 })
      expect(yield* send("PUT", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/t1", { msgtype: "m.text", body: "hi" })).toMatchObject({ status: 401, body: expect.stringContaining("M_MISSING_TOKEN") })
      expect(yield* send("POST", "/api/webhooks/1/a", { content: "" })).toMatchObject({ status: 400, body: expect.stringContaining("50006") })
      expect(yield* send("POST", "/", { topic: "bad topic!" })).toMatchObject({ status: 400, body: expect.stringContaining("40009") })
      expect(yield* send("POST", "/services/T/B/X", {})).toMatchObject({ status: 400, body: "no_text" })
    }))
})

describe("notification settings", () => {
  const configError = (env: Record<string, string>) =>
    Layer.build(NotifyConfig.layer).pipe(
      Effect.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))),
      Effect.scoped,
      Effect.flip,
      Effect.map(String)
    )

  it.effect("a bad channel or route stops start-up naming the variable and the field", () =>
    Effect.gen(function*() {
      expect(yield* configError({ VIGIL_NOTIFY_WEBHOOKS: "telegram=https://api.telegram.org/botT/sendMessage" })).toContain(
        "VIGIL_NOTIFY_WEBHOOKS"
      )
      expect(yield* configError({ VIGIL_NOTIFY_WEBHOOKS: "telegram=https://api.telegram.org/botT/sendMessage" })).toContain("needs ?chat_id=<chat>")
      expect(yield* configError({ VIGIL_NOTIFY_WEBHOOKS: "pagr=https://x.example/" })).toContain("unknown preset pagr")
      const routes = yield* configError({
        VIGIL_NOTIFY_WEBHOOKS: "slack=https://hooks.slack.com/services/T/B/X",
        VIGIL_NOTIFY_ROUTES: JSON.stringify([{ channels: ["slack"] }, { channels: ["slak"], severity: "critical" }])
      })
      expect(routes).toContain("VIGIL_NOTIFY_ROUTES")
      expect(routes).toContain(`[1].channels[0]: no channel named "slak" (channels: slack)`)
      expect(yield* configError({ VIGIL_NOTIFY_ROUTES: JSON.stringify([{ channels: [], severity: "loud" }]) })).toContain("VIGIL_NOTIFY_ROUTES")
      expect(yield* configError({ VIGIL_NOTIFY_GROUP_BY: "node,colour" })).toContain(`"colour" is not one of node, condition, target, severity`)
    }))
})
