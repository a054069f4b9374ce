/**
 * Configuration of the cluster watch: which source, how to reach Proxmox, the poll tiers and
 * the thresholds. `VIGIL_*` variables, checked at start like the rest.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import { commaList, layerFromEnv } from "../ConfigEnv.js"
import { defaultPolicy, policyFromConfig, ThresholdConfig, type ThresholdPolicy } from "./Thresholds.js"

export interface ProxmoxConfig {
  readonly url: string
  /** `USER@REALM!TOKENID=SECRET` */
  readonly token: Redacted.Redacted
  readonly insecure: boolean
  /** SHA-256 certificate fingerprint to pin (`AB:CD:…`), instead of CA verification. */
  readonly fingerprint: Option.Option<string>
  readonly caFile: Option.Option<string>
}

export interface WatchConfigShape {
  readonly source: "localhost" | "proxmox" | "none"
  readonly proxmox: Option.Option<ProxmoxConfig>
  readonly sourceTimeout: Duration.Duration
  readonly tiers: {
    readonly critical: Duration.Duration
    readonly important: Duration.Duration
    readonly routine: Duration.Duration
    readonly background: Duration.Duration
  }
  readonly thresholds: ThresholdPolicy
  /** Processes the local-host source checks are running (seed 002's service checks). */
  readonly localServices: ReadonlyArray<string>
  /** A guest lock held longer than this is reported stuck. */
  readonly lockStuckAfter: Duration.Duration
  /** How long a node that came back has to start what ran on it before that counts as lost. */
  readonly nodeReturnGrace: Duration.Duration
}

const thresholds: Config.Config<ThresholdPolicy> = Config.string("VIGIL_THRESHOLDS").pipe(
  Config.option,
  Config.mapOrFail((text) => {
    if (Option.isNone(text)) return Either.right(defaultPolicy)
    let json: unknown
    try {
      json = JSON.parse(text.value)
    } catch (e) {
      return Either.left(ConfigError.InvalidData(["VIGIL_THRESHOLDS"], `not JSON: ${(e as Error).message}`))
    }
    const decoded = Schema.decodeUnknownEither(ThresholdConfig, { onExcessProperty: "error" })(json)
    if (Either.isLeft(decoded)) {
      return Either.left(
        ConfigError.InvalidData(["VIGIL_THRESHOLDS"], ParseResult.TreeFormatter.formatErrorSync(decoded.left))
      )
    }
    try {
      return Either.right(policyFromConfig(decoded.right))
    } catch (e) {
      return Either.left(ConfigError.InvalidData(["VIGIL_THRESHOLDS"], (e as Error).message))
    }
  })
)

const thresholdsFromFile = Config.string("VIGIL_THRESHOLDS_FILE").pipe(Config.option)

const proxmox: Config.Config<Option.Option<ProxmoxConfig>> = Config.all({
  url: Config.string("VIGIL_PROXMOX_URL").pipe(Config.option),
  token: Config.redacted("VIGIL_PROXMOX_TOKEN").pipe(Config.option),
  insecure: Config.boolean("VIGIL_PROXMOX_INSECURE").pipe(Config.withDefault(false)),
  fingerprint: Config.string("VIGIL_PROXMOX_FINGERPRINT").pipe(Config.option),
  caFile: Config.string("VIGIL_PROXMOX_CA_FILE").pipe(Config.option)
}).pipe(
  Config.map(({ url, token, ...tls }) =>
    Option.isSome(url) && Option.isSome(token)
      ? Option.some({ url: url.value.replace(/\/+$/, ""), token: token.value, ...tls })
      : Option.none()
  )
)

const tier = (name: string, fallback: Duration.Duration) =>
  Config.duration(name).pipe(
    Config.validate({ message: "must be a positive duration", validation: (d) => Duration.toMillis(d) > 0 }),
    Config.withDefault(fallback)
  )

export const watchConfig: Config.Config<WatchConfigShape> = Config.all({
  source: Config.literal("localhost", "proxmox", "none")("VIGIL_SOURCE").pipe(Config.withDefault("localhost" as const)),
  proxmox,
  sourceTimeout: tier("VIGIL_SOURCE_TIMEOUT", Duration.seconds(10)),
  tiers: Config.all({
    critical: tier("VIGIL_POLL_CRITICAL", Duration.seconds(12)),
    important: tier("VIGIL_POLL_IMPORTANT", Duration.seconds(32)),
    routine: tier("VIGIL_POLL_ROUTINE", Duration.minutes(5)),
    background: tier("VIGIL_POLL_BACKGROUND", Duration.minutes(30))
  }),
  thresholds,
  thresholdsFile: thresholdsFromFile,
  localServices: commaList("VIGIL_LOCAL_SERVICES"),
  lockStuckAfter: tier("VIGIL_LOCK_STUCK_AFTER", Duration.hours(3)),
  nodeReturnGrace: Config.duration("VIGIL_NODE_RETURN_GRACE").pipe(Config.withDefault(Duration.minutes(5)))
}).pipe(
  Config.mapOrFail(({ thresholdsFile, ...config }) => {
    if (config.source === "proxmox" && Option.isNone(config.proxmox)) {
      return Either.left(
        ConfigError.MissingData(["VIGIL_PROXMOX_URL"], "VIGIL_SOURCE=proxmox needs VIGIL_PROXMOX_URL and VIGIL_PROXMOX_TOKEN")
      )
    }
    const token = Option.map(config.proxmox, (p) => p.token)
    if (Option.isSome(token) && !/^[^@\s]+@[^!\s]+![^=\s]+=\S+$/.test(String(Redacted.value(token.value)))) {
      return Either.left(
        ConfigError.InvalidData(["VIGIL_PROXMOX_TOKEN"], "must look like USER@REALM!TOKENID=SECRET")
      )
    }
    if (Option.isNone(thresholdsFile)) return Either.right(config)
    // A file is read once at start; a JSON error names the file.
    try {
      const json = JSON.parse(readFileSync(thresholdsFile.value, "utf8"))
      const decoded = Schema.decodeUnknownSync(ThresholdConfig, { onExcessProperty: "error" })(json)
      return Either.right({ ...config, thresholds: policyFromConfig(decoded) })
    } catch (e) {
      return Either.left(ConfigError.InvalidData(["VIGIL_THRESHOLDS_FILE"], `${thresholdsFile.value}: ${(e as Error).message}`))
    }
  })
)

export class WatchConfig extends Context.Tag("vigil/WatchConfig")<WatchConfig, WatchConfigShape>() {
  static readonly layer = Layer.effect(WatchConfig, watchConfig)
  static readonly fromEnv = (env: Record<string, string>) => layerFromEnv(WatchConfig, watchConfig)(env)
}
