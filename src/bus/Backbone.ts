/**
 * The event backbone as one layer: SQL client (migrated), repository, writer, live hub, bus and
 * retention, wired once. Requires only AppConfig.
 */
import * as Layer from "effect/Layer"
import { CommitFanoutLive } from "./CommitFanout.js"
import { EventBus } from "./EventBus.js"
import { Hub } from "./Hub.js"
import { DeadLetters } from "../store/DeadLetters.js"
import { EventRepo } from "../store/EventRepo.js"
import { EventStore } from "../store/EventStore.js"
import { Retention } from "./Retention.js"
import { SqlLive } from "../store/SqlLive.js"

export const BackboneLive = Retention.Default.pipe(
  Layer.provideMerge(EventBus.Default),
  Layer.provideMerge(EventStore.Default),
  Layer.provideMerge(CommitFanoutLive),
  Layer.provideMerge(Layer.mergeAll(EventRepo.Default, DeadLetters.Default, Hub.Default)),
  Layer.provideMerge(SqlLive)
)
