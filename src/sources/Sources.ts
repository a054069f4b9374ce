/**
 * The source `VIGIL_SOURCE` chooses, as services that say in their type whether there is one: the
 * Proxmox API connection (remediation acts through it) and the cluster source the monitor polls.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { ClusterSource } from "./ClusterSource.js"
import { makeLocalHostSource } from "./LocalHostSource.js"
import { ProxmoxApi } from "./ProxmoxApi.js"
import { makeProxmoxSource } from "./ProxmoxSource.js"
import { SourceConfig } from "./SourceConfig.js"

/** The Proxmox VE API, when `VIGIL_SOURCE=proxmox`. */
export class Proxmox extends Context.Tag("vigil/Proxmox")<Proxmox, Option.Option<ProxmoxApi>>() {
  static readonly layer = Layer.unwrapEffect(Effect.map(SourceConfig, (config) =>
    config.source === "proxmox" && Option.isSome(config.proxmox)
      ? Layer.effect(Proxmox, Effect.map(ProxmoxApi, Option.some)).pipe(Layer.provide(ProxmoxApi.layerFor(config.proxmox.value, config.sourceTimeout)))
      : Layer.succeed(Proxmox, Option.none())
  ))
}

/** The Proxmox connection and the cluster source, from the configuration. */
export const SourcesLive = Layer.effect(
  ClusterSource,
  Effect.gen(function*() {
    const config = yield* SourceConfig
    const proxmox = yield* Proxmox
    switch (config.source) {
      case "none":
        return Option.none()
      case "localhost":
        return Option.some(yield* makeLocalHostSource(config.localServices, config.sourceTimeout))
      case "proxmox":
        return Option.map(proxmox, makeProxmoxSource)
    }
  })
).pipe(Layer.provideMerge(Proxmox.layer))
