import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { openSse, waitUntil } from "../support/Clients.js"
import { cloudEvent, getJson, postEvents, startVigil } from "../support/Vigil.js"

const agent = { agentId: "agent-123", agentName: "coder", role: "developer", sessionId: "s-1", taskId: "t-9", projectId: "p-2", traceId: "tr-5" }

const kinds: ReadonlyArray<[string, Record<string, unknown>]> = [
  ["chat.tool.used", { tool: "vm_start", arguments: "vmid=101", conversationId: "c-1", sessionId: "s-1" }],
  ["agent.spawned", agent],
  ["agent.activated", agent],
  ["agent.operation.allowed", { ...agent, operation: "file:write" }],
  ["agent.operation.denied", { ...agent, operation: "net:egress", reason: "not in role" }],
  ["agent.budget.updated", { ...agent, spent: 0.42, remaining: 9.58, unit: "USD" }],
  ["agent.task.started", { ...agent, operation: "implement_feature" }],
  ["agent.task.completed", { ...agent, operation: "implement_feature", durationMs: 2500, filesModified: ["src/a.ts"], toolsUsed: ["Edit"] }],
  ["agent.task.failed", { ...agent, operation: "implement_feature", error: "tests failed" }],
  ["task.completed", { title: "Overnight report", message: "17 tasks completed", priority: "normal", category: "intelligence" }],
  ["system.warning", { title: "Port conflict", priority: "high", category: "system" }]
]

describe("producer event kinds", () => {
  it.scopedLive("each known kind round-trips through ingest, the store and the stream with its data intact", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const client = openSse(vigil.url, "?backfill=0")
      yield* waitUntil("connected", () => client.named.length > 0)
      const sent = kinds.map(([type, data]) => cloudEvent({ type, source: type.startsWith("chat") ? "chat" : "/agents/coder", data }))
      const answer = yield* postEvents(vigil.url, sent)
      expect(answer.body.accepted).toBe(kinds.length)
      yield* waitUntil("all streamed", () => client.events.length === kinds.length)
      const stored = (yield* getJson(`${vigil.url}/api/v1/events?limit=100`)).body.reverse().slice(1) // after system.online
      for (const [i, [type, data]] of kinds.entries()) {
        expect(client.events[i]!.event).toMatchObject({ type, data })
        expect(stored[i]).toMatchObject({ type, data, id: sent[i]!.id })
      }
      client.close()
    }))

  it.scopedLive("a known kind with a bad payload is rejected with the failing path; unknown kinds pass", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil()
      const answer = yield* postEvents(vigil.url, [
        cloudEvent({ type: "agent.spawned", data: { agentName: "no id" } }),
        cloudEvent({ type: "agent.budget.updated", data: { agentId: "a", spent: "a lot" } }),
        cloudEvent({ type: "chat.tool.used" }),
        cloudEvent({ type: "task.completed", data: { title: "x", priority: "urgent" } }),
        cloudEvent({ type: "anything.else", data: { free: ["form"] } })
      ])
      const rejected = answer.body.results.filter((r: any) => r.status === "rejected").map((r: any) => [r.path, r.reason])
      expect(rejected).toEqual([
        ["data.agentId", "is required"],
        ["data.spent", expect.stringContaining("number")],
        ["data", "is required for type chat.tool.used"],
        ["data.priority", expect.stringContaining("normal")]
      ])
      expect(answer.body.accepted).toBe(1)
    }))
})
