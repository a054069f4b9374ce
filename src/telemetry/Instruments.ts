/**
 * vigil's own measurements that happen at a moment (a commit, a poll, an action, a notice), as
 * Prometheus instruments in one registry for the process, the way prom-client is meant to be
 * used. What can be read off a service's state when scraped (subscribers, open incidents,
 * leadership) is not here: `/metrics` reads it then, so nothing is counted twice.
 *
 * The instruments are module-level like Effect's own metric registry: counting costs a label
 * lookup and an addition, and no layer has to be threaded through every service that counts.
 */
import * as Prometheus from "prom-client"

export const instruments = new Prometheus.Registry()

const registers = [instruments]

export const eventsStored = new Prometheus.Counter({
  name: "vigil_events_stored_total",
  help: "Events committed to the store (each once; duplicates of stored events are not counted).",
  registers
})

export const eventsIngested = new Prometheus.Counter({
  name: "vigil_events_ingested_total",
  help: "Valid events producers sent, by route (events, integrations/pve) and result (accepted, or duplicate of a stored one).",
  labelNames: ["route", "result"] as const,
  registers
})

export const eventsRejected = new Prometheus.Counter({
  name: "vigil_events_rejected_total",
  help: "Events producers sent that were refused, by reason (invalid, rate_limited, too_many).",
  labelNames: ["reason"] as const,
  registers
})

export const commitBatchSize = new Prometheus.Histogram({
  name: "vigil_commit_batch_events",
  help: "Events per store transaction (group commit).",
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
  registers
})

export const commitDuration = new Prometheus.Histogram({
  name: "vigil_commit_duration_seconds",
  help: "Time to commit one store transaction, from its start to its events being published.",
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers
})

export const pollDuration = new Prometheus.Histogram({
  name: "vigil_poll_duration_seconds",
  help: "Time one poll of a source took, by source and tier, failed polls included.",
  labelNames: ["source", "tier"] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers
})

export const pollFailures = new Prometheus.Counter({
  name: "vigil_poll_failures_total",
  help: "Polls that failed, by source and tier.",
  labelNames: ["source", "tier"] as const,
  registers
})

export const remediationActions = new Prometheus.Counter({
  name: "vigil_remediation_actions_total",
  help: "Remediation decisions and their outcomes as audited (success, failure, proposed, blocked, ...), by action.",
  labelNames: ["action", "result"] as const,
  registers
})

export const notifications = new Prometheus.Counter({
  name: "vigil_notifications_total",
  help: "Notification delivery attempts, by channel and result (sent; failed, to be retried; dead, out of attempts).",
  labelNames: ["channel", "result"] as const,
  registers
})

export const retentionRemoved = new Prometheus.Counter({
  name: "vigil_retention_removed_events_total",
  help: "Events removed from the store by retention.",
  registers
})

let processMetrics = false

/** Adds the process's own metrics (CPU, memory, event-loop lag, GC) the first time a scrape is served. */
export const collectProcessMetrics = () => {
  if (processMetrics) return
  processMetrics = true
  Prometheus.collectDefaultMetrics({ register: instruments })
  // Gauges that prom-client names like counters; Prometheus's linter (rightly) objects, and the
  // counts they give (handles, requests, resources) are a debugging aid, not a service's health.
  for (const misnamed of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    instruments.removeSingleMetric(misnamed)
  }
}
