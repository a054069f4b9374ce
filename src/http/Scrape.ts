/**
 * One scrape: the cluster's `pve_` series from the latest snapshot, vigil's state read as it is
 * now (subscribers, deliveries, open incidents, leadership, source health) and the instruments
 * counted as things happened, rendered by prom-client in the format the scraper asked for. Each
 * scrape builds its own registry for what it reads, so concurrent scrapes share nothing mutable.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Prometheus from "prom-client"
import { Hub, type Transport } from "../bus/Hub.js"
import { version } from "../domain/Version.js"
import { ClusterWatch } from "../monitor/Monitor.js"
import { Leadership } from "../scale/Leadership.js"
import { Incidents } from "../store/Incidents.js"
import { collectProcessMetrics, instruments } from "../telemetry/Instruments.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { type Family, pveFamilies } from "../telemetry/PveSeries.js"

export interface Exposition {
  readonly body: string
  readonly contentType: string
}

const transports: ReadonlyArray<Transport> = ["sse", "ws", "internal"]

/** OpenMetrics when the scraper lists it (Prometheus does, first, since 2.5), else the text format. */
export const wantsOpenMetrics = (accept: string | undefined) => accept !== undefined && accept.includes("application/openmetrics-text")

const register = (registry: Prometheus.Registry, family: Family) => {
  const options = { name: family.name, help: family.help, labelNames: family.labelNames, registers: [registry] }
  if (family.type === "counter") {
    const counter = new Prometheus.Counter(options)
    for (const s of family.samples) counter.inc(s.labels, s.value)
  } else {
    const gauge = new Prometheus.Gauge(options)
    for (const s of family.samples) gauge.set(s.labels, s.value)
  }
}

export const makeScrape = Effect.gen(function*() {
  const hub = yield* Hub
  const incidents = yield* Incidents
  const leadership = yield* Leadership
  const watch = yield* ClusterWatch
  collectProcessMetrics()

  /** vigil's state as it is at this scrape. */
  const stateFamilies = Effect.gen(function*() {
    const subscribers = hub.countByTransport()
    const { cutOffs, delivered } = hub.counters()
    const open = yield* incidents.openIncidents.pipe(Effect.orElseSucceed(() => []))
    const byKind = new Map<string, { condition: string; severity: string; count: number }>()
    for (const i of open) {
      const key = `${i.condition}\u0000${i.severity}`
      const entry = byKind.get(key) ?? { condition: i.condition, severity: i.severity, count: 0 }
      entry.count++
      byKind.set(key, entry)
    }
    const leads = yield* leadership.isLeader
    const families: Array<Family> = [
      { name: "vigil_build_info", help: "vigil's version and this instance's id.", type: "gauge", labelNames: ["version", "instance"], samples: [{ labels: { version, instance: leadership.instance }, value: 1 }] },
      { name: "vigil_leader", help: "1 when this instance leads (polls the cluster and remediates).", type: "gauge", labelNames: [], samples: [{ labels: {}, value: leads ? 1 : 0 }] },
      { name: "vigil_subscribers", help: "Live stream subscribers, by transport.", type: "gauge", labelNames: ["transport"], samples: transports.map((t) => ({ labels: { transport: t }, value: subscribers[t] })) },
      { name: "vigil_deliveries_total", help: "Live events handed to subscribers, by transport (replays from the store not included).", type: "counter", labelNames: ["transport"], samples: transports.map((t) => ({ labels: { transport: t }, value: delivered[t] })) },
      { name: "vigil_subscriber_cutoffs_total", help: "Subscribers cut off for falling too far behind (they resume from the store), by transport.", type: "counter", labelNames: ["transport"], samples: transports.map((t) => ({ labels: { transport: t }, value: cutOffs[t] })) },
      { name: "vigil_incidents_open", help: "Open incidents, by condition and severity.", type: "gauge", labelNames: ["condition", "severity"], samples: [...byKind.values()].map((k) => ({ labels: { condition: k.condition, severity: k.severity }, value: k.count })) }
    ]
    if (Option.isSome(watch)) {
      const health = yield* watch.value.sourceHealth
      families.push({ name: "vigil_source_up", help: "1 while the watched source answers its polls.", type: "gauge", labelNames: ["source"], samples: [{ labels: { source: watch.value.sourceName }, value: health._tag === "Healthy" ? 1 : 0 }] })
    }
    return families
  })

  /** The cluster's series (see clusterPart), when a Proxmox VE cluster is watched and has been seen. */
  const clusterText = (openMetrics: boolean) =>
    Option.match(watch, {
      onNone: () => Effect.succeed(""),
      onSome: (m) =>
        Effect.flatMap(m.latest, (latest) =>
          Option.isSome(latest) && latest.value.source === "proxmox" ? clusterPart(latest.value, openMetrics) : Effect.succeed(""))
    })

  return Effect.fn("Scrape.exposition")(function*(accept: string | undefined) {
    const openMetrics = wantsOpenMetrics(accept)
    const cluster = yield* clusterText(openMetrics)
    const merged = Prometheus.Registry.merge([instruments])
    for (const family of yield* stateFamilies) register(merged, family)
    // prom-client types a merged registry as text-format only, though its format can be switched.
    const registry = merged as Prometheus.Registry<Prometheus.RegistryContentType>
    if (openMetrics) registry.setContentType(Prometheus.Registry.OPENMETRICS_CONTENT_TYPE)
    const own = yield* turns.withPermits(1)(Effect.promise(() => renderKeepingNames(registry)))
    return { body: cluster === "" ? own : `${cluster}\n${own}`, contentType: registry.contentType } satisfies Exposition
  })
})

const clusterParts = new WeakMap<Snapshot, { text?: string; openMetrics?: string }>()

/**
 * The cluster's part of the exposition, rendered once per snapshot and format: it is most of a
 * scrape (for 10,000 guests, 370,000 series and about 18 MB, as the exporter serves them; over a
 * second of CPU to render), and a snapshot changes only once per critical poll. In OpenMetrics
 * its `# EOF` is left off: vigil's own part follows and ends the exposition.
 */
const clusterPart = (snapshot: Snapshot, openMetrics: boolean) =>
  Effect.promise(async () => {
    const cached = clusterParts.get(snapshot) ?? {}
    const hit = openMetrics ? cached.openMetrics : cached.text
    if (hit !== undefined) return hit
    const registry = new Prometheus.Registry<Prometheus.RegistryContentType>()
    if (openMetrics) registry.setContentType(Prometheus.Registry.OPENMETRICS_CONTENT_TYPE)
    const families = pveFamilies(snapshot)
    for (const family of openMetrics ? withoutCounterTwins(families) : families) register(registry as Prometheus.Registry, family)
    const rendered = (await registry.metrics()).replace(/# EOF\n$/, "").replace(/\n$/, "")
    clusterParts.set(snapshot, openMetrics ? { ...cached, openMetrics: rendered } : { ...cached, text: rendered })
    return rendered
  })

/**
 * OpenMetrics names a counter's family without `_total`, so a gauge named like a counter's
 * family (the exporter's deprecated `pve_network_transmit_bytes` beside
 * `pve_network_transmit_bytes_total`) would be a second family of the same name, and the scrape
 * invalid. The text format keeps both, for the dashboards that read the old names.
 */
const withoutCounterTwins = (families: ReadonlyArray<Family>) => {
  const counterFamilies = new Set(families.filter((f) => f.type === "counter").map((f) => f.name.replace(/_total$/, "")))
  return families.filter((f) => f.type === "counter" || !counterFamilies.has(f.name))
}

/** One scrape renders at a time: rendering OpenMetrics briefly renames the shared counters (below). */
const turns = Effect.unsafeMakeSemaphore(1)

/**
 * prom-client drops `_total` from a counter object's own name when it renders OpenMetrics, so
 * the instruments every registry shares would lose it for the text format after one OpenMetrics
 * scrape. Their names are put back once the text is out.
 */
const renderKeepingNames = async (registry: Prometheus.Registry<Prometheus.RegistryContentType>) => {
  const counters = registry.getMetricsAsArray().filter((m) => String(m.type) === "counter")
  const names = counters.map((m) => m.name)
  try {
    return await registry.metrics()
  } finally {
    counters.forEach((m, i) => (m.name = names[i]!))
  }
}
