/**
 * Silences as data: made, listed and ended through the API, kept in SQL so every instance and
 * every restart sees the same ones, plus the fixed ones from `VIGIL_SILENCES` (the first
 * version's format: condition, target, node, a start and an end in epoch milliseconds).
 * Remediation honours them (no action on a silenced incident) and notifications do (no notice).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import { jsonConfig } from "../domain/ConfigFormats.js"
import { type NewSilence, type Silence, SilenceMatchers, WeeklyWindow } from "../domain/Silence.js"
import { Bool, Int, iso } from "./Columns.js"

/** `VIGIL_SILENCES`: fixed windows, as the first version took them. */
export const EnvSilence = Schema.Struct({
  id: Schema.String,
  condition: Schema.optional(Schema.String),
  target: Schema.optional(Schema.String),
  node: Schema.optional(Schema.String),
  /** Epoch ms. */
  startsAt: Schema.Number,
  endsAt: Schema.Number,
  reason: Schema.optional(Schema.String)
})
export type EnvSilence = typeof EnvSilence.Type

const fromEnv = (s: EnvSilence): Silence => ({
  id: `env:${s.id}`,
  matchers: { condition: s.condition, target: s.target, node: s.node },
  startsAt: iso(s.startsAt),
  endsAt: iso(s.endsAt),
  untilResolved: false,
  recurring: null,
  createdBy: "VIGIL_SILENCES",
  comment: s.reason ?? "",
  createdAt: iso(s.startsAt),
  endedAt: null,
  origin: "env"
})

const Row = Schema.Struct({
  id: Schema.String,
  matchers: Schema.parseJson(SilenceMatchers),
  startsAt: Int,
  endsAt: Schema.NullOr(Int),
  untilResolved: Bool,
  recurring: Schema.NullOr(Schema.parseJson(WeeklyWindow)),
  createdBy: Schema.String,
  comment: Schema.String,
  createdAt: Int,
  endedAt: Schema.NullOr(Int)
})

const toSilence = (r: typeof Row.Type): Silence => ({
  id: r.id,
  matchers: r.matchers,
  startsAt: iso(r.startsAt),
  endsAt: r.endsAt === null ? null : iso(r.endsAt),
  untilResolved: r.untilResolved,
  recurring: r.recurring,
  createdBy: r.createdBy,
  comment: r.comment,
  createdAt: iso(r.createdAt),
  endedAt: r.endedAt === null ? null : iso(r.endedAt),
  origin: "api"
})

export class Silences extends Effect.Service<Silences>()("vigil/Silences", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const fixed = Option.getOrElse(yield* jsonConfig("VIGIL_SILENCES", Schema.Array(EnvSilence)).pipe(Config.option), () => []).map(fromEnv)
    const bool = (b: boolean) => sql.onDialectOrElse({ pg: () => b, orElse: () => (b ? 1 : 0) })

    const rows = SqlSchema.findAll({
      Request: Int,
      Result: Row,
      // Ended ones are kept a week, so the HUD can show what was muted lately.
      execute: (since) => sql`SELECT * FROM silences WHERE ended_at IS NULL OR ended_at >= ${since} ORDER BY created_at DESC`
    })

    /** Every silence not ended (or ended within the last week), newest first; the fixed ones last. */
    const list = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      return [...(yield* rows(now - 7 * 24 * 3_600_000)).map(toSilence), ...fixed]
    }).pipe(Effect.withSpan("Silences.list"))

    /** The silences that can still mute something: not ended. */
    const current = Effect.map(list, (all) => all.filter((s) => s.endedAt === null))

    const create = Effect.fn("Silences.create")(function*(s: NewSilence, createdBy: string) {
      const now = yield* Clock.currentTimeMillis
      const id = randomUUID()
      yield* sql`INSERT INTO silences ${sql.insert({
        id,
        matchers: JSON.stringify(s.matchers),
        startsAt: s.startsAt?.epochMillis ?? now,
        endsAt: s.endsAt?.epochMillis ?? null,
        untilResolved: bool(s.untilResolved ?? false),
        recurring: s.recurring === undefined ? null : JSON.stringify(s.recurring),
        createdBy,
        comment: s.comment,
        createdAt: now,
        endedAt: null
      })}`
      return (yield* list).find((x) => x.id === id)!
    })

    /** Ends a silence now; false if there is no such silence made through the API, or it had ended. */
    const end = Effect.fn("Silences.end")(function*(id: string) {
      const now = yield* Clock.currentTimeMillis
      const ended = yield* sql<{ id: string }>`UPDATE silences SET ended_at = ${now} WHERE id = ${id} AND ended_at IS NULL RETURNING id`
      return ended.length > 0
    })

    return { list, current, create, end, fixed } as const
  })
}) {}
