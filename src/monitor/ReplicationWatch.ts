/**
 * Storage replication jobs between two polls (pure): a job that starts failing (`fail_count > 0`
 * or an `error`) is one `replication.failed` with an incident per job, one that succeeds again is
 * one `replication.recovered` and the incident resolved (as is a failing job someone disabled).
 */
import type { ReplicationJob } from "../domain/StorageHealth.js"
import { type Finding, finding } from "./Findings.js"

export const replicationTarget = (id: string) => `replication/${id}`
export const replicationIncidentKey = (id: string) => `REPLICATION_FAILED:${replicationTarget(id)}`

export const isFailing = (job: ReplicationJob) => !job.disabled && (job.failCount > 0 || (job.error !== undefined && job.error !== ""))

/** What changed; `failing` holds the ids of the jobs last told as failing. */
export const judgeReplication = (failing: ReadonlySet<string>, jobs: ReadonlyArray<ReplicationJob>): ReadonlyArray<Finding> =>
  jobs.flatMap((job) => {
    const was = failing.has(job.id)
    const is = isFailing(job)
    if (was === is) return []
    const key = replicationIncidentKey(job.id)
    const target = replicationTarget(job.id)
    const data = { job: job.id, guest: job.guest ?? null, source: job.node, target: job.target ?? null, failCount: job.failCount, error: job.error ?? null }
    if (is) {
      const summary = `Replication job ${job.id} (guest ${job.guest ?? "?"}, ${job.node} → ${job.target ?? "?"}) is failing: ${job.error ?? `${job.failCount} failed runs`}`
      return [finding(
        { type: "replication.failed", severity: "error", subject: target, node: job.node, data: { ...data, summary } },
        { _tag: "Open", key, condition: "REPLICATION_FAILED", target, node: job.node, severity: "error", summary }
      )]
    }
    const summary = job.disabled ? `Replication job ${job.id} was disabled` : `Replication job ${job.id} succeeds again`
    return [finding({ type: "replication.recovered", severity: "info", subject: target, node: job.node, data: { ...data, summary } }, { _tag: "Resolve", key, summary })]
  })
