/**
 * Routes: which channel gets what (`VIGIL_NOTIFY_ROUTES`). Each route names channels and, all
 * optional, the lowest severity, the conditions and the nodes it takes; an alert goes to the
 * channels of every route it matches. Without routes every channel gets every alert of
 * severity warning and above.
 *
 *   [{ "channels": ["email", "ntfy"], "severity": "critical" },
 *    { "channels": ["slack"] },
 *    { "channels": ["pagerduty"], "condition": ["NODE_UNREACHABLE", "QUORUM_LOST"] }]
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { Severity, severityRank } from "../domain/Severity.js"
import type { Alert } from "./Alerts.js"

const OneOrMany = Schema.Union(Schema.String, Schema.Array(Schema.String))

export const Route = Schema.Struct({
  channels: Schema.Array(Schema.String).pipe(Schema.minItems(1)),
  severity: Schema.optional(Severity).annotations({ description: "The lowest severity taken" }),
  condition: Schema.optional(OneOrMany),
  node: Schema.optional(OneOrMany)
}).annotations({ parseOptions: { onExcessProperty: "error" } })
export type Route = typeof Route.Type

export const Routes = Schema.Array(Route)

const list = (v: string | ReadonlyArray<string> | undefined): ReadonlyArray<string> | undefined =>
  v === undefined ? undefined : typeof v === "string" ? [v] : v

export const defaultRoutes = (channels: ReadonlyArray<string>): ReadonlyArray<Route> =>
  channels.length === 0 ? [] : [{ channels, severity: "warning" }]

const matches = (route: Route, alert: Alert) => {
  const conditions = list(route.condition)
  const nodes = list(route.node)
  return (route.severity === undefined || severityRank(alert.severity) >= severityRank(route.severity)) &&
    (conditions === undefined || conditions.includes(alert.condition)) &&
    (nodes === undefined || (alert.node !== null && nodes.includes(alert.node)))
}

/** The channels an alert goes to, each once, in the order routes name them. */
export const channelsFor = (routes: ReadonlyArray<Route>) => (alert: Alert): ReadonlyArray<string> => {
  const out = new Set<string>()
  for (const route of routes) if (matches(route, alert)) for (const c of route.channels) out.add(c)
  return [...out]
}

/** Every channel a route names must exist; the error names the route and the channel. */
export const checkRoutes = (routes: ReadonlyArray<Route>, channels: ReadonlyArray<string>): Either.Either<ReadonlyArray<Route>, string> => {
  for (const [i, route] of routes.entries()) {
    for (const [j, name] of route.channels.entries()) {
      if (!channels.includes(name)) {
        return Either.left(
          `[${i}].channels[${j}]: no channel named "${name}" (channels: ${channels.length === 0 ? "none configured" : channels.join(", ")})`
        )
      }
    }
  }
  return Either.right(routes)
}
