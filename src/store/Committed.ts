/**
 * The store's port for what follows a commit: the writer tells it what it committed, in sequence
 * order, before it answers the producers. The store does not know who listens; the bus provides
 * it (and publishes to its subscribers, or to other instances through PostgreSQL).
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { StoredEvent } from "../domain/Event.js"

export class Committed extends Context.Tag("vigil/Committed")<Committed, {
  /** Called by the writer after each commit, with what it committed, in sequence order. */
  readonly committed: (events: ReadonlyArray<StoredEvent>) => Effect.Effect<void>
}>() {}
