import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { waitUntil } from "../support/Clients.js"
import { startSmtp, startWebhook } from "../support/Receivers.js"
import { eventually } from "../support/Eventually.js"
import { pollRounds, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { awaitEvents, events } from "../support/Events.js"
import { getJson, startVigil } from "../support/Vigil.js"

/**
 * Vigil watching the simulator with remediation on, fast, notifying the given receivers. A new
 * group waits 3 seconds: long enough for a restart to settle, so it is told in one message.
 */
const healing = (sim: Parameters<typeof watching>[0], env: Record<string, string>) =>
  watching(sim, {
    VIGIL_REMEDIATION: "true",
    VIGIL_REMEDIATION_INTERVAL: "200 millis",
    VIGIL_REMEDIATION_COOLDOWN: "0 millis",
    VIGIL_REMEDIATION_VERIFY_TIMEOUT: "5 seconds",
    VIGIL_NOTIFY_BACKOFF: "20 millis",
    VIGIL_NOTIFY_TICK: "50 millis",
    VIGIL_NOTIFY_GROUP_WAIT: "3 seconds",
    VIGIL_NOTIFY_GROUP_INTERVAL: "1 second",
    ...env
  })

const actions = (url: string, query = "") => Effect.map(getJson(`${url}/api/v1/actions?limit=1000${query}`), (r) => (r.body as Array<any>).reverse())

describe("remediation against the PVE simulator", () => {
  it.scopedLive("a crashed VM is restarted, the start is followed to its task and verified, and told in one message by webhook and email", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const smtp = yield* startSmtp
      const hook = yield* startWebhook()
      const vigil = yield* startVigil(healing(sim, {
        VIGIL_NOTIFY_WEBHOOKS: hook.url,
        VIGIL_SMTP_URL: smtp.url,
        VIGIL_SMTP_FROM: "vigil@test.lan",
        VIGIL_SMTP_TO: "ops@test.lan"
      }))
      yield* watchSeeded(vigil.url, sim)
      sim.crash(100)
      const [succeeded] = yield* awaitEvents(vigil.url, "remediation.succeeded")
      expect(succeeded.data).toMatchObject({ incident: "VM_CRASHED:qemu/100", action: "start_guest", attempt: 1 })
      expect(sim.guest(100).status).toBe("running")
      expect(sim.tasks.filter((t) => t.type === "qmstart" && t.id === "100")).toHaveLength(1)
      const [started] = yield* awaitEvents(vigil.url, "vm.started")
      // vigil's own start is told as such: its token's task.
      expect(started).toMatchObject({ cause: "vigil", data: { recovered: true, cause: { kind: "vigil", task: "qmstart" } } })
      const [row] = yield* eventually("the start is verified", actions(vigil.url, "&result=success"), (rows) => (rows[0]?.verificationResult ?? null) !== null)
      expect(row).toMatchObject({ action: "start_guest", result: "success", attemptNumber: 1, autonomyLevel: 3, node: "pve1" })
      expect(row.verificationResult).toMatch(/verified/)
      // The crash was healed before its group was due: one message says both, resolved.
      yield* waitUntil("the webhook got the message", () => hook.received.length >= 1)
      yield* waitUntil("mail", () => smtp.mails.length >= 1)
      yield* pollRounds(sim)
      expect(hook.received).toHaveLength(1)
      const notice = JSON.parse(hook.received[0]!.body)
      expect(notice).toMatchObject({ kind: "alert", status: "resolved" })
      expect(notice.incidents).toHaveLength(1)
      expect(notice.incidents[0]).toMatchObject({ key: "VM_CRASHED:qemu/100", status: "resolved", mention: "settled" })
      expect(notice.incidents[0].notes.map((n: any) => n.title)).toEqual(["Started VM 100 (web) on pve1"])
      expect(smtp.mails).toHaveLength(1)
      expect(smtp.mails[0]).toMatchObject({ from: "vigil@test.lan", to: ["ops@test.lan"] })
      expect(smtp.mails[0]!.raw).toMatch(/Subject: \[vigil\] INFO: Resolved: VM 100 \(web\) on pve1/)
      expect(smtp.mails[0]!.raw).toContain("vigil: Started VM 100 (web) on pve1")
      // Every delivery is in the log.
      const log = (yield* getJson(`${vigil.url}/api/v1/deliveries`)).body
      expect(log.map((d: any) => [d.channel, d.status, d.incidents])).toEqual(
        expect.arrayContaining([["email", "sent", ["VM_CRASHED:qemu/100"]], ["generic", "sent", ["VM_CRASHED:qemu/100"]]])
      )
    }))

  it.scopedLive("a VM that keeps crashing is tried N times, then escalated exactly once", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const hook = yield* startWebhook()
      const vigil = yield* startVigil(healing(sim, { VIGIL_NOTIFY_WEBHOOKS: hook.url, VIGIL_REMEDIATION_MAX_ATTEMPTS: "3" }))
      yield* watchSeeded(vigil.url, sim)
      sim.guest(101).startFails = true
      sim.crash(101)
      yield* awaitEvents(vigil.url, "remediation.escalated")
      yield* pollRounds(sim)
      const trail = yield* actions(vigil.url, "&incident_key=VM_CRASHED:qemu/101")
      const decisive = trail.filter((a) => a.result !== "observed")
      expect(decisive.map((a) => a.result)).toEqual(["failure", "failure", "failure", "escalated"])
      expect(decisive.map((a) => a.attemptNumber).slice(0, 3)).toEqual([1, 2, 3])
      expect((yield* events(vigil.url, "remediation.escalated"))).toHaveLength(1)
      expect(sim.tasks.filter((t) => t.type === "qmstart" && t.id === "101")).toHaveLength(3)
      expect(hook.received.map((h) => JSON.parse(h.body).kind).filter((k) => k === "escalation")).toHaveLength(1)
    }))

  it.scopedLive("a VM stopped by an operator's task is no crash: told with its cause, no incident, nothing for remediation to do", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(healing(sim, {}))
      yield* watchSeeded(vigil.url, sim)
      sim.operatorStop(100, "shutdown", "alice@pve")
      const [stopped] = yield* awaitEvents(vigil.url, "vm.stopped")
      expect(stopped).toMatchObject({ severity: "info", cause: "operator", data: { cause: { kind: "operator", user: "alice@pve", task: "qmshutdown" } } })
      yield* pollRounds(sim)
      expect(sim.guest(100).status).toBe("stopped")
      expect(sim.tasks.filter((t) => t.type === "qmstart")).toHaveLength(0)
      expect(yield* events(vigil.url, "vm.crashed")).toEqual([])
      expect(yield* events(vigil.url, "remediation.*")).toEqual([])
      expect((yield* getJson(`${vigil.url}/api/v1/incidents`)).body).toEqual([])
    }))

  it.scopedLive("a node outage gives one notification, not one per guest, and no restarts; its end a recovery notice", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const hook = yield* startWebhook()
      const vigil = yield* startVigil(healing(sim, { VIGIL_NOTIFY_WEBHOOKS: hook.url }))
      yield* watchSeeded(vigil.url, sim)
      sim.setNodeOnline("pve1", false)
      yield* awaitEvents(vigil.url, "remediation.escalated")
      yield* pollRounds(sim)
      // The escalation tells the outage at once; nothing about the guests on the node.
      expect(hook.received.map((h) => JSON.parse(h.body).kind)).toEqual(["escalation"])
      expect(JSON.parse(hook.received[0]!.body).incidents.map((i: any) => i.key)).toEqual(["NODE_UNREACHABLE:node/pve1"])
      expect(sim.tasks.filter((t) => t.type === "qmstart")).toHaveLength(0)
      sim.setNodeOnline("pve1", true)
      yield* waitUntil("the resolve", () => hook.received.length === 2)
      expect(JSON.parse(hook.received[1]!.body)).toMatchObject({ kind: "alert", status: "resolved", incidents: [{ key: "NODE_UNREACHABLE:node/pve1", mention: "resolved" }] })
    }))

  it.scopedLive("at L2 a proposal waits for a person; approving it through the API starts the guest", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(healing(sim, {
        VIGIL_RUNBOOKS: JSON.stringify([{ id: "propose-vm", condition: "VM_CRASHED", action: "start_guest", level: 2 }])
      }))
      yield* watchSeeded(vigil.url, sim)
      sim.crash(100)
      const [proposed] = yield* awaitEvents(vigil.url, "remediation.proposed")
      yield* pollRounds(sim)
      expect(sim.guest(100).status).toBe("stopped")
      const pending = (yield* getJson(`${vigil.url}/api/v1/proposals?status=pending`)).body
      expect(pending).toHaveLength(1)
      expect(pending[0].id).toBe(proposed.data.proposal)
      const approve = (id: string) =>
        Effect.promise(() =>
          fetch(`${vigil.url}/api/v1/proposals/${id}/approve`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ by: "alice" }) })
            .then(async (r) => ({ status: r.status, body: await r.json() as any }))
        )
      const approved = yield* approve(pending[0].id)
      expect(approved).toMatchObject({ status: 200, body: { status: "approved", decidedBy: "alice" } })
      yield* awaitEvents(vigil.url, "remediation.succeeded")
      expect(sim.guest(100).status).toBe("running")
      expect((yield* approve(pending[0].id)).status).toBe(409)
      expect((yield* approve("no-such-proposal")).status).toBe(404)
    }))

  it.scopedLive("the kill switch caps autonomy at L1 at once: a crash is alerted, not acted on", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(healing(sim, {}))
      yield* watchSeeded(vigil.url, sim)
      const killed = yield* Effect.promise(() => fetch(`${vigil.url}/api/v1/remediation/kill-switch`, { method: "POST" }).then((r) => r.json()))
      expect(killed).toMatchObject({ cap: 1, capName: "alert" })
      sim.crash(100)
      yield* awaitEvents(vigil.url, "vm.crashed")
      yield* pollRounds(sim)
      expect(sim.guest(100).status).toBe("stopped")
      expect((yield* actions(vigil.url)).map((a) => a.result)).toEqual(["alerted"])
    }))

  it.scopedLive("a notification that keeps failing is retried with backoff, dead in the delivery log, and sent again by an admin", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const hook = yield* startWebhook({ failing: true })
      const vigil = yield* startVigil(healing(sim, { VIGIL_NOTIFY_WEBHOOKS: `ops:generic=${hook.url}`, VIGIL_NOTIFY_ATTEMPTS: "3" }))
      yield* watchSeeded(vigil.url, sim)
      sim.crash(100)
      yield* awaitEvents(vigil.url, "remediation.succeeded")
      const dead = yield* eventually(
        "a dead letter",
        Effect.map(getJson(`${vigil.url}/api/v1/deliveries?status=dead`), (r) => r.body as Array<any>),
        (found) => found.length > 0
      )
      expect(dead[0]).toMatchObject({ channel: "ops", attempts: 3, status: "dead", error: expect.stringContaining("HTTP 500") })
      expect(hook.attempts()).toBe(3)
      hook.setFailing(false)
      const retried = yield* Effect.promise(() =>
        fetch(`${vigil.url}/api/v1/deliveries/${dead[0].id}/retry`, { method: "POST" }).then(async (r) => ({ status: r.status, body: await r.json() as any }))
      )
      expect(retried).toMatchObject({ status: 200, body: { id: dead[0].id, status: "pending" } })
      yield* waitUntil("the retry arrives", () => hook.received.length === 1)
      // The receiver sees the same idempotency key as the failed attempts carried.
      expect(hook.received[0]!.headers["idempotency-key"]).toBe(dead[0].id)
      const sent = yield* eventually("sent", Effect.map(getJson(`${vigil.url}/api/v1/deliveries`), (r) => (r.body as Array<any>).find((d) => d.id === dead[0].id)), (d) => d?.status === "sent")
      expect(sent.attempts).toBe(4)
    }))
})
