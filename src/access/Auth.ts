/**
 * Authentication and scopes as HttpApi middleware. Each route declares the scope it needs
 * (`RequireRead`, `RequireIngest`, `RequireAdmin`), so the OpenAPI document shows its security
 * schemes. A token comes as `Authorization: Bearer`, or, for EventSource and WebSocket clients
 * that cannot send headers, as the `access_token` query parameter or the `vigil_token` cookie.
 * `admin` includes the other scopes. With authentication off, every request is the anonymous
 * user with every scope.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Forbidden, RequireAdmin, RequireIngest, RequireRead, Unauthorized, type User } from "../api/Security.js"
import { AccessConfig } from "./AccessConfig.js"
import type { Scope } from "../domain/Token.js"
import { Tokens } from "./Tokens.js"

const anonymous: User = { name: undefined, scopes: ["read", "ingest", "admin"], tokenId: undefined }

/** The token of a request, from the header, the query or the cookie (in that order). */
export const tokenOf = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const header = request.headers.authorization
  if (header !== undefined && /^bearer\s+/i.test(header)) return header.replace(/^bearer\s+/i, "").trim() || undefined
  const query = new URL(request.url, "http://vigil").searchParams.get("access_token")
  if (query) return query
  return request.cookies.vigil_token || undefined
}

const authorizer = Effect.gen(function*() {
  const { auth } = yield* AccessConfig
  const tokens = yield* Tokens
  return (scope: Scope) =>
    Effect.gen(function*() {
      if (!auth) return anonymous
      const request = yield* HttpServerRequest.HttpServerRequest
      const token = tokenOf(request)
      if (token === undefined) {
        return yield* new Unauthorized({ message: "a token is required: Authorization: Bearer <token> (or ?access_token= for streams)" })
      }
      const verified = yield* tokens.verify(token).pipe(
        Effect.mapError(() => new Unauthorized({ message: "the token could not be checked (store unavailable)" }))
      )
      switch (verified._tag) {
        case "Invalid":
          return yield* new Unauthorized({ message: "unknown token" })
        case "Expired":
          return yield* new Unauthorized({ message: "the token has expired" })
        case "Revoked":
          return yield* new Unauthorized({ message: "the token was revoked" })
        case "Valid": {
          const { scopes, user, id } = verified.token
          if (!scopes.includes(scope) && !scopes.includes("admin")) {
            return yield* new Forbidden({ message: `the token lacks the ${scope} scope (it has ${scopes.join(", ") || "none"})` })
          }
          return { name: user, scopes, tokenId: id } satisfies User
        }
      }
    })
})

/** Every scheme runs the same check on the whole request, so the first one decides. */
const handlers = (scope: Scope) =>
  Effect.map(authorizer, (authorize) => {
    const check = () => authorize(scope)
    return { bearer: check, query: check, cookie: check }
  })

export const AuthLive = Layer.mergeAll(
  Layer.effect(RequireRead, handlers("read")),
  Layer.effect(RequireIngest, handlers("ingest")),
  Layer.effect(RequireAdmin, handlers("admin"))
)
