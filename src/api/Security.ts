/**
 * How the API is secured, as the definition declares it: who the caller is (`CurrentUser`), the
 * errors authentication answers with, and one middleware tag per scope (`RequireRead`,
 * `RequireIngest`, `RequireAdmin`), each accepting a bearer token, the `access_token` query
 * parameter or the `vigil_token` cookie, so the OpenAPI document shows the schemes. The check
 * itself is the server's (access/Auth).
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import type { Scope } from "../domain/Token.js"

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

export const security = {
  bearer: HttpApiSecurity.bearer,
  query: HttpApiSecurity.apiKey({ key: "access_token", in: "query" }),
  cookie: HttpApiSecurity.apiKey({ key: "vigil_token", in: "cookie" })
}

const options = { failure: Schema.Union(Unauthorized, Forbidden), provides: CurrentUser, security } as const

export class RequireRead extends HttpApiMiddleware.Tag<RequireRead>()("vigil/RequireRead", options) {}
export class RequireIngest extends HttpApiMiddleware.Tag<RequireIngest>()("vigil/RequireIngest", options) {}
export class RequireAdmin extends HttpApiMiddleware.Tag<RequireAdmin>()("vigil/RequireAdmin", options) {}
