/**
 * The global autonomy cap: no runbook acts above it; the kill switch sets it to L1. It lives in
 * the store, so the switch pulled on any instance stops the leader at its next review.
 */
import * as Effect from "effect/Effect"
import type { AutonomyLevel } from "../domain/Remediation.js"
import { EventRepo } from "../store/EventRepo.js"
import { RemediationConfig } from "./RemediationConfig.js"

const capKey = "autonomy_cap"

export class AutonomyCap extends Effect.Service<AutonomyCap>()("vigil/AutonomyCap", {
  effect: Effect.gen(function*() {
    const repo = yield* EventRepo
    const { policy } = yield* RemediationConfig
    return {
      /** The cap set through the API, or the configured one; the configured one if the store cannot say. */
      get: Effect.map(repo.getMeta(capKey).pipe(Effect.orElseSucceed(() => undefined)), (v) =>
        (v === undefined ? policy.cap : Number(v)) as AutonomyLevel),
      set: Effect.fn("AutonomyCap.set")(function*(level: AutonomyLevel) {
        yield* repo.setMeta(capKey, String(level))
      })
    } as const
  })
}) {}
