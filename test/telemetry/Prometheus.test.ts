/**
 * A real Prometheus (Debian's `prometheus` package) scrapes vigil, once through the API with a
 * `read` token and once through the unauthenticated metrics listener, and answers queries about
 * the simulated cluster from what it stored; `promtool check metrics` finds nothing to lint.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Tokens } from "../../src/access/Tokens.js"
import { eventually } from "../support/Eventually.js"
import { freePort } from "../support/Processes.js"
import { ensurePrometheus, promtoolCheck, startPrometheus } from "../support/Prometheus.js"
import { startSimulator, watching } from "../support/Simulator.js"
import { startVigil } from "../support/Vigil.js"

describe("a real Prometheus", () => {
  it.scopedLive("scrapes vigil with a read token and through the metrics listener, and answers for the cluster from what it stored", () =>
    Effect.gen(function*() {
      yield* ensurePrometheus
      const sim = yield* startSimulator()
      const metricsPort = yield* freePort
      const vigil = yield* startVigil(watching(sim, { VIGIL_AUTH: "on", VIGIL_METRICS_PORT: String(metricsPort) }))
      const scrape = Effect.promise(() => fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text()))
      const text = yield* eventually("the cluster is seen", scrape, (body) => body.includes(`pve_guest_info{id="qemu/101"`))
      const token = yield* vigil.use(Effect.flatMap(Tokens, (t) => t.create({ user: "prometheus", scopes: ["read"] })))

      // The text format passes Prometheus's own linter.
      expect(promtoolCheck(text)).toEqual({ status: 0, problems: "" })

      const prometheus = yield* startPrometheus([
        { name: "vigil-api", target: `127.0.0.1:${vigil.port}`, token: token.token },
        { name: "vigil-listener", target: `127.0.0.1:${metricsPort}` }
      ])
      const up = yield* eventually(
        "both jobs were scraped successfully",
        prometheus.query("up"),
        (r) => r.length === 2 && r.every((s) => s.value[1] === "1"),
        60_000
      )
      expect(up.map((s) => s.metric.job).sort()).toEqual(["vigil-api", "vigil-listener"])

      const nodes = yield* eventually("the nodes are stored", prometheus.query(`pve_up{job="vigil-api",id=~"node/.*"}`), (r) => r.length === 3)
      expect(nodes.map((s) => [s.metric.id, s.value[1]]).sort()).toEqual([["node/pve1", "1"], ["node/pve2", "1"], ["node/pve3", "1"]])
      const guests = yield* prometheus.query(`count by (job) (pve_guest_info)`)
      expect(guests.map((s) => [s.metric.job, s.value[1]]).sort()).toEqual([["vigil-api", "6"], ["vigil-listener", "6"]])
      const running = yield* prometheus.query(`pve_up{job="vigil-listener"} * on (id) group_left(name) pve_guest_info{job="vigil-listener"}`)
      expect(running.filter((s) => s.value[1] === "1").map((s) => s.metric.name).sort()).toEqual(["cache", "db", "web", "worker"])
      const stored = yield* prometheus.query(`vigil_events_stored_total{job="vigil-api"}`)
      expect(Number(stored[0]?.value[1])).toBeGreaterThan(0)
      const memory = yield* prometheus.query(`pve_memory_usage_bytes{id="qemu/101",job="vigil-listener"}`)
      expect(Number(memory[0]?.value[1])).toBe(3 * 1024 ** 3)
    }), { timeout: 300_000 })
})
