/**
 * Each user's inbox: notifications persisted with read/unread state. System-wide ones (no
 * user) reach every user, each keeping their own read state; user-specific ones reach their owner
 * only. They are made from the events people should see later even if no stream was open:
 * `system.warning`, remediation notices and lost agents.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import { Notification } from "../domain/Notification.js"
import { followDurably } from "../bus/DurableFollower.js"
import type { StoredEvent } from "../domain/Event.js"
import { makeFilter } from "../domain/EventFilter.js"


/** Read state of someone using vigil with authentication off. */
const anonymous = "anonymous"

interface Row {
  readonly id: number | string
  readonly username: string | null
  readonly title: string
  readonly message: string
  readonly priority: "normal" | "high" | "critical"
  readonly category: string
  readonly event_sequence: number | string | null
  readonly created_at: number | string
  readonly read_at: number | string | null
}

const fromRow = (r: Row): Notification => ({
  id: Number(r.id),
  user: r.username,
  title: r.title,
  message: r.message,
  priority: r.priority,
  category: r.category,
  eventSequence: r.event_sequence === null ? null : Number(r.event_sequence),
  createdAt: new Date(Number(r.created_at)).toISOString(),
  read: r.read_at !== null
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
    event_sequence: e.sequence,
    created_at: e.receivedAt
  }
}

export const notifyingTypes = "system.warning,remediation.proposed,remediation.failed,remediation.blocked,remediation.escalated,remediation.succeeded,agent.lost"

export class Inbox extends Effect.Service<Inbox>()("vigil/Inbox", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const visible = (user: string | undefined) => (user === undefined ? sql`1 = 1` : sql`(n.username IS NULL OR n.username = ${user})`)
    const reader = (user: string | undefined) => user ?? anonymous

    const list = Effect.fn("Notifications.list")(function*(
      user: string | undefined,
      options: { readonly unreadOnly: boolean; readonly limit: number; readonly offset: number }
    ) {
      const rows = yield* sql<Row>`SELECT n.*, r.read_at FROM notifications n
        LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ${reader(user)}
        WHERE ${visible(user)} ${options.unreadOnly ? sql`AND r.read_at IS NULL` : sql``}
        ORDER BY CASE WHEN r.read_at IS NULL THEN 0 ELSE 1 END, n.id DESC
        LIMIT ${options.limit} OFFSET ${options.offset}`
      return rows.map(fromRow)
    })

    const unreadCount = Effect.fn("Notifications.unreadCount")(function*(user: string | undefined) {
      const rows = yield* sql<{ n: number | string }>`SELECT count(*) AS n FROM notifications n
        LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ${reader(user)}
        WHERE ${visible(user)} AND r.read_at IS NULL`
      return Number(rows[0]?.n ?? 0)
    })

    /** Marks one as read for this user; undefined when it does not exist or is not theirs. */
    const markRead = Effect.fn("Notifications.markRead")(function*(user: string | undefined, id: number) {
      const rows = yield* sql<Row>`SELECT n.*, NULL AS read_at FROM notifications n WHERE n.id = ${id} AND ${visible(user)}`
      if (rows[0] === undefined) return undefined
      yield* sql`INSERT INTO notification_reads (notification_id, username, read_at) VALUES (${id}, ${reader(user)}, ${Date.now()})
        ON CONFLICT (notification_id, username) DO NOTHING`
      return { ...fromRow(rows[0]), read: true }
    })

    const markAllRead = Effect.fn("Notifications.markAllRead")(function*(user: string | undefined) {
      const unread = yield* sql<{ id: number | string }>`SELECT n.id FROM notifications n
        LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ${reader(user)}
        WHERE ${visible(user)} AND r.read_at IS NULL`
      const now = Date.now()
      for (const { id } of unread) {
        yield* sql`INSERT INTO notification_reads (notification_id, username, read_at) VALUES (${Number(id)}, ${reader(user)}, ${now})
          ON CONFLICT (notification_id, username) DO NOTHING`
      }
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
