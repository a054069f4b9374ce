/**
 * Every JSON endpoint through a client derived from the API definition, against a real server
 * watching the simulator with authentication on: each request is encoded and each answer decoded
 * with the declared schemas, so a handler whose answer drifts from its declaration (the raw ones
 * render by hand) fails here.
 */
import { describe, expect, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { Tokens } from "../../src/access/Tokens.js"
import { apiClient } from "../support/Api.js"
import { eventually } from "../support/Eventually.js"
import { startSimulator, watching } from "../support/Simulator.js"
import { cloudEvent, startVigil } from "../support/Vigil.js"

describe("the API through a client derived from its definition", () => {
  it.scopedLive("every JSON endpoint answers what it declares", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const vigil = yield* startVigil(watching(sim, {
        VIGIL_AUTH: "on",
        VIGIL_REMEDIATION: "true",
        VIGIL_REMEDIATION_INTERVAL: "200 millis",
        VIGIL_RUNBOOKS: JSON.stringify([{ id: "propose-vm", condition: "VM_CRASHED", action: "start_guest", level: 2 }])
      }))
      const { token } = yield* vigil.use(Effect.flatMap(Tokens, (t) => t.create({ user: "root", scopes: ["admin"] })))
      const api = yield* apiClient(vigil.url, token)
      const anonymous = yield* apiClient(vigil.url)

      expect(yield* anonymous.health.health()).toMatchObject({ status: "ok", leader: true })

      const ingested = yield* api.events.ingest({ payload: [{ ...cloudEvent({ type: "client.test", traceid: "t-1", data: { nested: { ok: true } } }), specversion: "1.0" }] })
      expect(ingested).toMatchObject({ accepted: 1, rejected: 0 })
      const [recent] = yield* api.events.recent({ urlParams: { type: "client.test" } })
      expect(recent).toMatchObject({ type: "client.test", traceid: "t-1", data: { nested: { ok: true } } })
      expect((yield* api.events.stats()).total).toBeGreaterThan(0)
      expect(yield* api.events.deadLetters({ urlParams: {} })).toEqual([])

      const cluster = yield* eventually("the first snapshot", api.cluster.cluster().pipe(Effect.either), (r) => r._tag === "Right").pipe(
        Effect.flatMap((r) => r)
      )
      expect(cluster.nodes.map((n) => n.name)).toEqual(["pve1", "pve2", "pve3"])
      sim.crash(100)
      // (On a loaded machine a slow poll can open a source incident too: the crash is looked for by key.)
      const open = yield* eventually("the crash is an incident", api.cluster.incidents({ urlParams: { status: "open" } }), (open) =>
        open.some((i) => i.key === "VM_CRASHED:qemu/100"))
      const incident = open.find((i) => i.key === "VM_CRASHED:qemu/100")
      expect(incident).toMatchObject({ key: "VM_CRASHED:qemu/100", status: "open" })

      // Acknowledged as the token's user, whatever the body says; silences, channels, deliveries.
      const acked = yield* api.notify.acknowledge({ path: { id: incident!.id }, payload: { by: "someone else", comment: "on it" } })
      expect(acked.acknowledged).toMatchObject({ by: "root", comment: "on it" })
      expect((yield* api.notify.unacknowledge({ path: { id: incident!.id } })).acknowledged).toBeNull()
      const silence = yield* api.notify.createSilence({
        payload: { matchers: { node: "pve3", condition: "VM_*" }, endsAt: DateTime.unsafeMake(Date.now() + 3_600_000), comment: "maintenance" }
      })
      expect(silence).toMatchObject({ matchers: { node: "pve3", condition: "VM_*" }, createdBy: "root", origin: "api", endedAt: null })
      expect((yield* api.notify.silences()).map((x) => x.id)).toEqual([silence.id])
      expect(yield* api.notify.endSilence({ path: { id: silence.id } })).toEqual({ ended: true })
      expect(yield* api.notify.channels()).toEqual([])
      expect(yield* api.notify.deliveries({ urlParams: { status: "dead" } })).toEqual([])
      expect((yield* api.notify.testChannel({ path: { name: "nowhere" } }).pipe(Effect.flip))._tag).toBe("NotFound")

      const beat = yield* api.heartbeats.beat({ path: { kind: "worker", id: "w1" }, payload: { status: "busy", details: { queue: 1 } } })
      expect(beat).toMatchObject({ kind: "worker", id: "w1", recovered: false })
      expect((yield* api.heartbeats.list()).map((p) => p.id)).toEqual(["w1"])

      expect((yield* api.remediation.state()).cap).toBe(4)
      const proposals = yield* eventually("a proposal", api.remediation.proposals({ urlParams: { status: "pending" } }), (p) => p.length > 0)
      const approved = yield* api.remediation.approve({ path: { id: proposals[0]!.id }, payload: { by: "client" } })
      expect(approved).toMatchObject({ status: "approved", decidedBy: "client" })
      expect((yield* api.remediation.actions({ urlParams: {} })).length).toBeGreaterThan(0)
      expect((yield* api.remediation.setCap({ payload: { cap: 2 } })).cap).toBe(2)
      expect(yield* api.remediation.killSwitch()).toMatchObject({ cap: 1, capName: "alert" })

      const created = yield* api.access.createToken({ payload: { user: "reader", scopes: ["read"], label: "client test" } })
      expect(created.info).toMatchObject({ user: "reader", scopes: ["read"], label: "client test" })
      expect((yield* api.access.listTokens()).map((t) => t.user).sort()).toEqual(["reader", "root"])
      expect(yield* api.access.revokeToken({ path: { id: created.info.id } })).toMatchObject({ id: created.info.id, revokedAt: expect.any(String) })

      yield* api.events.ingest({ payload: { ...cloudEvent({ type: "system.warning", data: { title: "for the inbox" } }), specversion: "1.0" } })
      const inbox = yield* eventually("the inbox", api.access.notifications({ urlParams: {} }), (all) => all.some((n) => n.title === "for the inbox"))
      const note = inbox.find((n) => n.title === "for the inbox")!
      expect(yield* api.access.markRead({ path: { id: note.id } })).toMatchObject({ id: note.id, read: true })
      expect(yield* api.access.markAllRead()).toEqual({ marked: inbox.filter((n) => !n.read && n.id !== note.id).length })
      expect(yield* api.access.unreadCount()).toEqual({ unread: 0 })

      // A declared error decodes as itself.
      const missing = yield* api.remediation.approve({ path: { id: "no-such" }, payload: {} }).pipe(Effect.flip)
      expect(missing._tag).toBe("ProposalNotFound")
      const refused = yield* anonymous.events.stats().pipe(Effect.flip)
      expect(refused._tag).toBe("Unauthorized")
    }))
})
