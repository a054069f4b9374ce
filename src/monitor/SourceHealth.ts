/**
 * Source health (pure): a failing source gives one `source.degraded` per outage and one
 * `source.recovered` when it answers again, however many polls fail in between.
 */
import { makeEvent } from "../domain/Event.js"
import type { Finding } from "./Findings.js"
import { monitorSource } from "./Findings.js"

export type SourceHealth =
  | { readonly _tag: "Healthy" }
  | { readonly _tag: "Degraded"; readonly since: number; readonly failures: number; readonly reason: string }

export const healthy: SourceHealth = { _tag: "Healthy" }

export const onPoll = (
  source: string,
  health: SourceHealth,
  result: { readonly ok: true } | { readonly ok: false; readonly reason: string },
  now: number
): { readonly health: SourceHealth; readonly finding: Finding | undefined } => {
  const key = `SOURCE_DEGRADED:source/${source}`
  if (result.ok) {
    if (health._tag === "Healthy") return { health, finding: undefined }
    const summary = `Source ${source} answers again after ${health.failures} failed polls`
    return {
      health: healthy,
      finding: {
        event: makeEvent({
          type: "source.recovered",
          severity: "info",
          source: monitorSource,
          subject: `source/${source}`,
          data: { source, failures: health.failures, downForMs: now - health.since, incident: key, summary }
        }),
        incident: { _tag: "Resolve", key, summary }
      }
    }
  }
  if (health._tag === "Degraded") {
    return { health: { ...health, failures: health.failures + 1, reason: result.reason }, finding: undefined }
  }
  const summary = `Source ${source} is failing: ${result.reason}`
  return {
    health: { _tag: "Degraded", since: now, failures: 1, reason: result.reason },
    finding: {
      event: makeEvent({
        type: "source.degraded",
        severity: "error",
        source: monitorSource,
        subject: `source/${source}`,
        data: { source, reason: result.reason, condition: "SOURCE_DEGRADED", incident: key, summary }
      }),
      incident: { _tag: "Open", key, condition: "SOURCE_DEGRADED", target: `source/${source}`, node: undefined, severity: "error", summary }
    }
  }
}
