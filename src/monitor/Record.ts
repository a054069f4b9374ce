/**
 * How every detector tells what it found: each finding's incident operation applied, then all
 * their events published in one commit (with `state`, what the findings were judged against next
 * time, in the same transaction when given).
 */
import * as Effect from "effect/Effect"
import type { EventBus } from "../bus/EventBus.js"
import type { StateWrite } from "../store/EventStore.js"
import type { Incidents } from "../store/Incidents.js"
import type { Finding } from "./Findings.js"

export const recordFindings = (incidents: Incidents, bus: EventBus) =>
  (findings: ReadonlyArray<Finding>, state?: ReadonlyArray<StateWrite>) =>
    Effect.gen(function*() {
      if (findings.length === 0 && state === undefined) return
      for (const f of findings) if (f.incident !== undefined) yield* incidents.apply(f.incident)
      yield* bus.publish(findings.map((f) => f.event), state)
    })
