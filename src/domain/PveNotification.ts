/**
 * Proxmox VE's own notifications (PVE 8.1+), as its webhook target sends them with the template
 * vigil documents (README: "PVE's own notifications"): backups, replication, fencing, package
 * updates and the mail local daemons send root (smartd among them). Fields per pve-docs'
 * `notifications.adoc`. Pure: the body's schema and the event it becomes.
 */
import { createHash } from "node:crypto"
import * as Schema from "effect/Schema"
import { makeEvent, type NewEvent } from "./Event.js"
import type { Severity } from "./Severity.js"

/** PVE's severities; `unknown` is what forwarded system mail (smartd, cron) carries. */
export const PveSeverity = Schema.Literal("info", "notice", "warning", "error", "unknown")
export type PveSeverity = typeof PveSeverity.Type

export const PveNotification = Schema.Struct({
  title: Schema.String.pipe(Schema.maxLength(1024)),
  message: Schema.String.pipe(Schema.maxLength(64 * 1024)),
  severity: PveSeverity,
  /** UNIX epoch seconds. */
  timestamp: Schema.Int.pipe(Schema.nonNegative()),
  /** `type` (vzdump, replication, fencing, package-updates, system-mail), `hostname`, `job-id`, ... */
  fields: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { default: () => ({}) })
}).annotations({ identifier: "PveNotification", description: "What PVE's webhook target sends with the documented body template" })
export type PveNotification = typeof PveNotification.Type

/**
 * PVE's severity in vigil's terms. `unknown` is a forwarded mail vigil cannot read the weight of;
 * smartd's are failing disks, so it is a warning rather than noise.
 */
const severities: Record<PveSeverity, Severity> = { info: "info", notice: "info", warning: "warning", error: "error", unknown: "warning" }

/**
 * The `pve.notification` event. Its id is derived from the notification itself, so PVE sending the
 * same one twice (a retried request, two matchers on one target) stores it once.
 */
export const pveNotificationEvent = (n: PveNotification): NewEvent => {
  const hostname = n.fields.hostname
  const event = makeEvent({
    type: "pve.notification",
    source: hostname === undefined ? "/pve" : `/pve/${hostname}`,
    severity: severities[n.severity],
    subject: hostname === undefined ? undefined : `node/${hostname}`,
    node: hostname,
    time: new Date(n.timestamp * 1000),
    data: {
      title: n.title,
      message: n.message,
      severity: n.severity,
      type: n.fields.type ?? null,
      jobId: n.fields["job-id"] ?? null,
      fields: n.fields
    }
  })
  const id = createHash("sha256").update(JSON.stringify([n.timestamp, n.severity, n.title, n.message, n.fields])).digest("hex").slice(0, 32)
  return { ...event, id: `pve-${id}` }
}
