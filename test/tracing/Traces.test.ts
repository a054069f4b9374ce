import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { waitUntil } from "../support/Clients.js"
import { type CollectedSpan, startCollector } from "../support/Collector.js"
import { eventually } from "../support/Eventually.js"
import { awaitEvents, events } from "../support/Events.js"
import { collectLines, environmentWithoutVigil } from "../support/Processes.js"
import { startWebhook } from "../support/Receivers.js"
import { healing, startSimulator, watchSeeded } from "../support/Simulator.js"
import { getJson, postEvents, tempDir } from "../support/Vigil.js"

const bin = Path.join(import.meta.dirname, "..", "..", "bin", "vigil.mjs")

/** Environment without any OTEL_* setting of this machine's: a spawned vigil sees only the test's. */
const cleanEnvironment = () =>
  Object.fromEntries(Object.entries(environmentWithoutVigil()).filter(([k]) => !k.startsWith("OTEL_")))

/** `vigil serve` as its own process, as an operator runs it, with these variables; answers its URL. */
const serve = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const vigil = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child: ChildProcess = spawn(process.execPath, [bin, "serve"], {
          env: { ...cleanEnvironment(), VIGIL_PORT: "0", VIGIL_DATA_DIR: dir, VIGIL_LOG_LEVEL: "warn", ...env }
        })
        const lines: Array<string> = []
        const collect = collectLines(lines)
        child.stdout!.on("data", collect)
        child.stderr!.on("data", collect)
        return { child, lines }
      }),
      ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
    )
    // The start-up block is logged at info; the health route tells when it listens instead.
    yield* waitUntil("vigil reports its port", () => vigil.lines.some((l) => /listening on http:\/\/127\.0\.0\.1:\d+/.test(l)), 30_000)
    return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(vigil.lines.find((l) => l.includes("listening on"))!)![1]!
  })

/** Short batches, so the collector hears about a span soon after it ends. */
const otlp = (collector: string, protocol: "http/json" | "http/protobuf") => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: collector,
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_SERVICE_NAME: "vigil-under-test",
  OTEL_BSP_SCHEDULE_DELAY: "100",
  VIGIL_LOG_LEVEL: "info"
})

const traceOf = (traceparent: string) => traceparent.split("-")[1]!

describe("OpenTelemetry traces", () => {
  it.scopedLive("one trace runs from the poll that saw a crash to the verified restart and the notice, and the stored events carry its id", () =>
    Effect.gen(function*() {
      const sim = yield* startSimulator()
      const hook = yield* startWebhook()
      const collector = yield* startCollector
      const url = yield* serve({
        ...healing(sim, hook.url),
        ...otlp(collector.url, "http/json")
      })
      yield* watchSeeded(url, sim)
      sim.crash(100)

      const [crashed] = yield* awaitEvents(url, "vm.crashed")
      const trace = traceOf(crashed.traceparent)
      yield* awaitEvents(url, "remediation.succeeded")
      yield* eventually("the restart is verified", getJson(`${url}/api/v1/actions?result=success`), (r) =>
        /verified/.test(r.body[0]?.verificationResult ?? ""))
      yield* waitUntil("the webhook got the notice", () => hook.received.length >= 1)

      // Everything vigil stored about the crash and what it did belongs to the trace of that poll.
      for (const type of ["vm.crashed", "remediation.started", "remediation.succeeded"]) {
        const [e] = yield* events(url, type)
        expect(traceOf(e.traceparent), type).toBe(trace)
      }
      const incidents = (yield* getJson(`${url}/api/v1/incidents?status=all`)).body as Array<any>
      expect(traceOf(incidents.find((i) => i.key === "VM_CRASHED:qemu/100").traceparent)).toBe(trace)

      const wanted = [
        "Monitor.poll",
        "Monitor.critical",
        "Causes.evidence",
        "Diff.diff",
        "Incidents.apply",
        "EventBus.publish",
        "Remediation.decision",
        "Actor.act",
        "Actor.startTask",
        "Actor.followTask",
        "Actor.verify",
        "Notify.deliver"
      ]
      const inTrace = () => collector.spans.filter((s) => s.traceId === trace)
      const spans = yield* eventually("the trace's spans reach the collector", Effect.sync(inTrace), (found) =>
        wanted.every((name) => found.some((s) => s.name === name)), 20_000)
      const named = (name: string) => spans.find((s) => s.name === name)!

      // One tree: the poll is its root, and every other span's parent is in the same trace.
      const ids = new Set(spans.map((s) => s.spanId))
      expect(named("Monitor.poll").parentSpanId).toBeUndefined()
      expect(spans.filter((s) => s.parentSpanId === undefined).map((s) => s.name)).toEqual(["Monitor.poll"])
      expect(spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId))).toEqual([])
      expect(named("Monitor.poll")).toMatchObject({ service: "vigil-under-test", attributes: { tier: "critical" } })
      // The diff saw the stop and the cause check found nothing to explain it: a crash.
      expect(named("Diff.diff").attributes.changes).toBe("GuestStopped:unknown")
      expect(named("Causes.evidence").attributes.nodes).toBe("pve1")
      const ancestors = (s: CollectedSpan): Array<string> => {
        const parent = spans.find((p) => p.spanId === s.parentSpanId)
        return parent === undefined ? [] : [parent.name, ...ancestors(parent)]
      }
      expect(ancestors(named("Actor.verify"))).toEqual(expect.arrayContaining(["Actor.act", "Remediation.decision", "Monitor.critical", "Monitor.poll"]))
      expect(named("Actor.verify").attributes.result).toMatch(/^verified/)
      expect(named("Remediation.decision").attributes).toMatchObject({ decision: "Act", incident: "VM_CRASHED:qemu/100" })
      // The start task went over HTTP to PVE inside the trace, and the notice joined it too.
      expect(ancestors(named("Notify.deliver"))).toContain("Monitor.poll")
      expect(named("Notify.deliver").attributes).toMatchObject({ channel: "generic", incidents: "VM_CRASHED:qemu/100" })

      // The group commit that stored the crash is its own span, linked to the publication.
      const publish = spans.find((s) => s.name === "EventBus.publish" && ancestors(s).includes("Monitor.critical"))!
      const commit = yield* eventually("the commit's span reaches the collector", Effect.sync(() =>
        collector.spans.find((s) => s.name === "EventStore.commit" && s.links.some((l) => l.spanId === publish.spanId))), (c) => c !== undefined)
      expect(commit!.links).toContainEqual({ traceId: trace, spanId: publish.spanId })
    }), { timeout: 90_000 })

  it.scopedLive("over http/protobuf, an ingest request's trace reaches the collector in OTLP's binary encoding", () =>
    Effect.gen(function*() {
      const collector = yield* startCollector
      const url = yield* serve({ VIGIL_SOURCE: "none", ...otlp(collector.url, "http/protobuf") })
      const traceId = "5af7651916cd43dd8448eb211c80319c"
      const answer = yield* postEvents(url, [{ specversion: "1.0", id: "p-1", source: "test", type: "proto.test" }], {
        traceparent: `00-${traceId}-b7ad6b7169203331-01`
      })
      expect(answer.body.accepted).toBe(1)
      const [stored] = yield* events(url, "proto.test")
      expect(traceOf(stored.traceparent)).toBe(traceId)
      // Trace ids travel as 16 raw bytes in the protobuf encoding.
      const post = yield* eventually("a protobuf export of the trace", Effect.sync(() =>
        collector.posts.find((p) => p.body.includes(Buffer.from(traceId, "hex")))), (p) => p !== undefined)
      expect(post).toMatchObject({ path: "/v1/traces", contentType: "application/x-protobuf" })
      expect(post!.body.includes(Buffer.from("EventBus.publish"))).toBe(true)
    }))

  it.scopedLive("an OTLP protocol vigil does not speak stops start-up, naming the variable", () =>
    Effect.gen(function*() {
      const child = spawn(process.execPath, [bin, "serve"], {
        env: { ...cleanEnvironment(), VIGIL_PORT: "0", VIGIL_SOURCE: "none", VIGIL_DATA_DIR: yield* tempDir, OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }
      })
      const lines: Array<string> = []
      child.stdout.on("data", collectLines(lines))
      child.stderr.on("data", collectLines(lines))
      const code = yield* Effect.promise(() => new Promise<number | null>((resolve) => child.once("exit", resolve)))
      expect(code).not.toBe(0)
      expect(lines.join("\n")).toContain("OTEL_EXPORTER_OTLP_PROTOCOL")
    }))
})
