/**
 * Authentication and scopes as HttpApi middleware. Each route declares the scope it needs
 * (`RequireRead`, `RequireIngest`, `RequireAdmin`), so the OpenAPI document shows its security
 * schemes. A token comes as `Authorization: Bearer`, or, for EventSource and WebSocket clients
 * that cannot send headers, as the `access_token` query parameter or the `vigil_token` cookie.
 * `admin` includes the other scopes. With authentication off, every request is the anonymous
 * user with every scope.
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { AccessConfig } from "./AccessConfig.js"
import { type Scope, Tokens } from "./Tokens.js"

export interface User {
  /** Undefined when authentication is off: no user context, every event visible. */
  readonly name: string | undefined
  readonly scopes: ReadonlyArray<Scope>
  readonly tokenId: string | undefined
}

export class CurrentUser extends Context.Tag("vigil/CurrentUser")<CurrentUser, User>() {}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

const security = {
  bearer: HttpApiSecurity.bearer,
  query: HttpApiSecurity.apiKey({ key: "access_token", in: "query" }),
  cookie: HttpApiSecurity.apiKey({ key: "vigil_token", in: "cookie" })
}

const options = { failure: Schema.Union(Unauthorized, Forbidden), provides: CurrentUser, security } as const

export class RequireRead extends HttpApiMiddleware.Tag<RequireRead>()("vigil/RequireRead", options) {}
export class RequireIngest extends HttpApiMiddleware.Tag<RequireIngest>()("vigil/RequireIngest", options) {}
export class RequireAdmin extends HttpApiMiddleware.Tag<RequireAdmin>()("vigil/RequireAdmin", options) {}

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
