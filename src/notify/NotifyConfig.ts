/**
 * Notification settings, from `VIGIL_NOTIFY_*`, `VIGIL_SMTP_*`, `VIGIL_FLAP_*` and
 * `VIGIL_PUBLIC_URL`, checked at start: a bad value stops start-up naming the variable (and,
 * for routes, the route and the field).
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { commaList, jsonConfig, positiveInt } from "../domain/ConfigFormats.js"
import { GroupLabel } from "./Alerts.js"
import { type Channel, parseWebhooks } from "./Channels.js"
import { checkRoutes, defaultRoutes, Routes } from "./Routes.js"

const duration = (name: string, fallback: Duration.DurationInput) =>
  Config.duration(name).pipe(Config.withDefault(Duration.decode(fallback)))

const invalid = (name: string, message: string) => ConfigError.InvalidData([name], message)

const notifyConfig = Config.all({
  webhooks: commaList("VIGIL_NOTIFY_WEBHOOKS").pipe(
    Config.mapOrFail((entries) => Either.mapLeft(parseWebhooks(entries), (m) => invalid("VIGIL_NOTIFY_WEBHOOKS", m)))
  ),
  smtpUrl: Config.string("VIGIL_SMTP_URL").pipe(Config.option),
  smtpFrom: Config.string("VIGIL_SMTP_FROM").pipe(Config.withDefault("vigil@localhost")),
  smtpTo: commaList("VIGIL_SMTP_TO"),
  routes: jsonConfig("VIGIL_NOTIFY_ROUTES", Routes).pipe(Config.option),
  groupBy: commaList("VIGIL_NOTIFY_GROUP_BY", "node,condition").pipe(
    Config.mapOrFail((labels) => {
      const wrong = labels.find((l) => !Schema.is(GroupLabel)(l))
      return wrong === undefined
        ? Either.right(labels as ReadonlyArray<GroupLabel>)
        : Either.left(invalid("VIGIL_NOTIFY_GROUP_BY", `"${wrong}" is not one of node, condition, target, severity`))
    })
  ),
  groupWait: duration("VIGIL_NOTIFY_GROUP_WAIT", "30 seconds"),
  groupInterval: duration("VIGIL_NOTIFY_GROUP_INTERVAL", "5 minutes"),
  repeatInterval: duration("VIGIL_NOTIFY_REPEAT_INTERVAL", "4 hours"),
  budget: positiveInt("VIGIL_NOTIFY_BUDGET", 20),
  flapCount: positiveInt("VIGIL_FLAP_COUNT", 5),
  flapWindow: duration("VIGIL_FLAP_WINDOW", "30 minutes"),
  webhookSecret: Config.redacted("VIGIL_NOTIFY_WEBHOOK_SECRET").pipe(Config.option),
  attempts: positiveInt("VIGIL_NOTIFY_ATTEMPTS", 4),
  backoff: duration("VIGIL_NOTIFY_BACKOFF", "500 millis"),
  timeout: duration("VIGIL_NOTIFY_TIMEOUT", "15 seconds"),
  tick: duration("VIGIL_NOTIFY_TICK", "1 second"),
  publicUrl: Config.string("VIGIL_PUBLIC_URL").pipe(Config.option),
  host: Config.string("VIGIL_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.integer("VIGIL_PORT").pipe(Config.withDefault(7070))
}).pipe(
  Config.mapOrFail((c) => {
    if (Option.isSome(c.smtpUrl) && c.smtpTo.length === 0) {
      return Either.left(ConfigError.MissingData(["VIGIL_SMTP_TO"], "VIGIL_SMTP_URL is set but nobody to mail (VIGIL_SMTP_TO)"))
    }
    const channels: ReadonlyArray<Channel> = [
      ...Option.match(c.smtpUrl, {
        onNone: () => [],
        onSome: (url) => [{ _tag: "Email", name: "email", url, from: c.smtpFrom, to: c.smtpTo } as const]
      }),
      ...c.webhooks
    ]
    const names = channels.map((ch) => ch.name)
    const routes = Option.match(c.routes, {
      onNone: () => Either.right(defaultRoutes(names)),
      onSome: (routes) => checkRoutes(routes, names)
    })
    if (Either.isLeft(routes)) return Either.left(invalid("VIGIL_NOTIFY_ROUTES", routes.left))
    return Either.right({
      channels,
      routes: routes.right,
      groupBy: c.groupBy,
      groupWait: c.groupWait,
      groupInterval: c.groupInterval,
      repeatInterval: c.repeatInterval,
      budget: c.budget,
      flapCount: c.flapCount,
      flapWindow: c.flapWindow,
      webhookSecret: c.webhookSecret,
      attempts: c.attempts,
      backoff: c.backoff,
      timeout: c.timeout,
      tick: c.tick,
      publicUrl: Option.getOrElse(c.publicUrl, () => `http://${c.host === "0.0.0.0" ? "localhost" : c.host}:${c.port}`)
    })
  })
)

export class NotifyConfig extends Context.Tag("vigil/NotifyConfig")<NotifyConfig, Config.Config.Success<typeof notifyConfig>>() {
  static readonly layer = Layer.effect(NotifyConfig, notifyConfig)
}
