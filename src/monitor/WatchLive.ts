/**
 * The cluster watch as one layer: the source chosen by `VIGIL_SOURCE` and the Monitor polling
 * it. With `VIGIL_SOURCE=none` nothing is watched (vigil is then only an event backbone).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { LocalHostSourceLive } from "../sources/LocalHostSource.js"
import { ProxmoxApi } from "../sources/ProxmoxApi.js"
import { ProxmoxSourceLive } from "../sources/ProxmoxSource.js"
import type { EventBus } from "../bus/EventBus.js"
import type { Leadership } from "../scale/Leadership.js"
import type { EventRepo } from "../store/EventRepo.js"
import type { Incidents } from "./Incidents.js"
import { Monitor } from "./Monitor.js"
import { WatchConfig } from "./WatchConfig.js"

/**
 * Provides the Monitor (and the ProxmoxApi, for remediation) only when a source is configured,
 * so its type promises neither: readers use `Effect.serviceOption`.
 */
export const WatchLive: Layer.Layer<never, unknown, WatchConfig | EventBus | Incidents | EventRepo | Leadership> = Layer.unwrapEffect(
  Effect.map(WatchConfig, (config) => {
    switch (config.source) {
      case "none":
        return Layer.empty
      case "localhost":
        return Monitor.Default.pipe(Layer.provide(LocalHostSourceLive))
      case "proxmox": {
        // WatchConfig has already refused `proxmox` without a URL and token.
        const proxmox = Option.getOrThrow(config.proxmox)
        return Monitor.Default.pipe(
          Layer.provide(ProxmoxSourceLive),
          Layer.provideMerge(ProxmoxApi.layerFor(proxmox, config.sourceTimeout))
        )
      }
    }
  })
)
