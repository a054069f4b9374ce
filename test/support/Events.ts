/**
 * Reading a running vigil's events from its API, and waiting for them to appear.
 */
import * as Effect from "effect/Effect"
import { call } from "./Api.js"
import { eventually } from "./Eventually.js"

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
  eventually(`${n} ${type} events`, events(url, type), (found) => found.length >= n, timeoutMs)
