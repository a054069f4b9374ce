/**
 * Reading a running vigil's events from its API, and waiting for them to appear.
 */
import * as Effect from "effect/Effect"
import { getJson } from "./Vigil.js"

/** Events of the given type (exact, or a prefix with *), oldest first. */
export const events = (url: string, type: string) =>
  Effect.map(getJson(`${url}/api/v1/events?type=${type}&limit=1000`), (r) => (r.body as Array<any>).reverse())

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
