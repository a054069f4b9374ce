/**
 * Acting on a guest: starts it through the Proxmox API, follows the task (UPID) until PVE says it
 * stopped and reads its exit status, records the outcome (a failure retrying cannot fix is marked
 * permanent), reports it, and verifies on a later snapshot that the guest runs. At most one action
 * per incident runs at once; what runs is what `decide` counts as in flight.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ClusterWatch } from "../monitor/Monitor.js"
import type { ProxmoxApi } from "../sources/ProxmoxApi.js"
import { AuditRepo } from "./AuditRepo.js"
import type { Decision, IncidentFacts } from "./Decide.js"
import { Proposals } from "./Proposals.js"
import { RemediationConfig } from "./RemediationConfig.js"
import { Reporter } from "./Reporter.js"

/** Start failures that no retry fixes. */
const permanentFailure = /does not exist|no such|not found|configuration file|permission|not allowed/i

/** A start task that did not end in time. */
export class TaskTimedOut extends Schema.TaggedError<TaskTimedOut>()("TaskTimedOut", { upid: Schema.String }) {
  override get message() {
    return `task ${this.upid} did not finish`
  }
}

export class Actor extends Effect.Service<Actor>()("vigil/Actor", {
  scoped: Effect.gen(function*() {
    const config = yield* RemediationConfig
    const audit = yield* AuditRepo
    const proposals = yield* Proposals
    const reporter = yield* Reporter
    const watch = yield* ClusterWatch
    const actions = yield* FiberMap.make<string>()
    const inFlight = new Map<string, { readonly node: string }>()

    /** Waits for a snapshot taken after `since` in which the guest runs. */
    const verify = (vmid: number, since: number) =>
      Option.match(watch, {
        onNone: () => Effect.succeed("not verified: no snapshots"),
        onSome: (m) =>
          m.changes.pipe(
            Stream.filterMap((s) => s),
            Stream.filter((s) => s.takenAt > since),
            Stream.map((s) => s.guests.find((g) => g.vmid === vmid)?.status),
            Stream.takeUntil((status) => status === "running"),
            Stream.runLast,
            Effect.map((last) => (Option.getOrUndefined(last) === "running" ? "verified: running on the next snapshot" : "not running after the start")),
            Effect.timeoutTo({
              duration: config.verifyTimeout,
              onSuccess: (s) => s,
              onTimeout: () => `not verified: still not running after ${Duration.format(config.verifyTimeout)}`
            })
          )
      }).pipe(
        Effect.tap((result) => Effect.annotateCurrentSpan("result", result)),
        Effect.withSpan("Actor.verify", { attributes: { vmid, after: new Date(since).toISOString() } })
      )

    /** Starts the guest and follows its task to the end: the UPID and PVE's exit status. */
    const startAndFollow = (api: ProxmoxApi, guest: Extract<Decision, { _tag: "Act" }>["guest"]) =>
      Effect.gen(function*() {
        const upid = yield* api.startGuest(guest.node, guest.kind, guest.vmid).pipe(
          Effect.withSpan("Actor.startTask", { attributes: { node: guest.node, kind: guest.kind, vmid: guest.vmid } })
        )
        const poll = api.taskStatus(guest.node, upid)
        const status = yield* Effect.iterate(yield* poll, {
          while: (s) => s.status !== "stopped",
          body: () => Effect.zipRight(Effect.sleep("500 millis"), poll)
        }).pipe(
          Effect.timeoutFail({ duration: Duration.seconds(120), onTimeout: () => new TaskTimedOut({ upid }) }),
          Effect.tap((s) => Effect.annotateCurrentSpan("exitstatus", s.exitstatus ?? "unknown")),
          Effect.withSpan("Actor.followTask", { attributes: { upid } })
        )
        return { upid, exit: status.exitstatus ?? "unknown" }
      })

    const act = Effect.fn("Actor.act")(function*(
      api: ProxmoxApi,
      incident: IncidentFacts,
      decision: Extract<Decision, { _tag: "Act" }>,
      proposalId: string | undefined
    ) {
      const { guest } = decision
      const action = { runbook: decision.runbook.id, action: "start_guest", attempt: decision.attempt, vmid: guest.vmid }
      const what = `${guest.kind === "qemu" ? "VM" : "CT"} ${guest.vmid} (${guest.name}) on ${guest.node}`
      yield* reporter.event(incident, "started", "info", { ...action, level: decision.level, summary: `Starting ${what}`, notify: false })
      const outcome = yield* Effect.either(startAndFollow(api, guest))
      const ok = outcome._tag === "Right" && outcome.right.exit === "OK"
      const detail = outcome._tag === "Left"
        ? (outcome.left._tag === "SourceError" ? outcome.left.reason : outcome.left.message)
        : `task ${outcome.right.upid} exited ${outcome.right.exit}`
      const permanent = !ok && permanentFailure.test(detail)
      const finished = yield* Clock.currentTimeMillis
      const row = yield* audit.save({
        incidentKey: incident.key,
        incidentId: incident.id,
        runbookId: decision.runbook.id,
        condition: incident.condition,
        action: "start_guest",
        actionArgs: JSON.stringify({ node: guest.node, kind: guest.kind, vmid: guest.vmid }),
        result: ok ? "success" : "failure",
        resultDetails: permanent ? `permanent: ${detail}` : detail,
        autonomyLevel: decision.level,
        node: guest.node,
        attemptNumber: decision.attempt
      })
      if (proposalId !== undefined) yield* proposals.decide(proposalId, "executed", "vigil")
      yield* reporter.event(incident, ok ? "succeeded" : "failed", ok ? "info" : "error", {
        ...action,
        detail: `attempt ${decision.attempt} of ${config.policy.maxAttempts}: ${detail}`,
        summary: `${ok ? "Started" : "Could not start"} ${what}`,
        notify: !decision.silent
      })
      if (ok) yield* audit.setVerification(row.id, yield* verify(guest.vmid, finished))
    })

    /** Runs the action in the background; `done` runs when it ends, however it ends. */
    const start = (
      api: ProxmoxApi,
      incident: IncidentFacts,
      decision: Extract<Decision, { _tag: "Act" }>,
      proposalId: string | undefined,
      done: Effect.Effect<void>
    ) =>
      Effect.suspend(() => {
        inFlight.set(incident.key, { node: decision.guest.node })
        return FiberMap.run(actions, incident.key, act(api, incident, decision, proposalId).pipe(
          Effect.catchAllCause((cause) => Effect.logError(`remediation of ${incident.key} failed`, cause)),
          Effect.ensuring(Effect.sync(() => inFlight.delete(incident.key))),
          Effect.ensuring(done)
        ))
      })

    return {
      start,
      isActing: (key: string) => inFlight.has(key),
      inFlight: () => [...inFlight.values()]
    } as const
  }),
  dependencies: [Reporter.Default, Proposals.Default, AuditRepo.Default]
}) {}
