/**
 * What a check beside the snapshot needs (ZFS, disks, replication, updates, backups), or nothing
 * when it has nothing to do: the source's reader for it (a source without the feature has none),
 * the cluster watch (its latest snapshot says which nodes are online; none when nothing is
 * watched), the tiers, and the way every detector records what it found.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { EventBus } from "../bus/EventBus.js"
import { ClusterSource, type ClusterSourceShape } from "../sources/ClusterSource.js"
import { Incidents } from "../store/Incidents.js"
import { ClusterWatch } from "./Monitor.js"
import { recordFindings } from "./Record.js"
import { WatchConfig } from "./WatchConfig.js"

export const checkContext = <A>(reader: (source: ClusterSourceShape) => A | undefined) =>
  Effect.gen(function*() {
    const source = yield* ClusterSource
    const ask = Option.flatMap(source, (s) => Option.fromNullable(reader(s)))
    const watch = yield* ClusterWatch
    if (Option.isNone(ask) || Option.isNone(watch)) return Option.none()
    const { tiers } = yield* WatchConfig
    const bus = yield* EventBus
    const incidents = yield* Incidents
    return Option.some({ ask: ask.value, watch: watch.value, tiers, bus, incidents, record: recordFindings(incidents, bus) })
  })
