/**
 * Waiting in tests for something to happen, without guessing how long it takes: `eventually`
 * runs an effect until its result passes a check, and fails with what it last saw when the
 * deadline passes. No fixed sleeps: a slow CI machine only makes a test slower, not red.
 */
import * as Effect from "effect/Effect"

export const eventually = <A, E, R>(
  description: string,
  get: Effect.Effect<A, E, R>,
  check: (a: A) => boolean,
  timeoutMs = 20_000
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const value = yield* get
      if (check(value)) return value
      if (Date.now() > deadline) {
        return yield* Effect.dieMessage(`timed out waiting until ${description}; last saw ${JSON.stringify(value)?.slice(0, 300)}`)
      }
      yield* Effect.sleep("25 millis")
    }
  })
