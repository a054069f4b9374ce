/**
 * The cluster group: the latest snapshot with per-resource usage and status, and incidents.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import { RequireRead } from "./Security.js"
import { Cause } from "../domain/Cause.js"
import { ClusterNode, Guest, PortConflict, ServiceCheck, StoragePool } from "../domain/Snapshot.js"
import { Incident } from "../domain/Incident.js"
import { IncidentTimeline } from "../domain/Timeline.js"
import { NotFound, ServiceUnavailable } from "./ApiErrors.js"

const Usage = Schema.Struct({
  cpu: Schema.NullOr(Schema.Number),
  mem: Schema.NullOr(Schema.Number),
  disk: Schema.NullOr(Schema.Number)
}).annotations({ description: "Percent used, null when not measured" })

export const ClusterView = Schema.Struct({
  source: Schema.String,
  sourceHealth: Schema.Struct({
    status: Schema.Literal("healthy", "degraded"),
    reason: Schema.NullOr(Schema.String),
    since: Schema.NullOr(Schema.String)
  }),
  takenAt: Schema.NullOr(Schema.String),
  quorate: Schema.NullOr(Schema.Boolean),
  summary: Schema.Struct({
    nodesOnline: Schema.Int,
    nodesTotal: Schema.Int,
    guestsRunning: Schema.Int,
    guestsTotal: Schema.Int,
    openIncidents: Schema.Int
  }),
  nodes: Schema.Array(Schema.extend(ClusterNode, Schema.Struct({
    usage: Usage,
    incidents: Schema.Array(Schema.String),
    updates: Schema.NullOr(Schema.Struct({ count: Schema.Int, byOrigin: Schema.Record({ key: Schema.String, value: Schema.Int }) })).annotations({
      description: "Package updates pending on the node (background tier); null until read, or when the token may not list them (Sys.Modify)"
    }),
    storageHealth: Schema.Struct({
      disks: Schema.Literal("ok", "failing", "worn").annotations({ description: "failing: a disk's SMART verdict is a failure; worn: an SSD under VIGIL_DISK_WEAROUT_MIN" }),
      zfs: Schema.Literal("ok", "degraded").annotations({ description: "degraded: a ZFS pool is not ONLINE" }),
      ceph: Schema.NullOr(Schema.Literal("HEALTH_OK", "HEALTH_WARN", "HEALTH_ERR")).annotations({ description: "Ceph's health where the node has Ceph storage; null where it has none" })
    }).annotations({ description: "What the storage checks say of the node (open DISK_*, ZFS_POOL and CEPH_HEALTH incidents)" })
  }))),
  guests: Schema.Array(Schema.extend(
    Guest,
    Schema.Struct({
      usage: Usage,
      incidents: Schema.Array(Schema.String),
      cause: Schema.NullOr(Cause).annotations({ description: "Why its state last changed, when vigil saw it change" }),
      affected: Schema.NullOr(Schema.Literal("node-outage")).annotations({
        description: "Its node is down: it ran there, and is followed until it runs again"
      })
    })
  )),
  storage: Schema.Array(Schema.extend(
    StoragePool,
    Schema.Struct({
      percent: Schema.NullOr(Schema.Number),
      incidents: Schema.Array(Schema.String),
      affected: Schema.NullOr(Schema.Literal("node-outage")).annotations({ description: "Its node is down: not judged until it is back" })
    })
  )),
  portConflicts: Schema.Array(PortConflict),
  services: Schema.Array(ServiceCheck)
}).annotations({ identifier: "ClusterView" })

export const IncidentQuery = Schema.Struct({
  status: Schema.optional(Schema.Literal("open", "resolved", "all")),
  condition: Schema.optional(Schema.String),
  node: Schema.optional(Schema.String),
  limit: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000, { message: () => "must be between 1 and 1000" }))
  )
})

export class ClusterApi extends HttpApiGroup.make("cluster")
  .add(
    HttpApiEndpoint.get("cluster", "/api/v1/cluster")
      .middleware(RequireRead)
      .addSuccess(ClusterView)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("incidents", "/api/v1/incidents")
      .middleware(RequireRead)
      .setUrlParams(IncidentQuery)
      .addSuccess(Schema.Array(Incident))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("timeline", "/api/v1/incidents/:id/timeline")
      .middleware(RequireRead)
      .setPath(Schema.Struct({ id: Schema.String }))
      .addSuccess(IncidentTimeline)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Everything vigil knows about the incident, in order, with the trace id")
  )
{}
