import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as Path from "node:path"
import { waitUntil } from "../support/Clients.js"
import { startSimulator, watching } from "../support/Simulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const fixture = (name: string) => Path.join(import.meta.dirname, "..", "fixtures", name)
const tls = { key: readFileSync(fixture("sim-key.pem")), cert: readFileSync(fixture("sim-cert.pem")) }
const fingerprint = "2C:A5:C8:6D:48:02:4D:46:2C:69:19:A4:30:DF:97:7A:D9:16:7B:85:01:DB:12:D4:BD:7B:49:04:33:35:35:77"

/** Waits for the cluster view and returns the source health and node count it shows. */
const clusterState = (url: string) =>
  Effect.gen(function*() {
    let body: any
    yield* Effect.promise(async () => {
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline) {
        body = await fetch(`${url}/api/v1/cluster`).then((r) => r.json())
        if (body.nodes !== undefined || /failing/.test(body.message ?? "")) return
        await new Promise((r) => setTimeout(r, 50))
      }
    })
    return body.nodes === undefined ? { ok: false, message: body.message as string } : { ok: true, nodes: body.nodes.length }
  })

describe("Proxmox over TLS", () => {
  it.scopedLive("verifies the certificate by default: a self-signed one is refused and reported", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls })
      const vigil = yield* startVigil(watching(sim))
      const state = yield* clusterState(vigil.url)
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
      const state = yield* clusterState(wrong.url)
      expect(state.message).toMatch(/fingerprint/)
    }))

  it.scopedLive("skips verification only when VIGIL_PROXMOX_INSECURE is set", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator({ tls })
      const vigil = yield* startVigil(watching(sim, { VIGIL_PROXMOX_INSECURE: "true" }))
      yield* waitUntil("polled", () => (sim.hits.get("/cluster/resources") ?? 0) > 0)
      expect(yield* clusterState(vigil.url)).toEqual({ ok: true, nodes: 3 })
    }))
})
