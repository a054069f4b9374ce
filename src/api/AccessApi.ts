/**
 * The access group: tokens (admin only) and per-user notifications (any reader, their own).
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import { RequireAdmin, RequireRead } from "./Security.js"
import { Scope, TokenInfo } from "../domain/Token.js"
import { Notification } from "../domain/Notification.js"
import { ServiceUnavailable } from "./ApiErrors.js"

export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export const CreateToken = Schema.Struct({
  user: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9._@-]{1,128}$/, { message: () => "user must be 1..128 letters, digits or . _ @ -" })),
  scopes: Schema.Array(Scope).pipe(Schema.minItems(1, { message: () => "scopes must name at least one of read, ingest, admin" })),
  label: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  expiresInSeconds: Schema.optional(Schema.Int.pipe(Schema.positive()))
})

const IdPath = Schema.Struct({ id: Schema.String })
const NotificationPath = Schema.Struct({ id: Schema.NumberFromString.pipe(Schema.int()) })

export class AccessApi extends HttpApiGroup.make("access")
  .add(
    HttpApiEndpoint.post("createToken", "/api/v1/tokens")
      .middleware(RequireAdmin)
      .setPayload(CreateToken)
      .addSuccess(Schema.Struct({ token: Schema.String, info: TokenInfo }), { status: 201 })
      .addError(ServiceUnavailable)
  )
  .add(HttpApiEndpoint.get("listTokens", "/api/v1/tokens").middleware(RequireAdmin).addSuccess(Schema.Array(TokenInfo)).addError(ServiceUnavailable))
  .add(
    HttpApiEndpoint.del("revokeToken", "/api/v1/tokens/:id")
      .middleware(RequireAdmin)
      .setPath(IdPath)
      .addSuccess(TokenInfo)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("notifications", "/api/v1/notifications")
      .middleware(RequireRead)
      .setUrlParams(Schema.Struct({
        unread: Schema.optional(Schema.Literal("true", "false")),
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500, { message: () => "must be between 1 and 500" }))),
        offset: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative()))
      }))
      .addSuccess(Schema.Array(Notification))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("unreadCount", "/api/v1/notifications/unread-count")
      .middleware(RequireRead)
      .addSuccess(Schema.Struct({ unread: Schema.Int }))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("markRead", "/api/v1/notifications/:id/read")
      .middleware(RequireRead)
      .setPath(NotificationPath)
      .addSuccess(Notification)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("markAllRead", "/api/v1/notifications/read-all")
      .middleware(RequireRead)
      .addSuccess(Schema.Struct({ marked: Schema.Int }))
      .addError(ServiceUnavailable)
  )
{}
