/**
 * `/metrics`: the cluster under prometheus-pve-exporter's names, labels and ids (held against
 * that exporter's own logic fed the same API answers), vigil's `vigil_` metrics moving as things
 * happen, both exposition formats, the `read` scope, and the unauthenticated metrics listener.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Tokens } from "../../src/access/Tokens.js"
import { freePort } from "../support/Processes.js"
import { exporterSeries, parseExposition, type Series } from "../support/PveExporter.js"
import { simToken, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { cloudEvent, postEvents, startVigil } from "../support/Vigil.js"

const scrape = (url: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers })
    return { status: response.status, contentType: response.headers.get("content-type") ?? "", body: await response.text() }
  })

const pveApi = (simUrl: string, path: string) =>
  Effect.promise(() =>
    fetch(`${simUrl}/api2/json${path}`, { headers: { authorization: `PVEAPIToken=${simToken}` } })
      .then((r) => r.json() as Promise<{ data: unknown }>)
      .then((body) => body.data)
  )

const only = (series: Series, prefix: string) => new Map([...series].filter(([key]) => key.startsWith(prefix)))

const value = (series: Series, key: string) => series.get(key) ?? 0

describe("Prometheus metrics", () => {
  it.scopedLive("the cluster's series are prometheus-pve-exporter's for the same cluster: names, labels, ids and values", () =>
    Effect.gen(function*() {
      // A still clock: uptimes and I/O counters read the same from vigil's poll and from the API.
      const at = Date.parse("2026-11-23T12:00:00Z")
      const sim = yield* startSimulator({ now: () => at })
      sim.cluster.state.guests.find((g) => g.vmid === 101)!.lock = "backup"
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)

      const ours = only(parseExposition((yield* scrape(`${vigil.url}/metrics`)).body), "pve_")
      const theirs = exporterSeries(
        (yield* pveApi(sim.url, "/cluster/resources")) as Array<Record<string, unknown>>,
        (yield* pveApi(sim.url, "/cluster/status")) as Array<Record<string, unknown>>,
        (yield* pveApi(sim.url, "/version")) as Record<string, unknown>
      )
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort())
      for (const [key, expected] of theirs) expect([key, ours.get(key)]).toEqual([key, expected])
      // The examples of the exporter's own documentation, in this cluster's terms.
      expect(ours.get(`pve_up{id="node/pve1"}`)).toBe(1)
      expect(ours.get(`pve_up{id="cluster/sim"}`)).toBe(1)
      expect(ours.get(`pve_up{id="lxc/104"}`)).toBe(0)
      expect(ours.get(`pve_lock_state{id="qemu/101",state="backup"}`)).toBe(1)
      expect(ours.get(`pve_ha_state{id="qemu/103",state="started"}`)).toBe(1)
      expect(ours.has(`pve_storage_info{content="backup,iso,vztmpl",id="storage/pve1/local",node="pve1",plugintype="dir",storage="local"}`)).toBe(true)
    }))

  it.scopedLive("vigil's own metrics move as events are ingested, refused, stored and streamed", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const before = parseExposition((yield* scrape(`${vigil.url}/metrics`)).body)
      const stream = yield* Effect.acquireRelease(
        Effect.sync(() => new AbortController()),
        (c) => Effect.sync(() => c.abort())
      )
      yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/events/stream`, { signal: stream.signal }))
      yield* postEvents(vigil.url, [cloudEvent(), cloudEvent(), { specversion: "1.0", id: "no-source" }])
      const after = parseExposition((yield* scrape(`${vigil.url}/metrics`)).body)

      const delta = (key: string) => value(after, key) - value(before, key)
      expect(delta(`vigil_events_ingested_total{result="accepted",route="events"}`)).toBe(2)
      expect(delta(`vigil_events_rejected_total{reason="invalid"}`)).toBe(1)
      expect(delta("vigil_events_stored_total")).toBeGreaterThanOrEqual(2)
      expect(delta("vigil_commit_batch_events_count")).toBeGreaterThanOrEqual(1)
      expect(value(after, `vigil_subscribers{transport="sse"}`)).toBe(1)
      expect(delta(`vigil_deliveries_total{transport="sse"}`)).toBe(2)
      expect(value(after, "vigil_leader")).toBe(1)
      expect(after.has("process_resident_memory_bytes")).toBe(true)
    }))

  it.scopedLive("OpenMetrics when the scraper asks for it, the text format otherwise", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const text = yield* scrape(`${vigil.url}/metrics`)
      expect(text.contentType).toMatch(/^text\/plain; version=0\.0\.4/)
      const open = yield* scrape(`${vigil.url}/metrics`, {
        accept: "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1"
      })
      expect(open.status).toBe(200)
      expect(open.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/)
      expect(open.body.trimEnd().endsWith("# EOF")).toBe(true)
      expect(open.body).toContain("# TYPE vigil_events_stored counter")
      // Rendering OpenMetrics leaves the counters' names as they were for the next text scrape.
      expect((yield* scrape(`${vigil.url}/metrics`)).body).toContain("# TYPE vigil_events_stored_total counter")
    }))

  it.scopedLive("with authentication on, /metrics needs the read scope; the metrics listener serves it without a token, and nothing else", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const vigil = yield* startVigil({ VIGIL_AUTH: "on", VIGIL_METRICS_PORT: String(port) })
      const token = yield* vigil.use(Effect.flatMap(Tokens, (t) => t.create({ user: "prometheus", scopes: ["read"] })))
      expect((yield* scrape(`${vigil.url}/metrics`)).status).toBe(401)
      const withToken = yield* scrape(`${vigil.url}/metrics`, { authorization: `Bearer ${token.token}` })
      expect(withToken.status).toBe(200)
      expect(withToken.body).toContain("vigil_events_stored_total")

      const open = yield* scrape(`http://127.0.0.1:${port}/metrics`)
      expect(open.status).toBe(200)
      expect(open.body).toContain("vigil_build_info")
      expect((yield* scrape(`http://127.0.0.1:${port}/api/v1/events`)).status).toBe(404)
    }))
})
