/**
 * SQL for what notifications remember: which incidents were notified (each gets one recovery
 * notice) and the deliveries that failed for good (dead letters).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

export class NoticeLog extends Effect.Service<NoticeLog>()("vigil/NoticeLog", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const deadLetter = Effect.fn("NoticeLog.deadLetter")(function*(d: {
      readonly channel: string
      readonly incidentKey: string | undefined
      readonly subject: string
      readonly payload: string
      readonly attempts: number
      readonly error: string
    }) {
      yield* sql`INSERT INTO notification_dead_letters ${sql.insert({
        failedAt: yield* Clock.currentTimeMillis,
        channel: d.channel,
        incidentKey: d.incidentKey ?? null,
        subject: d.subject,
        payload: d.payload,
        attempts: d.attempts,
        error: d.error
      })}`
    })

    const deadLetters = sql<{ channel: string; subject: string; error: string; attempts: number }>`
      SELECT channel, subject, error, attempts FROM notification_dead_letters ORDER BY id DESC LIMIT 100`

    const markNotified = Effect.fn("NoticeLog.markNotified")(function*(incidentId: string, incidentKey: string) {
      yield* sql`INSERT INTO notified_incidents (incident_id, incident_key, notified_at, recovery_sent_at)
        VALUES (${incidentId}, ${incidentKey}, ${yield* Clock.currentTimeMillis}, NULL) ON CONFLICT (incident_id) DO NOTHING`
    })

    const awaitingRecovery = sql<{ incidentId: string; incidentKey: string }>`
      SELECT incident_id, incident_key FROM notified_incidents WHERE recovery_sent_at IS NULL`

    const markRecoverySent = Effect.fn("NoticeLog.markRecoverySent")(function*(incidentId: string) {
      yield* sql`UPDATE notified_incidents SET recovery_sent_at = ${yield* Clock.currentTimeMillis} WHERE incident_id = ${incidentId}`
    })

    return { deadLetter, deadLetters, markNotified, awaitingRecovery, markRecoverySent } as const
  })
}) {}
