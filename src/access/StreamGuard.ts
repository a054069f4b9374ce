/**
 * What a token's open streams are allowed: at most `VIGIL_MAX_STREAMS_PER_TOKEN` at once, and
 * only while the token stays valid. Revoking a token here ends its streams at once; a revocation
 * made elsewhere (the CLI, another instance) or an expiry is seen at the next recheck.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { TooManyStreams } from "../api/ApiErrors.js"
import { AccessConfig } from "./AccessConfig.js"
import type { User } from "../api/Security.js"
import { Tokens } from "./Tokens.js"

export class StreamGuard extends Effect.Service<StreamGuard>()("vigil/StreamGuard", {
  scoped: Effect.gen(function*() {
    const { maxStreamsPerToken, recheck } = yield* AccessConfig
    const tokens = yield* Tokens
    const open = new Map<string, number>()

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

    /** Per token with open streams: what to call when it stops being valid. */
    const watchers = new Map<string, Set<() => void>>()

    const fire = (tokenId: string) => {
      const callbacks = watchers.get(tokenId)
      if (callbacks === undefined) return
      watchers.delete(tokenId)
      for (const callback of callbacks) callback()
    }

    // One recheck for all streams: each token with open streams is looked up once per interval,
    // however many streams it has. A token that cannot be read for a moment (store error, or a
    // defect) counts as valid and is checked again next time; the loop itself never ends.
    const recheckAll = Effect.suspend(() =>
      Effect.forEach([...watchers.keys()], (tokenId) =>
        tokens.stillValid(tokenId).pipe(
          Effect.map((valid) => {
            if (!valid) fire(tokenId)
          }),
          Effect.catchAllCause((cause) => Effect.logWarning("could not recheck a token with open streams", cause))
        ), { discard: true })
    )
    yield* recheckAll.pipe(Effect.repeat(Schedule.spaced(recheck)), Effect.forkScoped)

    /**
     * Calls `onLost` once when the user's token stops being valid (revoked here at once, otherwise
     * at the next recheck); never when there is no token. Answers a function that cancels the watch.
     */
    const watch = (user: User, onLost: () => void): () => void => {
      const id = user.tokenId
      if (id === undefined) return () => {}
      let callbacks = watchers.get(id)
      if (callbacks === undefined) watchers.set(id, callbacks = new Set())
      callbacks.add(onLost)
      return () => {
        const current = watchers.get(id)
        current?.delete(onLost)
        if (current?.size === 0) watchers.delete(id)
      }
    }

    /** Completes when the user's token stops being valid; never, when there is no token. */
    const lost = (user: User): Effect.Effect<void> =>
      Effect.async<void>((resume) => {
        const cancel = watch(user, () => resume(Effect.void))
        return Effect.sync(cancel)
      })

    /** Ends, at once, every stream this instance has open with the token. */
    const revoked = (tokenId: string) => Effect.sync(() => fire(tokenId))

    return { admit, watch, lost, revoked } as const
  })
}) {}
