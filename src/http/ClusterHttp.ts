/**
 * Handlers for the cluster group: the latest snapshot, with each resource's usage and the open
 * incidents on it, and the incident list.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { guestKey, storageKey } from "../domain/Snapshot.js"
import { timeline } from "../domain/Timeline.js"
import { Deliveries } from "../notify/Deliveries.js"
import { AuditRepo } from "../remediation/AuditRepo.js"
import { EventRepo } from "../store/EventRepo.js"
import { Incidents } from "../store/Incidents.js"
import { ClusterWatch } from "../monitor/Monitor.js"
import { UpdatesMonitor } from "../monitor/UpdatesMonitor.js"
import { percent } from "../monitor/Thresholds.js"
import { VigilApi } from "../api/Api.js"
import { NotFound, ServiceUnavailable, storeUnavailable } from "../api/ApiErrors.js"

/** A percentage for display: one decimal, null when not measured. */
const shown = (used: number | undefined, total: number | undefined) => {
  const p = percent(used, total)
  return p === undefined ? null : Math.round(p * 10) / 10
}

const unavailable = storeUnavailable

type OpenIncident = { readonly condition: string; readonly node?: string | null | undefined; readonly severity: string }

/**
 * What the storage checks say of a node, for its tile: its disks (a failing SMART verdict, or worn
 * out), its ZFS pools, and Ceph's health where the node uses Ceph storage (null where it does not).
 */
export const storageHealth = (node: string, open: ReadonlyArray<OpenIncident>, storageTypes: ReadonlyArray<string | undefined>) => {
  const here = (condition: string) => open.filter((i) => i.condition === condition && i.node === node)
  const ceph = open.find((i) => i.condition === "CEPH_HEALTH")
  return {
    disks: here("DISK_HEALTH").length > 0 ? "failing" as const : here("DISK_WEAROUT").length > 0 ? "worn" as const : "ok" as const,
    zfs: here("ZFS_POOL").length > 0 ? "degraded" as const : "ok" as const,
    ceph: !storageTypes.some((t) => t === "rbd" || t === "cephfs") ? null : ceph === undefined ? "HEALTH_OK" as const : ceph.severity === "error" || ceph.severity === "critical" ? "HEALTH_ERR" as const : "HEALTH_WARN" as const
  }
}

/** At most this many events and audit rows go into one timeline: a flapping incident's history is long. */
const timelineEvents = 2_000

export const ClusterHttp = HttpApiBuilder.group(VigilApi, "cluster", (handlers) =>
  Effect.gen(function*() {
    const incidents = yield* Incidents
    const monitor = yield* ClusterWatch
    const updates = yield* UpdatesMonitor
    const repo = yield* EventRepo
    const audit = yield* AuditRepo
    const deliveries = yield* Deliveries

    return handlers
      .handle("cluster", () =>
        Effect.gen(function*() {
          if (Option.isNone(monitor)) {
            return yield* new NotFound({ message: "no cluster is watched (VIGIL_SOURCE=none)" })
          }
          const m = monitor.value
          const health = yield* m.sourceHealth
          const current = yield* m.view
          if (Option.isNone(current)) {
            return yield* new ServiceUnavailable({
              message: health._tag === "Degraded"
                ? `no snapshot yet: source ${m.sourceName} is failing (${health.reason})`
                : "no snapshot yet: the first poll has not finished"
            })
          }
          const { snapshot: s, watch } = current.value
          const open = yield* incidents.openIncidents.pipe(Effect.mapError(unavailable))
          const on = (target: string) => open.filter((i) => i.target === target).map((i) => i.key)
          const down = new Set(s.nodes.filter((n) => n.status !== "online").map((n) => n.name))
          return {
            source: s.source,
            sourceHealth: health._tag === "Healthy"
              ? { status: "healthy" as const, reason: null, since: null }
              : { status: "degraded" as const, reason: health.reason, since: new Date(health.since).toISOString() },
            takenAt: new Date(s.takenAt).toISOString(),
            quorate: s.quorate ?? null,
            summary: {
              nodesOnline: s.nodes.filter((n) => n.status === "online").length,
              nodesTotal: s.nodes.length,
              guestsRunning: s.guests.filter((g) => g.status === "running").length,
              guestsTotal: s.guests.length,
              openIncidents: open.length
            },
            nodes: s.nodes.map((n) => ({
              ...n,
              usage: { cpu: n.cpu === undefined ? null : Math.round(n.cpu * 1000) / 10, mem: shown(n.mem, n.maxmem), disk: shown(n.disk, n.maxdisk) },
              incidents: on(`node/${n.name}`),
              updates: updates.pending(n.name) ?? null,
              storageHealth: storageHealth(n.name, open, s.storage.filter((p) => p.node === n.name).map((p) => p.type))
            })),
            guests: s.guests.map((g) => {
              const memory = watch?.guests.get(guestKey(g))
              return {
                ...g,
                usage: { cpu: g.cpu === undefined ? null : Math.round(g.cpu * 1000) / 10, mem: shown(g.mem, g.maxmem), disk: g.disk ? shown(g.disk, g.maxdisk) : null },
                incidents: on(guestKey(g)),
                cause: memory?.cause ?? null,
                affected: memory?.outage !== undefined || (down.has(g.node) && g.status !== "stopped") ? "node-outage" as const : null
              }
            }),
            storage: s.storage.map((p) => ({
              ...p,
              percent: shown(p.used, p.total),
              incidents: on(storageKey(p)),
              affected: down.has(p.node) ? "node-outage" as const : null
            })),
            portConflicts: s.portConflicts,
            services: s.services
          }
        }))
      .handle("incidents", ({ urlParams }) => incidents.list(urlParams).pipe(Effect.mapError(unavailable)))
      .handle("timeline", ({ path }) =>
        Effect.gen(function*() {
          const incident = yield* incidents.byId(path.id)
          if (incident === undefined) return yield* new NotFound({ message: `no incident ${path.id}` })
          const events = yield* repo.aboutSubject(incident.target, Date.parse(incident.openedAt), timelineEvents)
          const actions = yield* audit.recent({ incidentKey: incident.key, limit: timelineEvents })
          return timeline(incident, events, actions, yield* deliveries.aboutIncident(incident))
        }).pipe(Effect.catchTags({
          SqlError: (e) => Effect.fail(unavailable(e)),
          ParseError: (e) => Effect.fail(unavailable(e))
        })))
  }))
