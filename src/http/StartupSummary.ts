/**
 * The block vigil logs once it listens: where it answers, what it watches and how often, where
 * it keeps events, whether it asks for tokens, how far remediation may act, and where
 * notifications go. A first run says what it does; an operator reading a log later sees the
 * setup it ran with. Pure: the configuration in, the lines out.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { levelNames } from "../domain/Remediation.js"
import type { WatchConfig } from "../monitor/WatchConfig.js"
import type { NotifyConfig } from "../notify/NotifyConfig.js"
import type { RemediationConfig } from "../remediation/RemediationConfig.js"
import { actingUser, type SourceConfig } from "../sources/SourceConfig.js"
import { postgresLocation, type StoreConfig } from "../store/StoreConfig.js"

export interface StartupFacts {
  readonly version: string
  readonly address: string
  readonly hostname: string
  readonly auth: boolean
  readonly source: SourceConfig["Type"]
  readonly watch: WatchConfig["Type"]
  readonly store: StoreConfig["Type"]
  readonly remediation: RemediationConfig["Type"]
  readonly notify: NotifyConfig["Type"]
}

// No indent of its own: the pretty logger indents the lines after the first.
const row = (label: string, text: string) => `${label.padEnd(15)}${text}`

const tls = (p: { readonly insecure: boolean; readonly fingerprint: Option.Option<string>; readonly caFile: Option.Option<string> }) =>
  p.insecure ? "TLS not verified" : Option.isSome(p.fingerprint) ? "TLS pinned" : Option.isSome(p.caFile) ? "TLS verified with the CA file" : "TLS verified"

const sourceText = (f: StartupFacts) => {
  const { source, watch } = f
  const tiers = [watch.tiers.critical, watch.tiers.important, watch.tiers.routine, watch.tiers.background].map(Duration.format).join(" / ")
  switch (source.source) {
    case "none":
      return "none: no cluster is watched; events come from ingest and heartbeats"
    case "localhost":
      return `this host (${f.hostname}): load, memory, disks${source.localServices.length > 0 ? `, processes ${source.localServices.join(", ")}` : ""}; polls every ${tiers}`
    case "proxmox":
      return Option.match(source.proxmox, {
        onNone: () => "proxmox (not configured)",
        onSome: (p) => `Proxmox VE at ${p.url} as ${actingUser(source)}, ${tls(p)}: nodes, guests, storage, HA, tasks; polls every ${tiers}`
      })
  }
}

const storeText = (store: StoreConfig["Type"]) =>
  Option.match(store.databaseUrl, {
    onNone: () => `SQLite in ${store.dataDir}`,
    onSome: (url) => `${postgresLocation(url)} (instances sharing it elect one leader)`
  })

const remediationText = (r: RemediationConfig["Type"]) =>
  !r.enabled
    ? "off (VIGIL_REMEDIATION=false): incidents are only reported"
    : `up to level ${r.policy.cap} (${levelNames[r.policy.cap]}); ${r.policy.runbooks.length} runbooks, at most ${r.policy.maxAttempts} attempts per guest`

const notifyText = (n: NotifyConfig["Type"]) =>
  n.channels.length === 0
    ? "no channels: incidents are in the HUD and the API only"
    : `${n.channels.map((c) => c.name).join(", ")} (${n.routes.length} routes; grouped ${Duration.format(n.groupWait)}, repeated every ${Duration.format(n.repeatInterval)})`

/** The first line, then one per part of the setup. */
export const startupSummary = (f: StartupFacts): ReadonlyArray<string> => [
  `vigil ${f.version} listening on ${f.address} (the HUD at /, the API reference at /docs)`,
  row("source", sourceText(f)),
  row("store", storeText(f.store)),
  row("authentication", f.auth ? "on: every request needs a token (vigil token create)" : "off: loopback only; anyone on this machine can read and write"),
  row("remediation", remediationText(f.remediation)),
  row("notifications", notifyText(f.notify))
]
