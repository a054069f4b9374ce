/**
 * The routine tier's `health.heartbeat`: one event every few minutes saying, in one line, whether
 * the cluster is whole ("Systems Nominal") or not ("Cluster Degraded"), with the counts behind it.
 */
import { makeEvent, type NewEvent } from "../domain/Event.js"
import type { Snapshot } from "../domain/Snapshot.js"
import { monitorSource } from "./Findings.js"

export const heartbeatEvent = (snapshot: Snapshot, openIncidents: number): NewEvent => {
  const nodesOnline = snapshot.nodes.filter((n) => n.status === "online").length
  const guestsRunning = snapshot.guests.filter((g) => g.status === "running").length
  const nominal = nodesOnline === snapshot.nodes.length && snapshot.quorate !== false
  const status = nominal ? "Systems Nominal" : "Cluster Degraded"
  return makeEvent({
    type: "health.heartbeat",
    severity: nominal ? "info" : "warning",
    source: monitorSource,
    data: {
      status,
      nodesOnline,
      nodesTotal: snapshot.nodes.length,
      guestsRunning,
      guestsTotal: snapshot.guests.length,
      quorate: snapshot.quorate ?? null,
      openIncidents,
      summary: `${status}: ${nodesOnline}/${snapshot.nodes.length} nodes online, ${guestsRunning}/${snapshot.guests.length} guests running`
    }
  })
}
