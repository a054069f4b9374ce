/**
 * The PVE simulator on a loopback port for the test's scope, and the vigil settings that point
 * at it with short poll intervals.
 */
import * as Effect from "effect/Effect"
import { PveSimulator } from "../../src/sim/PveSimulator.js"

export const simToken = "root@pam!vigil=11111111-2222-3333-4444-555555555555"

export const startSimulator = (options: ConstructorParameters<typeof PveSimulator>[0] = {}) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const sim = new PveSimulator({ token: simToken, ...options })
      await sim.start()
      return sim
    }),
    (sim) => Effect.promise(() => sim.stop())
  )

/**
 * Intervals short enough for tests; the important and background tiers run as often as critical.
 * Remediation is off unless the test turns it on: detection tests watch a cluster nobody heals.
 */
export const watching = (sim: PveSimulator, env: Record<string, string> = {}) => ({
  VIGIL_REMEDIATION: "false",
  VIGIL_SOURCE: "proxmox",
  VIGIL_PROXMOX_URL: sim.url,
  VIGIL_PROXMOX_TOKEN: simToken,
  VIGIL_POLL_CRITICAL: "200 millis",
  VIGIL_POLL_IMPORTANT: "200 millis",
  VIGIL_POLL_ROUTINE: "1 second",
  VIGIL_POLL_BACKGROUND: "200 millis",
  VIGIL_SOURCE_TIMEOUT: "500 millis",
  ...env
})

/**
 * Waits until vigil's watch has seeded from a first critical poll: the cluster view answers, and
 * then a few critical intervals pass (the first view can come from another tier's poll).
 */
export const watchSeeded = (vigilUrl: string) =>
  Effect.promise(async () => {
    const deadline = Date.now() + 20_000
    while ((await fetch(`${vigilUrl}/api/v1/cluster`)).status !== 200) {
      if (Date.now() > deadline) throw new Error("the watch never produced a snapshot")
      await new Promise((r) => setTimeout(r, 50))
    }
    await new Promise((r) => setTimeout(r, 700))
  })
