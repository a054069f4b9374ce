/**
 * Each user's inbox: notifications persisted with read/unread state. System-wide ones (no
 * user) reach every user, each keeping their own read state; user-specific ones reach their owner
 * only. They are made from the events people should see later even if no stream was open:
 * `system.warning`, remediation notices and lost agents.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Notification } from "../domain/Notification.js"
import { followDurably } from "../bus/DurableFollower.js"
import type { StoredEvent } from "../domain/Event.js"
import { makeFilter } from "../domain/EventFilter.js"
import { Int, iso } from "../store/Columns.js"


/** Read state of someone using vigil with authentication off. */
const anonymous = "anonymous"

const Row = Schema.Struct({
  id: Int,
  username: Schema.NullOr(Schema.String),
  title: Schema.String,
  message: Schema.String,
  priority: Schema.Literal("normal", "high", "critical"),
  category: Schema.String,
  eventSequence: Schema.NullOr(Int),
  createdAt: Int,
  readAt: Schema.NullOr(Int)
})

const toNotification = (r: typeof Row.Type): Notification => ({
  id: r.id,
  user: r.username,
  title: r.title,
  message: r.message,
  priority: r.priority,
  category: r.category,
  eventSequence: r.eventSequence,
  createdAt: iso(r.createdAt),
  read: r.readAt !== null
})

const priorityOf = (e: StoredEvent, data: Readonly<Record<string, unknown>>): Notification["priority"] => {
  if (data.priority === "high" || data.priority === "critical" || data.priority === "normal") return data.priority
  return e.severity === "critical" ? "critical" : e.severity === "error" || e.severity === "warning" ? "high" : "normal"
}

/** An event's data as an object to read fields from: anything else (null, a list, text) has none. */
const fieldsOf = (e: StoredEvent): Readonly<Record<string, unknown>> => {
  if (e.data === undefined) return {}
  try {
    const data: unknown = JSON.parse(e.data)
    return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

/** The notification an event makes. Total: whatever the event's data, it answers. */
export const notificationOf = (e: StoredEvent) => {
  const data = fieldsOf(e)
  const text = (k: string) => (typeof data[k] === "string" ? (data[k] as string) : undefined)
  const category = e.type.startsWith("remediation.") ? "remediation" : e.type.startsWith("agent.") ? "agents" : text("category") ?? "system"
  return {
    username: e.audience ?? null,
    title: text("title") ?? text("summary") ?? e.type,
    message: text("message") ?? text("summary") ?? text("reason") ?? "",
    priority: priorityOf(e, data),
    category,
    eventSequence: e.sequence,
    createdAt: e.receivedAt
  }
}

export const notifyingTypes = "system.warning,remediation.proposed,remediation.failed,remediation.blocked,remediation.escalated,remediation.succeeded,agent.lost"

export class Inbox extends Effect.Service<Inbox>()("vigil/Inbox", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const visible = (user: string | undefined) => (user === undefined ? sql`1 = 1` : sql`(n.username IS NULL OR n.username = ${user})`)
    const reader = (user: string | undefined) => user ?? anonymous

    const listRows = SqlSchema.findAll({
      Request: Schema.Struct({ reader: Schema.String, user: Schema.optional(Schema.String), unreadOnly: Schema.Boolean, limit: Schema.Int, offset: Schema.Int }),
      Result: Row,
      execute: (q) =>
        sql`SELECT n.*, r.read_at FROM notifications n
          LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ${q.reader}
          WHERE ${visible(q.user)} ${q.unreadOnly ? sql`AND r.read_at IS NULL` : sql``}
          ORDER BY CASE WHEN r.read_at IS NULL THEN 0 ELSE 1 END, n.id DESC
          LIMIT ${q.limit} OFFSET ${q.offset}`
    })

    const visibleRow = SqlSchema.findOne({
      Request: Schema.Struct({ id: Schema.Int, user: Schema.optional(Schema.String) }),
      Result: Row,
      execute: (q) => sql`SELECT n.*, NULL AS read_at FROM notifications n WHERE n.id = ${q.id} AND ${visible(q.user)}`
    })

    const list = Effect.fn("Inbox.list")(function*(
      user: string | undefined,
      options: { readonly unreadOnly: boolean; readonly limit: number; readonly offset: number }
    ) {
      const rows = yield* listRows({ reader: reader(user), user, ...options })
      return rows.map(toNotification)
    })

    const unreadCount = Effect.fn("Inbox.unreadCount")(function*(user: string | undefined) {
      const rows = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM notifications n
        LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ${reader(user)}
        WHERE ${visible(user)} AND r.read_at IS NULL`
      return Number(rows[0]?.n ?? 0)
    })

    const markReadAt = (id: number, user: string | undefined, now: number) =>
      sql`INSERT INTO notification_reads (notification_id, username, read_at) VALUES (${id}, ${reader(user)}, ${now})
        ON CONFLICT (notification_id, username) DO NOTHING`

    /** Marks one as read for this user; undefined when it does not exist or is not theirs. */
    const markRead = Effect.fn("Inbox.markRead")(function*(user: string | undefined, id: number) {
      const row = yield* visibleRow({ id, user })
      if (Option.isNone(row)) return undefined
      yield* markReadAt(id, user, yield* Clock.currentTimeMillis)
      return { ...toNotification(row.value), read: true }
    })

    const markAllRead = Effect.fn("Inbox.markAllRead")(function*(user: string | undefined) {
      const unread = yield* sql<{ id: number | string }>`SELECT n.id FROM notifications n
        LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ${reader(user)}
        WHERE ${visible(user)} AND r.read_at IS NULL`
      const now = yield* Clock.currentTimeMillis
      for (const { id } of unread) yield* markReadAt(Number(id), user, now)
      return unread.length
    })

    // Follow the stream for the events that make notifications, resuming after the last one made:
    // a restart misses none and repeats none, and an event that cannot make one is set aside.
    yield* followDurably({
      consumer: "notifications",
      filter: makeFilter({ type: notifyingTypes }),
      handledThrough: Effect.map(
        sql<{ m: number | string | null }>`SELECT max(event_sequence) AS m FROM notifications`,
        (rows) => (rows[0]?.m == null ? undefined : Number(rows[0].m))
      ),
      handle: (event) => sql`INSERT INTO notifications ${sql.insert(notificationOf(event))}`
    })

    return { list, unreadCount, markRead, markAllRead } as const
  })
}) {}
