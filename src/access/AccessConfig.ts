/**
 * Access configuration. `VIGIL_AUTH` is `on` or `off`; it defaults to off only on a loopback
 * address (the quick start), and `off` is refused on any other: vigil is never open on a network
 * by accident.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { commaList } from "../domain/ConfigFormats.js"

const loopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.")

export const accessConfig = Config.all({
  host: Config.string("VIGIL_HOST").pipe(Config.withDefault("127.0.0.1")),
  auth: Config.literal("on", "off")("VIGIL_AUTH").pipe(Config.option),
  /** Events a token may ingest per second (token bucket). */
  ingestRate: Config.integer("VIGIL_INGEST_RATE_LIMIT").pipe(Config.withDefault(20_000)),
  maxStreamsPerToken: Config.integer("VIGIL_MAX_STREAMS_PER_TOKEN").pipe(Config.withDefault(50)),
  corsOrigins: commaList("VIGIL_CORS_ORIGINS"),
  /**
   * Host names (with or without a port) this server answers to. Empty: loopback names while
   * authentication is off (against DNS rebinding), any name once it is on.
   */
  allowedHosts: commaList("VIGIL_ALLOWED_HOSTS"),
  /** How often open streams re-check that their token is still valid (revocations elsewhere). */
  recheck: Config.duration("VIGIL_AUTH_RECHECK").pipe(Config.withDefault(Duration.seconds(5)))
}).pipe(
  Config.mapOrFail(({ auth, host, ...rest }) => {
    const on = Option.getOrElse(auth, () => (loopback(host) ? "off" : "on")) === "on"
    if (!on && !loopback(host)) {
      return Either.left(
        ConfigError.InvalidData(["VIGIL_AUTH"], `off is refused when listening on ${host}, which is not a loopback address`)
      )
    }
    return Either.right({ auth: on, ...rest })
  })
)

export class AccessConfig extends Context.Tag("vigil/AccessConfig")<AccessConfig, Config.Config.Success<typeof accessConfig>>() {
  static readonly layer = Layer.effect(AccessConfig, accessConfig)
}
