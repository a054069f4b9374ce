/**
 * Ceph's health between two polls (pure): one `ceph.health.changed` when its status or the set of
 * failing checks changes (never one per poll), an incident while it is not `HEALTH_OK` (its
 * severity following WARN and ERR), resolved when it is OK again.
 */
import type { CephHealth } from "../domain/StorageHealth.js"
import type { Severity } from "../domain/Severity.js"
import { type Finding, finding } from "./Findings.js"

export const cephIncidentKey = "CEPH_HEALTH:cluster/ceph"
export const healthOk = "HEALTH_OK"

const severityOf = (status: string): Severity => (status === healthOk ? "info" : status === "HEALTH_ERR" ? "error" : "warning")

/** The checks that count: muted ones are reported but change nothing. */
const failing = (h: CephHealth) => h.checks.filter((c) => !c.muted).map((c) => c.code).sort().join(",")

const describe = (h: CephHealth) =>
  h.status === healthOk ? "Ceph is healthy (HEALTH_OK)" : `Ceph is ${h.status}: ${h.checks.filter((c) => !c.muted).map((c) => c.summary).join("; ") || "no check named"}`

/** What changed since `previous` (the last health told, or what an open incident implies). */
export const judgeCeph = (previous: CephHealth, current: CephHealth): ReadonlyArray<Finding> => {
  if (previous.status === current.status && failing(previous) === failing(current)) return []
  const summary = describe(current)
  const severity = severityOf(current.status)
  const incident = current.status !== healthOk
    ? previous.status === healthOk
      ? { _tag: "Open" as const, key: cephIncidentKey, condition: "CEPH_HEALTH", target: "cluster/ceph", node: undefined, severity, summary }
      : { _tag: "Change" as const, key: cephIncidentKey, condition: "CEPH_HEALTH", severity, summary }
    : previous.status === healthOk
    ? undefined
    : { _tag: "Resolve" as const, key: cephIncidentKey, summary }
  return [finding({
    type: "ceph.health.changed",
    severity,
    subject: "cluster/ceph",
    data: { status: current.status, previous: previous.status, checks: current.checks, summary }
  }, incident)]
}

/** Where a watch starts: what it last told is gone, so the open incident (if any) stands for it. */
export const startingHealth = (current: CephHealth, incidentOpen: boolean): CephHealth =>
  incidentOpen
    ? current.status === healthOk ? { status: "HEALTH_WARN", checks: [] } : current
    : { status: healthOk, checks: [] }
