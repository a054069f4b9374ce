/**
 * What a token's open streams are allowed: at most `VIGIL_MAX_STREAMS_PER_TOKEN` at once, and
 * only while the token stays valid. Revoking a token here ends its streams at once; a revocation
 * made elsewhere (the CLI, another instance) or an expiry is seen at the next recheck.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { AccessConfig } from "./AccessConfig.js"
import type { User } from "./Auth.js"
import { Tokens } from "./Tokens.js"

export class TooManyStreams extends Schema.TaggedError<TooManyStreams>()(
  "TooManyStreams",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 429 })
) {}

export class StreamGuard extends Effect.Service<StreamGuard>()("vigil/StreamGuard", {
  effect: Effect.gen(function*() {
    const { maxStreamsPerToken, recheck } = yield* AccessConfig
    const tokens = yield* Tokens
    const open = new Map<string, number>()
    const revocations = new Map<string, Set<Deferred.Deferred<void>>>()

    /**
     * Counts a stream against its token, refusing one too many; the returned effect releases it
     * (run it when the stream ends).
     */
    const admit = (user: User): Effect.Effect<Effect.Effect<void>, TooManyStreams> => {
      const id = user.tokenId
      if (id === undefined) return Effect.succeed(Effect.void)
      return Effect.suspend(() => {
        const n = open.get(id) ?? 0
        if (n >= maxStreamsPerToken) {
          return Effect.fail(new TooManyStreams({ message: `this token already has ${n} open streams (the limit is ${maxStreamsPerToken})` }))
        }
        open.set(id, n + 1)
        let released = false
        return Effect.succeed(Effect.sync(() => {
          if (released) return
          released = true
          open.set(id, (open.get(id) ?? 1) - 1)
        }))
      })
    }

    /** Completes when the user's token stops being valid; never, when there is no token. */
    const lost = (user: User): Effect.Effect<void> => {
      const id = user.tokenId
      if (id === undefined) return Effect.never
      const polled = tokens.stillValid(id).pipe(
        Effect.orElseSucceed(() => true),
        Effect.repeat({ schedule: Schedule.spaced(recheck), while: (valid) => valid }),
        Effect.asVoid
      )
      const told = Effect.acquireUseRelease(
        Effect.map(Deferred.make<void>(), (d) => {
          if (!revocations.has(id)) revocations.set(id, new Set())
          revocations.get(id)!.add(d)
          return d
        }),
        Deferred.await,
        (d) => Effect.sync(() => revocations.get(id)?.delete(d))
      )
      return Effect.raceFirst(polled, told)
    }

    /** Ends, at once, every stream this instance has open with the token. */
    const revoked = (tokenId: string) =>
      Effect.sync(() => {
        for (const d of revocations.get(tokenId) ?? []) Deferred.unsafeDone(d, Effect.void)
      })

    return { admit, lost, revoked } as const
  })
}) {}
