/**
 * API tokens as the API shows them: who, which scopes (`admin` includes the others), when made,
 * when they expire or were revoked. The token itself is shown once and stored only as a hash.
 */
import * as Schema from "effect/Schema"

export const Scope = Schema.Literal("read", "ingest", "admin")
export type Scope = typeof Scope.Type

export const TokenInfo = Schema.Struct({
  id: Schema.String,
  user: Schema.String,
  scopes: Schema.Array(Scope),
  label: Schema.NullOr(Schema.String),
  createdAt: Schema.String,
  expiresAt: Schema.NullOr(Schema.String),
  revokedAt: Schema.NullOr(Schema.String),
  lastUsedAt: Schema.NullOr(Schema.String)
}).annotations({ identifier: "TokenInfo" })
export type TokenInfo = typeof TokenInfo.Type
