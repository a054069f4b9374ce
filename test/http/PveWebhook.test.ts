/**
 * Proxmox VE's webhook target, configured with the body template the README documents, posting
 * its notifications to vigil: each becomes one stored `pve.notification` with PVE's severity, type
 * and fields; the same one sent twice is stored once; a malformed body gets 400 naming the field.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { getJson, startVigil } from "../support/Vigil.js"

/**
 * The body PVE renders from the documented template (`{{ json title }}` and the like, per
 * pve-docs' notifications.adoc): the values below are a failed scheduled backup's.
 */
const rendered = (n: { title: string; message: string; severity: string; timestamp: number | string; fields: Record<string, string> }) =>
  `{
  "title": ${JSON.stringify(n.title)},
  "message": ${JSON.stringify(n.message)},
  "severity": ${JSON.stringify(n.severity)},
  "timestamp": ${n.timestamp},
  "fields": ${JSON.stringify(n.fields)}
}`

const backupFailed = {
  title: "vzdump backup status (pve1.example.com): backup failed",
  message: "Details\n=======\nVMID    Name    Status    Time    Size\n100     web     err       2s      0 B\n\nError: job failed with err -5 - \"Input/output error\"",
  severity: "error",
  timestamp: 1763880000,
  fields: { type: "vzdump", hostname: "pve1", "job-id": "backup-5e2e6b1a-8d9c" }
}

const post = (url: string, body: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/api/v1/integrations/pve`, { method: "POST", headers: { "content-type": "application/json" }, body })
    return { status: response.status, body: await response.json() as any }
  })

describe("PVE's own notifications, inbound", () => {
  it.scopedLive("a failed backup as PVE sends it becomes one stored pve.notification; sent again, it is a duplicate", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const first = yield* post(vigil.url, rendered(backupFailed))
      expect(first.status).toBe(202)
      expect(first.body.duplicate).toBe(false)
      const again = yield* post(vigil.url, rendered(backupFailed))
      expect(again.body).toEqual({ ...first.body, duplicate: true })

      const stored = (yield* getJson(`${vigil.url}/api/v1/events?type=pve.notification`)).body as Array<any>
      expect(stored).toHaveLength(1)
      const [event] = stored
      expect(event).toMatchObject({
        type: "pve.notification",
        source: "/pve/pve1",
        subject: "node/pve1",
        node: "pve1",
        severity: "error",
        time: new Date(1763880000 * 1000).toISOString(),
        sequence: first.body.sequence
      })
      expect(event.data).toEqual({
        title: backupFailed.title,
        message: backupFailed.message,
        severity: "error",
        type: "vzdump",
        jobId: "backup-5e2e6b1a-8d9c",
        fields: backupFailed.fields
      })
    }))

  it.scopedLive("smartd's mail (system-mail, severity unknown) reaches the stream as a warning, and fencing as an error", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const mail = { title: "SMART error (FailedReadSmartSelfTestLog) detected on host: pve2", message: "Device: /dev/sda [SAT], Failed SMART usage Attribute: 5 Reallocated_Sector_Ct.", severity: "unknown", timestamp: 1763880100, fields: { type: "system-mail", hostname: "pve2" } }
      const fenced = { title: "FENCE: Try to fence node 'pve3'", message: "node 'pve3' failed, trying to fence it", severity: "error", timestamp: 1763880200, fields: { type: "fencing", hostname: "pve1" } }
      expect((yield* post(vigil.url, rendered(mail))).status).toBe(202)
      expect((yield* post(vigil.url, rendered(fenced))).status).toBe(202)
      const stored = (yield* getJson(`${vigil.url}/api/v1/events?type=pve.notification`)).body as Array<any>
      expect(stored.map((e) => [e.data.type, e.severity, e.data.severity]).sort()).toEqual([["fencing", "error", "error"], ["system-mail", "warning", "unknown"]])
    }))

  it.scopedLive("a malformed body gets 400 naming the field, and nothing is stored", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const cases: Array<[string, string]> = [
        ["severity", rendered({ ...backupFailed, severity: "loud" })],
        ["timestamp", rendered({ ...backupFailed, timestamp: "\"yesterday\"" })],
        ["title", `{"message":"m","severity":"info","timestamp":1}`],
        ["fields", rendered({ ...backupFailed, fields: { type: 3 } as unknown as Record<string, string> })]
      ]
      for (const [field, body] of cases) {
        const answer = yield* post(vigil.url, body)
        expect([field, answer.status]).toEqual([field, 400])
        expect(JSON.stringify(answer.body)).toContain(field)
      }
      expect((yield* getJson(`${vigil.url}/api/v1/events?type=pve.notification`)).body).toEqual([])
    }))
})
