/**
 * The health group: is this instance serving, and can it reach its store.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as Schema from "effect/Schema"

export const Health = Schema.Struct({
  status: Schema.Literal("ok", "degraded"),
  version: Schema.String,
  uptimeSeconds: Schema.Number,
  store: Schema.Struct({ reachable: Schema.Boolean, dialect: Schema.String }),
  subscribers: Schema.Int,
  instance: Schema.String,
  leader: Schema.Boolean.annotations({ description: "Whether this instance polls the cluster and remediates" }),
  source: Schema.Literal("localhost", "proxmox", "none").annotations({
    description: "What is watched (VIGIL_SOURCE): with none, /api/v1/cluster answers 404"
  })
}).annotations({ identifier: "Health" })

export class HealthApi extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", "/api/v1/health").addSuccess(Health))
{}
