import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { waitUntil } from "../support/Clients.js"
import { eventually } from "../support/Eventually.js"
import { awaitEvents } from "../support/Events.js"
import { startWebhook } from "../support/Receivers.js"
import { healing, startSimulator, watchSeeded, watching } from "../support/Simulator.js"
import { getJson, startVigil } from "../support/Vigil.js"

const incidentOf = (url: string, key: string) =>
  eventually(`incident ${key}`, getJson(`${url}/api/v1/incidents?status=all`), (r) => (r.body as Array<any>).some((i) => i.key === key)).pipe(
    Effect.map((r) => (r.body as Array<any>).find((i) => i.key === key))
  )

describe("GET /api/v1/incidents/{id}/timeline", () => {
  it.scopedLive("tells a healed crash in order: the event and its cause, the start, its verification and the notice, with the trace id", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const hook = yield* startWebhook()
      const vigil = yield* startVigil(healing(sim, hook.url))
      yield* watchSeeded(vigil.url, sim)
      sim.crash(100)
      const [crashed] = yield* awaitEvents(vigil.url, "vm.crashed")
      yield* eventually("the restart is verified", getJson(`${vigil.url}/api/v1/actions?result=success`), (r) =>
        /verified/.test(r.body[0]?.verificationResult ?? ""))
      yield* waitUntil("the webhook got the notice", () => hook.received.length >= 1)
      const incident = yield* incidentOf(vigil.url, "VM_CRASHED:qemu/100")
      const trace = crashed.traceparent.split("-")[1]

      const { status, body } = yield* eventually("the delivery is logged as sent", getJson(`${vigil.url}/api/v1/incidents/${incident.id}/timeline`), (r) =>
        r.body.entries?.some((e: any) => e.kind === "notification" && /sent$/.test(e.title)))
      expect(status).toBe(200)
      expect(body.incident).toMatchObject({ id: incident.id, key: "VM_CRASHED:qemu/100" })
      expect(body.traceId).toBe(trace)
      const entries = body.entries as Array<any>
      const at = entries.map((e) => Date.parse(e.at))
      expect(at).toEqual([...at].sort((a, b) => a - b))
      const first = (kind: string, title?: string) => entries.findIndex((e) => e.kind === kind && (title === undefined || e.title === title))
      // The crash, then why (nothing explains it), then the start, its verification, the notice.
      expect(entries[0]).toMatchObject({ kind: "event", title: "vm.crashed", sequence: crashed.sequence, traceId: trace })
      expect(entries[1]).toMatchObject({ kind: "cause", title: "unknown", traceId: trace })
      expect(first("event", "remediation.started")).toBeGreaterThan(1)
      expect(first("action", "start_guest: success")).toBeGreaterThan(first("event", "remediation.started"))
      expect(entries[first("action")].detail).toMatch(/^task UPID:pve1:.* exited OK$/)
      expect(entries[first("verification")]).toMatchObject({ detail: "verified: running on the next snapshot", traceId: trace })
      expect(first("verification")).toBeGreaterThan(first("action"))
      expect(entries[first("notification")]).toMatchObject({ title: "alert to generic: sent", traceId: trace })
      // The resolve came from the poll that saw the guest run again: another trace.
      const started = entries.find((e) => e.title === "vm.started")
      expect(started).toMatchObject({ kind: "event" })
      expect(started.traceId).not.toBe(trace)
    }), { timeout: 60_000 })

  it.scopedLive("shows who acknowledged an open incident", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim))
      yield* watchSeeded(vigil.url, sim)
      sim.crash(101)
      const incident = yield* incidentOf(vigil.url, "VM_CRASHED:qemu/101")
      const ack = yield* Effect.promise(() =>
        fetch(`${vigil.url}/api/v1/incidents/${incident.id}/ack`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ by: "alice", comment: "on it" })
        }).then((r) => r.status))
      expect(ack).toBe(200)
      const { body } = yield* getJson(`${vigil.url}/api/v1/incidents/${incident.id}/timeline`)
      expect((body.entries as Array<any>).map((e) => [e.kind, e.title])).toEqual([
        ["event", "vm.crashed"],
        ["cause", "unknown"],
        ["acknowledgement", "incident.acknowledged"]
      ])
      expect(body.entries[2].detail).toMatch(/acknowledged by alice$/)
    }))

  it.scopedLive("answers 404 naming an unknown incident", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const { body, status } = yield* getJson(`${vigil.url}/api/v1/incidents/no-such-id/timeline`)
      expect(status).toBe(404)
      expect(body).toMatchObject({ _tag: "NotFound", message: "no incident no-such-id" })
    }))
})
