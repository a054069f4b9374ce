/**
 * The PVE simulator on a loopback port for the test's scope, and the vigil settings that point
 * at it with short poll intervals.
 */
import * as Effect from "effect/Effect"
import { PveSimulator } from "../../src/sim/PveSimulator.js"
import { eventually } from "./Eventually.js"

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
 * Watching with remediation acting at once and one webhook channel told quickly: a crash is
 * restarted, verified and notified within a few polls.
 */
export const healing = (sim: PveSimulator, webhookUrl: string, env: Record<string, string> = {}) =>
  watching(sim, {
    VIGIL_REMEDIATION: "true",
    VIGIL_REMEDIATION_INTERVAL: "200 millis",
    VIGIL_REMEDIATION_COOLDOWN: "0 millis",
    VIGIL_REMEDIATION_VERIFY_TIMEOUT: "5 seconds",
    VIGIL_NOTIFY_WEBHOOKS: webhookUrl,
    VIGIL_NOTIFY_TICK: "50 millis",
    VIGIL_NOTIFY_GROUP_WAIT: "1 second",
    ...env
  })

/**
 * Waits until vigil has asked the simulator for `path` `n` more times (the checks that poll one
 * endpoint of their own: Ceph, a node's disks, ZFS pools, replication, updates).
 */
export const endpointPolls = (sim: PveSimulator, path: string, n = 3) => {
  const polls = () => sim.hits.get(path) ?? 0
  return Effect.suspend(() => {
    const target = polls() + n
    return Effect.asVoid(eventually(`${n} more polls of ${path}`, Effect.sync(polls), (k) => k >= target))
  })
}

/**
 * Waits until vigil has polled the simulator's cluster `rounds` more times (counted on the
 * simulator, so the wait is for work done, not for time passed). The tiers share one endpoint,
 * so each round counts one poll per tier, plus one: the last poll counted has been answered,
 * not necessarily judged.
 */
export const pollRounds = (sim: PveSimulator, rounds = 3, tiers = 3) => {
  const polls = () => sim.hits.get("/cluster/resources") ?? 0
  return Effect.suspend(() => {
    const target = polls() + rounds * tiers + 1
    return Effect.asVoid(eventually(`${rounds} more poll rounds`, Effect.sync(polls), (n) => n >= target))
  })
}

/**
 * Waits until vigil's watch has seeded from a first critical poll: the cluster view answers, and
 * then a few more rounds pass (the first view can come from another tier's poll).
 */
export const watchSeeded = (vigilUrl: string, sim: PveSimulator) =>
  Effect.gen(function*() {
    yield* eventually("the watch has a snapshot", Effect.promise(() => fetch(`${vigilUrl}/api/v1/cluster`).then((r) => r.status)), (s) => s === 200)
    yield* pollRounds(sim, 2)
  })
