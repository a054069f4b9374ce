/**
 * API tokens: created with a user, scopes (`read`, `ingest`, `admin`), an optional expiry and a
 * label; stored only as SHA-256 hashes (the token is random and long, so a slow hash buys
 * nothing); shown once at creation. Revocation takes effect at once on this instance and within
 * the recheck interval on any other.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type * as Statement from "@effect/sql/Statement"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Scope, TokenInfo } from "../domain/Token.js"
import { createHash, randomBytes } from "node:crypto"
import { Int, iso } from "../store/Columns.js"


export type Verification =
  | { readonly _tag: "Valid"; readonly token: TokenInfo }
  | { readonly _tag: "Invalid" | "Expired" | "Revoked" }

const hash = (token: string) => createHash("sha256").update(token).digest("hex")

/** `vgl_<id>_<secret>`: the id lets operators name a token without revealing it. */
const newToken = () => {
  const id = randomBytes(6).toString("hex")
  return { id, token: `vgl_${id}_${randomBytes(24).toString("base64url")}` }
}

const Row = Schema.Struct({
  id: Schema.String,
  username: Schema.String,
  scopes: Schema.String,
  label: Schema.NullOr(Schema.String),
  createdAt: Int,
  expiresAt: Schema.NullOr(Int),
  revokedAt: Schema.NullOr(Int),
  lastUsedAt: Schema.NullOr(Int)
})
type Row = typeof Row.Type

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))

const toInfo = (r: Row): TokenInfo => ({
  id: r.id,
  user: r.username,
  scopes: r.scopes.split(",").filter((s): s is Scope => s === "read" || s === "ingest" || s === "admin"),
  label: r.label,
  createdAt: iso(r.createdAt),
  expiresAt: isoOrNull(r.expiresAt),
  revokedAt: isoOrNull(r.revokedAt),
  lastUsedAt: isoOrNull(r.lastUsedAt)
})

const check = (row: Row | undefined, now: number): Verification => {
  if (row === undefined) return { _tag: "Invalid" }
  if (row.revokedAt !== null) return { _tag: "Revoked" }
  if (row.expiresAt !== null && row.expiresAt <= now) return { _tag: "Expired" }
  return { _tag: "Valid", token: toInfo(row) }
}

export class Tokens extends Effect.Service<Tokens>()("vigil/Tokens", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const one = (execute: (key: string) => Statement.Statement<object>) =>
      (key: string) => Effect.map(SqlSchema.findOne({ Request: Schema.String, Result: Row, execute })(key), Option.getOrUndefined)
    const byId = one((id) => sql`SELECT * FROM api_tokens WHERE id = ${id}`)
    const byHash = one((hash) => sql`SELECT * FROM api_tokens WHERE hash = ${hash}`)
    const revokeRow = SqlSchema.findOne({
      Request: Schema.Struct({ id: Schema.String, at: Schema.Number }),
      Result: Row,
      execute: ({ at, id }) => sql`UPDATE api_tokens SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL RETURNING *`
    })
    const all = SqlSchema.findAll({ Request: Schema.Void, Result: Row, execute: () => sql`SELECT * FROM api_tokens ORDER BY created_at DESC` })

    const create = Effect.fn("Tokens.create")(function*(input: {
      readonly user: string
      readonly scopes: ReadonlyArray<Scope>
      readonly label?: string | undefined
      readonly expiresAt?: number | undefined
    }) {
      const { id, token } = newToken()
      yield* sql`INSERT INTO api_tokens ${sql.insert({
        id,
        hash: hash(token),
        username: input.user,
        scopes: [...new Set(input.scopes)].join(","),
        label: input.label ?? null,
        createdAt: yield* Clock.currentTimeMillis,
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
        lastUsedAt: null
      })}`
      return { token, info: toInfo((yield* byId(id))!) }
    })

    const list = Effect.map(all(undefined), (rows) => rows.map(toInfo))

    const revoke = Effect.fn("Tokens.revoke")(function*(id: string) {
      const row = yield* revokeRow({ id, at: yield* Clock.currentTimeMillis })
      return Option.getOrUndefined(Option.map(row, toInfo))
    })

    const verify = Effect.fn("Tokens.verify")(function*(token: string) {
      const now = yield* Clock.currentTimeMillis
      const result = check(yield* byHash(hash(token)), now)
      if (result._tag === "Valid") {
        yield* sql`UPDATE api_tokens SET last_used_at = ${now} WHERE id = ${result.token.id}`.pipe(Effect.ignore)
      }
      return result
    })

    /** Whether the token (by id) still grants access: used to end the streams it opened. */
    const stillValid = (id: string) =>
      Effect.zipWith(byId(id), Clock.currentTimeMillis, (row, now) => check(row, now)._tag === "Valid")

    return { create, list, revoke, verify, stillValid } as const
  })
}) {}
