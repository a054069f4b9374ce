/**
 * Reading a running vigil's events from its API, and waiting for them to appear.
 */
import * as Effect from "effect/Effect"
import { call } from "./Api.js"

/**
 * Events of the given type (exact, or a prefix with *), oldest first, read through the client
 * derived from the API (so each is decoded as the API declares a CloudEvent).
 */
export const events = (url: string, type: string) =>
  call(url, (client) => client.events.recent({ urlParams: { type, limit: 1000 } })).pipe(
    Effect.map((found) => [...found].reverse() as Array<any>)
  )

/** Polls the API until at least `n` events of the type exist. */
export const awaitEvents = (url: string, type: string, n = 1, timeoutMs = 15_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (true) {
      const found = yield* events(url, type)
      if (found.length >= n) return found
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} ${type} events (have ${found.length})`)
      yield* Effect.sleep("50 millis")
    }
  })
