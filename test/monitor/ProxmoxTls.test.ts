import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Https from "node:https"
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { waitUntil } from "../support/Clients.js"
import { awaitEvents } from "../support/Events.js"
import { eventually } from "../support/Eventually.js"
import { startSimulator, watching } from "../support/Simulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const fixture = (name: string) => Path.join(import.meta.dirname, "..", "fixtures", name)
const tls = { key: readFileSync(fixture("sim-key.pem")), cert: readFileSync(fixture("sim-cert.pem")) }
const fingerprint = "2C:A5:C8:6D:48:02:4D:46:2C:69:19:A4:30:DF:97:7A:D9:16:7B:85:01:DB:12:D4:BD:7B:49:04:33:35:35:77"

/** Waits for the cluster view and returns the source health and node count it shows. */
/**
 * The cluster view, or the failure that matches `failure` when one is expected: on a loaded
 * machine a poll can time out (500 ms here) before the view, or before the failure the test is
 * about, so it waits for the answer the test asks about.
 */
const clusterState = (url: string, failure?: RegExp) =>
  Effect.map(
    eventually(
      "the cluster view or its failure",
      Effect.promise(() => fetch(`${url}/api/v1/cluster`).then((r) => r.json() as Promise<any>)),
      (body) => body.nodes !== undefined || (failure !== undefined && failure.test(body.message ?? ""))
    ),
    (body) => body.nodes === undefined ? { ok: false, message: body.message as string } : { ok: true, nodes: body.nodes.length }
  )

describe("Proxmox over TLS", () => {
  it.scopedLive("verifies the certificate by default: a self-signed one is refused and reported", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls })
      const vigil = yield* startVigil(watching(sim))
      const state = yield* clusterState(vigil.url, /self.signed|certificate/i)
      expect(state.ok).toBe(false)
      expect(state.message).toMatch(/self.signed|certificate/i)
      const degraded = (yield* getJson(`${vigil.url}/api/v1/events?type=source.degraded`)).body
      expect(degraded).toHaveLength(1)
    }))

  it.scopedLive("trusts the CA file given in VIGIL_PROXMOX_CA_FILE", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls })
      const vigil = yield* startVigil(watching(sim, { VIGIL_PROXMOX_CA_FILE: fixture("sim-cert.pem") }))
      expect(yield* clusterState(vigil.url)).toEqual({ ok: true, nodes: 3 })
    }))

  it.scopedLive("accepts the certificate pinned by VIGIL_PROXMOX_FINGERPRINT, and refuses another", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls })
      const pinned = yield* startVigil(watching(sim, { VIGIL_PROXMOX_FINGERPRINT: fingerprint.toLowerCase() }))
      expect(yield* clusterState(pinned.url)).toEqual({ ok: true, nodes: 3 })
      const wrong = yield* startVigil(watching(sim, { VIGIL_PROXMOX_FINGERPRINT: fingerprint.replace("2C", "3D") }))
      const state = yield* clusterState(wrong.url, /fingerprint/)
      expect(state.message).toMatch(/fingerprint/)
    }))

  for (const maxVersion of ["TLSv1.2", "TLSv1.3"] as const) {
    it.scopedLive(`a pinned connection holds across 100 polls against a server that issues session tickets (${maxVersion})`, () =>
      Effect.gen(function*() {
        // pveproxy issues session tickets; closing idle connections at once makes every poll a new one.
        const sim = yield* startSimulator({ tls: { ...tls, maxVersion }, keepAliveTimeoutMs: 1 })
        // A client that caches sessions does resume them here: tickets are on.
        yield* Effect.promise(async () => {
          const agent = new Https.Agent({ rejectUnauthorized: false })
          for (let i = 0; i < 3; i++) {
            await new Promise<void>((resolve, reject) =>
              Https.get(`${sim.url}/api2/json/cluster/status`, { agent }, (res) => res.resume().on("end", resolve)).on("error", reject))
            await new Promise((r) => setTimeout(r, 20))
          }
          agent.destroy()
        })
        expect(sim.tlsSessions.resumed).toBeGreaterThan(0)
        const vigil = yield* startVigil(watching(sim, { VIGIL_PROXMOX_FINGERPRINT: fingerprint, VIGIL_POLL_CRITICAL: "20 millis", VIGIL_POLL_IMPORTANT: "1 hour", VIGIL_POLL_BACKGROUND: "1 hour" }))
        yield* waitUntil("100 polls", () => (sim.hits.get("/cluster/resources") ?? 0) >= 100, 60_000)
        expect(sim.tlsSessions.full).toBeGreaterThan(50)
        expect((yield* getJson(`${vigil.url}/api/v1/events?type=source.*`)).body).toEqual([])
        expect(yield* clusterState(vigil.url)).toEqual({ ok: true, nodes: 3 })
      }))
  }

  it.scopedLive("a wrong pin is one source.degraded naming the expected and the presented fingerprint", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls, keepAliveTimeoutMs: 1 })
      const wrongPin = fingerprint.replace("2C", "3D")
      const vigil = yield* startVigil(watching(sim, { VIGIL_PROXMOX_FINGERPRINT: wrongPin }))
      yield* awaitEvents(vigil.url, "source.degraded")
      // Many more polls fail the same way (each a handshake the pin refuses); the outage is still one event.
      const connections = sim.connections
      yield* waitUntil("more refused polls", () => sim.connections >= connections + 6)
      const degraded = (yield* getJson(`${vigil.url}/api/v1/events?type=source.degraded`)).body
      expect(degraded).toHaveLength(1)
      expect(degraded[0].data.reason).toContain(`certificate fingerprint ${fingerprint} does not match VIGIL_PROXMOX_FINGERPRINT ${wrongPin}`)
    }))

  it.scopedLive("skips verification only when VIGIL_PROXMOX_INSECURE is set", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls })
      const vigil = yield* startVigil(watching(sim, { VIGIL_PROXMOX_INSECURE: "true" }))
      yield* waitUntil("polled", () => (sim.hits.get("/cluster/resources") ?? 0) > 0)
      expect(yield* clusterState(vigil.url)).toEqual({ ok: true, nodes: 3 })
    }))
})
