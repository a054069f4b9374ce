/**
 * Acknowledgements and silences through the HTTP API of a real server: what is stored, what is
 * told as events, what survives a restart, and the 4xx answers that name what is wrong.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { waitUntil } from "../support/Clients.js"
import { awaitEvents, events } from "../support/Events.js"
import { eventually } from "../support/Eventually.js"
import { startWebhook } from "../support/Receivers.js"
import { getJson, startVigil, tempDir } from "../support/Vigil.js"

const send = (method: string, url: string, body?: unknown) =>
  Effect.promise(() =>
    fetch(url, body === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(async (r) => ({ status: r.status, body: await r.json() as any }))
  )

/** An agent that beat once and went silent: an open AGENT_LOST incident. */
const lostAgent = (url: string, id: string) =>
  Effect.gen(function*() {
    yield* send("POST", `${url}/api/v1/heartbeats/agent/${id}`, { status: "ok" })
    return yield* eventually(
      `agent ${id} is lost`,
      Effect.map(getJson(`${url}/api/v1/incidents?status=open`), (r) => (r.body as Array<any>).find((i) => i.key === `AGENT_LOST:agent/${id}`)),
      (i) => i !== undefined
    )
  })

describe("acknowledging incidents", () => {
  it.scopedLive("an acknowledgement is stored on the incident, told as an event, and outlives a restart", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const first = yield* startVigil({ VIGIL_HEARTBEAT_TTL: "300 millis" }, dir)
      const incident = yield* lostAgent(first.url, "a1")
      const acked = yield* send("POST", `${first.url}/api/v1/incidents/${incident.id}/ack`, { by: "alice", comment: "looking at it" })
      expect(acked).toMatchObject({ status: 200, body: { id: incident.id, acknowledged: { by: "alice", comment: "looking at it" } } })
      const [event] = yield* awaitEvents(first.url, "incident.acknowledged")
      expect(event).toMatchObject({ source: "vigil/notify", subject: "agent/a1", data: { incident: "AGENT_LOST:agent/a1", by: "alice", comment: "looking at it" } })
      yield* first.stop

      const second = yield* startVigil({ VIGIL_HEARTBEAT_TTL: "300 millis" }, dir)
      const [after] = (yield* getJson(`${second.url}/api/v1/incidents?status=open`)).body
      expect(after).toMatchObject({ id: incident.id, acknowledged: { by: "alice", comment: "looking at it" } })
      expect((yield* send("DELETE", `${second.url}/api/v1/incidents/${incident.id}/ack`)).body.acknowledged).toBeNull()
      yield* awaitEvents(second.url, "incident.unacknowledged")

      expect(yield* send("POST", `${second.url}/api/v1/incidents/nope/ack`, {})).toMatchObject({ status: 404, body: { message: "no incident nope" } })
      // Resolved: the agent beats again.
      yield* send("POST", `${second.url}/api/v1/heartbeats/agent/a1`, { status: "ok" })
      yield* eventually("resolved", getJson(`${second.url}/api/v1/incidents?status=open`), (r) => r.body.length === 0)
      expect(yield* send("POST", `${second.url}/api/v1/incidents/${incident.id}/ack`, {})).toMatchObject({
        status: 409,
        body: { message: `incident ${incident.id} is resolved: nothing to acknowledge` }
      })
    }))
})

describe("silences", () => {
  it.scopedLive("made, listed and ended through the API; a silenced incident is recorded and never notified", () =>
    Effect.gen(function*() {
      const hook = yield* startWebhook()
      const vigil = yield* startVigil({
        VIGIL_HEARTBEAT_TTL: "300 millis",
        VIGIL_NOTIFY_WEBHOOKS: hook.url,
        VIGIL_NOTIFY_TICK: "50 millis",
        VIGIL_NOTIFY_GROUP_WAIT: "200 millis",
        VIGIL_NOTIFY_GROUP_BY: "target",
        VIGIL_SILENCES: JSON.stringify([{ id: "old", condition: "QUORUM_LOST", startsAt: 0, endsAt: 4_102_444_800_000, reason: "lab" }])
      })
      const silences = `${vigil.url}/api/v1/silences`
      const made = yield* send("POST", silences, { matchers: { target: "agent/quiet" }, untilResolved: true, comment: "being rebuilt" })
      expect(made).toMatchObject({ status: 201, body: { matchers: { target: "agent/quiet" }, untilResolved: true, createdBy: "api", comment: "being rebuilt", origin: "api" } })

      yield* lostAgent(vigil.url, "quiet")
      yield* lostAgent(vigil.url, "loud")
      // The quiet one was lost first: had it not been silenced, it would have been told by now.
      yield* waitUntil("the loud one is told", () => hook.received.length >= 1)
      // Recorded, and visible, but not notified.
      expect((yield* getJson(`${vigil.url}/api/v1/incidents?status=open`)).body.map((i: any) => i.key).sort()).toEqual(["AGENT_LOST:agent/loud", "AGENT_LOST:agent/quiet"])
      expect(hook.received.flatMap((h) => JSON.parse(h.body).incidents.map((i: any) => i.key))).toEqual(["AGENT_LOST:agent/loud"])
      expect(yield* events(vigil.url, "agent.lost")).toHaveLength(2)

      // Until resolved: it ends when what it silenced is over.
      yield* send("POST", `${vigil.url}/api/v1/heartbeats/agent/quiet`, { status: "ok" })
      const listed = yield* eventually("the silence ended", Effect.map(getJson(silences), (r) => r.body as Array<any>), (all) => all.find((s) => s.id === made.body.id)?.endedAt !== null)
      expect(listed.map((s) => [s.id, s.origin])).toEqual([[made.body.id, "api"], ["env:old", "env"]])
      expect(yield* send("DELETE", `${silences}/${made.body.id}`)).toMatchObject({ status: 404 })
      expect(yield* send("DELETE", `${silences}/env:old`)).toMatchObject({ status: 409, body: { message: expect.stringContaining("VIGIL_SILENCES") } })
    }))

  it.scopedLive("a silence that cannot be what was meant is refused, naming the field", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const silences = `${vigil.url}/api/v1/silences`
      const refused = (body: unknown) => Effect.map(send("POST", silences, body), (r) => [r.status, r.body.message])
      expect(yield* refused({ matchers: {}, untilResolved: true, comment: "x" })).toEqual([400, expect.stringContaining("give at least one matcher")])
      expect(yield* refused({ matchers: { node: "pve1" }, comment: "x" })).toEqual([400, expect.stringContaining("give endsAt, untilResolved or recurring")])
      expect(yield* refused({ matchers: { node: "pve1" }, endsAt: "2020-01-01T00:00:00Z", startsAt: "2021-01-01T00:00:00Z", comment: "x" })).toEqual([400, expect.stringContaining("endsAt must be after startsAt")])
      expect(yield* refused({ matchers: { node: "pve1" }, recurring: { days: ["sun"], start: "02:00", end: "04:00", timeZone: "Mars/Olympus" }, comment: "x" })).toEqual([
        400,
        expect.stringContaining(`"Mars/Olympus" is not a time zone`)
      ])
      expect(yield* refused({ matchers: { node: "pve1" }, recurring: { days: ["sunday"], start: "2:00", end: "04:00", timeZone: "UTC" }, comment: "x" })).toEqual([400, expect.stringContaining("days")])
      expect(yield* refused({ matchers: { severity: "loud" }, untilResolved: true, comment: "x" })).toEqual([400, expect.stringContaining("severity")])
      expect(yield* refused({ matchers: { node: "pve1" }, untilResolved: true })).toEqual([400, expect.stringContaining("comment")])
      const weekly = yield* send("POST", silences, {
        matchers: { node: "pve1" },
        recurring: { days: ["sun"], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" },
        comment: "Sunday maintenance"
      })
      expect(weekly).toMatchObject({ status: 201, body: { recurring: { days: ["sun"], start: "02:00", end: "04:00", timeZone: "Europe/Berlin" }, endsAt: null } })
    }))
})
