/**
 * A failure that says a feature is missing on this cluster or node (PVE's API dies with a message:
 * "binary not installed", "zfsutils-linux not installed"; HTTP 500) or forbidden to the token
 * (403), rather than that the call failed: the optional sources switch themselves off on it.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Unavailable } from "../domain/StorageHealth.js"
import type { SourceError } from "./ClusterSource.js"

export const unavailable = (missing: RegExp | undefined, privilege: string) =>
<A>(self: Effect.Effect<Either.Either<A, Unavailable>, SourceError>): Effect.Effect<Either.Either<A, Unavailable>, SourceError> =>
  Effect.catchIf(
    self,
    (e) => missing?.test(e.reason) === true || e.reason.includes("(403)"),
    (e) =>
      Effect.succeed(Either.left<Unavailable>(
        e.reason.includes("(403)") ? { _tag: "Forbidden", reason: `the token lacks ${privilege}` } : { _tag: "NotInstalled", reason: e.reason }
      ))
  )
