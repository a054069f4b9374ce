/**
 * Handlers for the access group: token administration and the caller's notifications.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { CurrentUser } from "../api/Security.js"
import { Inbox } from "../access/Inbox.js"
import { StreamGuard } from "../access/StreamGuard.js"
import { Tokens } from "../access/Tokens.js"
import { NotFound } from "../api/AccessApi.js"
import { VigilApi } from "../api/Api.js"
import { storeUnavailable } from "../api/ApiErrors.js"

const unavailable = storeUnavailable

export const AccessHttp = HttpApiBuilder.group(VigilApi, "access", (handlers) =>
  Effect.gen(function*() {
    const tokens = yield* Tokens
    const notifications = yield* Inbox
    const guard = yield* StreamGuard

    return handlers
      .handle("createToken", ({ payload }) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          tokens.create({
            user: payload.user,
            scopes: payload.scopes,
            label: payload.label,
            expiresAt: payload.expiresInSeconds === undefined ? undefined : now + payload.expiresInSeconds * 1000
          })).pipe(Effect.mapError(unavailable)))
      .handle("listTokens", () => tokens.list.pipe(Effect.mapError(unavailable)))
      .handle("revokeToken", ({ path }) =>
        Effect.gen(function*() {
          const revoked = yield* tokens.revoke(path.id).pipe(Effect.mapError(unavailable))
          if (revoked === undefined) return yield* new NotFound({ message: `no active token ${path.id}` })
          // Its open streams end now, not at the next recheck.
          yield* guard.revoked(revoked.id)
          return revoked
        }))
      .handle("notifications", ({ urlParams }) =>
        Effect.flatMap(CurrentUser, (user) =>
          notifications.list(user.name, {
            unreadOnly: urlParams.unread === "true",
            limit: urlParams.limit ?? 50,
            offset: urlParams.offset ?? 0
          })).pipe(Effect.mapError(unavailable)))
      .handle("unreadCount", () =>
        Effect.flatMap(CurrentUser, (user) => notifications.unreadCount(user.name)).pipe(
          Effect.map((unread) => ({ unread })),
          Effect.mapError(unavailable)
        ))
      .handle("markRead", ({ path }) =>
        Effect.gen(function*() {
          const user = yield* CurrentUser
          const marked = yield* notifications.markRead(user.name, path.id).pipe(Effect.mapError(unavailable))
          if (marked === undefined) return yield* new NotFound({ message: `no notification ${path.id} for you` })
          return marked
        }))
      .handle("markAllRead", () =>
        Effect.flatMap(CurrentUser, (user) => notifications.markAllRead(user.name)).pipe(
          Effect.map((marked) => ({ marked })),
          Effect.mapError(unavailable)
        ))
  }))
