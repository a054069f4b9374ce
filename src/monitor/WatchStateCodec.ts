/**
 * The watch state as JSON, so that a restarted vigil, or the instance that takes over the lead,
 * carries on where the last poll left off: a guest followed through a node outage is still
 * followed, a lock's age is kept, and what changed meanwhile is a change against it, with its
 * cause. A state written by another version of vigil does not decode, and is seeded afresh.
 */
import * as Either from "effect/Either"
import type { WatchState } from "./Diff.js"

const version = 2

export const encodeWatchState = (state: WatchState): string =>
  JSON.stringify({
    version,
    takenAt: state.takenAt,
    nodes: [...state.nodes],
    quorate: state.quorate ?? null,
    guests: [...state.guests],
    storage: [...state.storage],
    ha: [...state.ha],
    services: [...state.services],
    portConflicts: [...state.portConflicts]
  })

export const decodeWatchState = (text: string): Either.Either<WatchState, string> => {
  try {
    const raw = JSON.parse(text)
    if (raw?.version !== version) return Either.left(`watch state version ${raw?.version ?? "none"}, expected ${version}`)
    return Either.right({
      takenAt: raw.takenAt,
      nodes: new Map(raw.nodes),
      quorate: raw.quorate ?? undefined,
      guests: new Map(raw.guests),
      storage: new Map(raw.storage),
      ha: new Map(raw.ha),
      services: new Map(raw.services),
      portConflicts: new Map(raw.portConflicts)
    })
  } catch (error) {
    return Either.left(`unreadable watch state: ${(error as Error).message}`)
  }
}
