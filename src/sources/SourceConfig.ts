/**
 * Which cluster is watched and how to reach it: `VIGIL_SOURCE` (`localhost`, `proxmox`, `none`),
 * the Proxmox API's URL, token and TLS choices, how long any call may take, and the processes the
 * local-host source checks.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { commaList } from "../domain/ConfigFormats.js"

const proxmox = Config.all({
  url: Config.string("VIGIL_PROXMOX_URL").pipe(Config.map((u) => u.replace(/\/+$/, ""))),
  /** `USER@REALM!TOKENID=SECRET` */
  token: Config.redacted("VIGIL_PROXMOX_TOKEN").pipe(
    Config.validate({
      message: "must look like USER@REALM!TOKENID=SECRET",
      validation: (t) => /^[^@\s]+@[^!\s]+![^=\s]+=\S+$/.test(Redacted.value(t))
    })
  ),
  insecure: Config.boolean("VIGIL_PROXMOX_INSECURE").pipe(Config.withDefault(false)),
  /** SHA-256 certificate fingerprint to pin (`AB:CD:…`), instead of CA verification. */
  fingerprint: Config.string("VIGIL_PROXMOX_FINGERPRINT").pipe(Config.option),
  caFile: Config.string("VIGIL_PROXMOX_CA_FILE").pipe(Config.option)
})

export type ProxmoxConfig = Config.Config.Success<typeof proxmox>

export const sourceConfig = Config.all({
  source: Config.literal("localhost", "proxmox", "none")("VIGIL_SOURCE").pipe(Config.withDefault("localhost" as const)),
  /** Set when both the URL and the token are. */
  proxmox: Config.option(proxmox),
  /** The longest any one call to the source may take. */
  sourceTimeout: Config.duration("VIGIL_SOURCE_TIMEOUT").pipe(
    Config.validate({ message: "must be a positive duration", validation: (d) => Duration.toMillis(d) > 0 }),
    Config.withDefault(Duration.seconds(10))
  ),
  /** Processes the local-host source checks are running. */
  localServices: commaList("VIGIL_LOCAL_SERVICES")
}).pipe(
  Config.mapOrFail((config) =>
    config.source === "proxmox" && Option.isNone(config.proxmox)
      ? Either.left(ConfigError.MissingData(["VIGIL_PROXMOX_URL"], "VIGIL_SOURCE=proxmox needs VIGIL_PROXMOX_URL and VIGIL_PROXMOX_TOKEN"))
      : Either.right(config)
  )
)

export class SourceConfig extends Context.Tag("vigil/SourceConfig")<SourceConfig, Config.Config.Success<typeof sourceConfig>>() {
  static readonly layer = Layer.effect(SourceConfig, sourceConfig)
}

/** The user vigil acts as on Proxmox, `USER@REALM!TOKENID`: its own tasks are told apart. */
export const actingUser = (config: Config.Config.Success<typeof sourceConfig>): string | undefined =>
  Option.getOrUndefined(Option.map(config.proxmox, (p) => Redacted.value(p.token).split("=")[0]!))
