/**
 * The event kinds producers push (chat tool uses, agent lifecycles, task and system notices), and
 * the kinds vigil itself reacts to, each a CloudEvents `type` with a typed `data` schema. Ingest
 * validates the data of a known type and rejects a bad one with its path (`data.agentId`), so no
 * event an internal consumer reads can be malformed; unknown types pass as generic events: vigil
 * is a pipeline, not a gate.
 */
import * as Schema from "effect/Schema"

const Id = Schema.String.pipe(Schema.minLength(1, { message: () => "must be a non-empty string" }))
const optionalId = Schema.optional(Id)

/** One event per chat tool use (not per result). */
export const ChatToolUsed = Schema.Struct({
  tool: Id,
  /** A short summary of the arguments, not the arguments themselves (they can be large or secret). */
  arguments: Schema.optional(Schema.String.pipe(Schema.maxLength(2000))),
  conversationId: optionalId,
  sessionId: optionalId,
  userId: optionalId
})

/** Who the agent is, and where in the work it was. */
const AgentFields = {
  agentId: Id,
  agentName: Schema.optional(Schema.String),
  role: Schema.optional(Schema.String),
  sessionId: optionalId,
  taskId: optionalId,
  projectId: optionalId,
  traceId: optionalId
}

const Agent = Schema.Struct(AgentFields)

const AgentOperation = Schema.Struct({
  ...AgentFields,
  operation: Id,
  reason: Schema.optional(Schema.String)
})

const AgentBudget = Schema.Struct({
  ...AgentFields,
  spent: Schema.Number,
  remaining: Schema.optional(Schema.Number),
  unit: Schema.optional(Schema.String)
})

const AgentTask = Schema.Struct({
  ...AgentFields,
  operation: Schema.optional(Schema.String),
  status: Schema.optional(Schema.String),
  durationMs: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  filesModified: Schema.optional(Schema.Array(Schema.String)),
  toolsUsed: Schema.optional(Schema.Array(Schema.String)),
  error: Schema.optional(Schema.String)
})

/** Task and system notices, with a priority and a category for the inbox. */
const Notice = Schema.Struct({
  title: Id,
  message: Schema.optional(Schema.String),
  priority: Schema.optional(Schema.Literal("normal", "high", "critical")),
  category: Schema.optional(Schema.String)
})

/**
 * What vigil itself emits when a producer goes silent or comes back. Producers may send these too
 * (an external supervisor), so they are checked like the rest: vigil's notifications read them.
 */
const ProducerLiveness = Schema.Struct({
  kind: Id,
  id: Id,
  lastBeatAt: Schema.optional(Schema.String),
  incident: Schema.optional(Schema.String),
  summary: Schema.optional(Schema.String)
})

/**
 * What remediation reports; an external runbook runner may report the same way. `summary` is the
 * line a person reads; `notify` says whether a person should be told (an action taken silently
 * at L4, a transient guardrail, is not).
 */
export const RemediationNotice = Schema.Struct({
  incident: Id,
  incidentId: Schema.optional(Schema.String),
  condition: Schema.optional(Schema.String),
  runbook: Schema.optional(Schema.String),
  action: Schema.optional(Schema.String),
  attempt: Schema.optional(Schema.Int),
  vmid: Schema.optional(Schema.Int),
  level: Schema.optional(Schema.Int),
  detail: Schema.optional(Schema.String),
  guardrail: Schema.optional(Schema.String),
  reason: Schema.optional(Schema.String),
  proposal: Schema.optional(Schema.String),
  summary: Schema.optional(Schema.String),
  notify: Schema.optional(Schema.Boolean)
})

export const eventKinds: Readonly<Record<string, Schema.Schema<any, any>>> = {
  "chat.tool.used": ChatToolUsed,
  "agent.spawned": Agent,
  "agent.activated": Agent,
  "agent.operation.allowed": AgentOperation,
  "agent.operation.denied": AgentOperation,
  "agent.budget.updated": AgentBudget,
  "agent.task.started": AgentTask,
  "agent.task.completed": AgentTask,
  "agent.task.failed": AgentTask,
  "task.completed": Notice,
  "system.info": Notice,
  "system.warning": Notice,
  "agent.lost": ProducerLiveness,
  "agent.recovered": ProducerLiveness,
  "remediation.proposed": RemediationNotice,
  "remediation.started": RemediationNotice,
  "remediation.succeeded": RemediationNotice,
  "remediation.failed": RemediationNotice,
  "remediation.blocked": RemediationNotice,
  "remediation.escalated": RemediationNotice
}

/** The data schema of a known type, if it is one. */
export const kindOf = (type: string): Schema.Schema<any, any> | undefined =>
  Object.hasOwn(eventKinds, type) ? eventKinds[type] : undefined
