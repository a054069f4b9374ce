/**
 * API tokens: created with a user, scopes (`read`, `ingest`, `admin`), an optional expiry and a
 * label; stored only as SHA-256 hashes (the token is random and long, so a slow hash buys
 * nothing); shown once at creation. Revocation takes effect at once on this instance and within
 * the recheck interval on any other.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import type { Scope, TokenInfo } from "../domain/Token.js"
import { createHash, randomBytes } from "node:crypto"


export type Verification =
  | { readonly _tag: "Valid"; readonly token: TokenInfo }
  | { readonly _tag: "Invalid" | "Expired" | "Revoked" }

const hash = (token: string) => createHash("sha256").update(token).digest("hex")

/** `vgl_<id>_<secret>`: the id lets operators name a token without revealing it. */
const newToken = () => {
  const id = randomBytes(6).toString("hex")
  return { id, token: `vgl_${id}_${randomBytes(24).toString("base64url")}` }
}

interface Row {
  readonly id: string
  readonly username: string
  readonly scopes: string
  readonly label: string | null
  readonly created_at: number | string
  readonly expires_at: number | string | null
  readonly revoked_at: number | string | null
  readonly last_used_at: number | string | null
}

const iso = (ms: number | string | null) => (ms === null ? null : new Date(Number(ms)).toISOString())

const fromRow = (r: Row): TokenInfo => ({
  id: r.id,
  user: r.username,
  scopes: r.scopes.split(",").filter((s): s is Scope => s === "read" || s === "ingest" || s === "admin"),
  label: r.label,
  createdAt: iso(r.created_at)!,
  expiresAt: iso(r.expires_at),
  revokedAt: iso(r.revoked_at),
  lastUsedAt: iso(r.last_used_at)
})

export class Tokens extends Effect.Service<Tokens>()("vigil/Tokens", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

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
        created_at: Date.now(),
        expires_at: input.expiresAt ?? null,
        revoked_at: null,
        last_used_at: null
      })}`
      const rows = yield* sql<Row>`SELECT * FROM api_tokens WHERE id = ${id}`
      return { token, info: fromRow(rows[0]!) }
    })

    const list = Effect.map(sql<Row>`SELECT * FROM api_tokens ORDER BY created_at DESC`, (rows) => rows.map(fromRow))

    const revoke = Effect.fn("Tokens.revoke")(function*(id: string) {
      const rows = yield* sql<Row>`UPDATE api_tokens SET revoked_at = ${Date.now()}
        WHERE id = ${id} AND revoked_at IS NULL RETURNING *`
      return rows[0] === undefined ? undefined : fromRow(rows[0])
    })

    const byId = (id: string) => Effect.map(sql<Row>`SELECT * FROM api_tokens WHERE id = ${id}`, (rows) => rows[0])

    const check = (row: Row | undefined, now: number): Verification => {
      if (row === undefined) return { _tag: "Invalid" }
      if (row.revoked_at !== null) return { _tag: "Revoked" }
      if (row.expires_at !== null && Number(row.expires_at) <= now) return { _tag: "Expired" }
      return { _tag: "Valid", token: fromRow(row) }
    }

    const verify = Effect.fn("Tokens.verify")(function*(token: string) {
      const rows = yield* sql<Row>`SELECT * FROM api_tokens WHERE hash = ${hash(token)}`
      const result = check(rows[0], Date.now())
      if (result._tag === "Valid") {
        yield* sql`UPDATE api_tokens SET last_used_at = ${Date.now()} WHERE id = ${result.token.id}`.pipe(Effect.ignore)
      }
      return result
    })

    /** Whether the token (by id) still grants access: used to end the streams it opened. */
    const stillValid = (id: string) => Effect.map(byId(id), (row) => check(row, Date.now())._tag === "Valid")

    return { create, list, revoke, verify, stillValid } as const
  })
}) {}
