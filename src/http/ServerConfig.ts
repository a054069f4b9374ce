/**
 * The HTTP server's settings: where it listens (and the metrics listener, if any), how large and deep a request may be, and how the
 * live streams behave (backfill, keep-alive, retry advice, ping, the bound on what a slow client
 * may leave untaken, the grace shutdown gives clients to read their final frame).
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import { positiveInt } from "../domain/ConfigFormats.js"

export const serverConfig = Config.all({
  host: Config.string("VIGIL_HOST").pipe(Config.withDefault("127.0.0.1")),
  // 0 asks the OS for a free port (tests, side-by-side benchmarks).
  port: Config.integer("VIGIL_PORT").pipe(
    Config.validate({ message: "must be a port number from 0 to 65535", validation: (n) => n >= 0 && n <= 65535 }),
    Config.withDefault(7070)
  ),
  /** A second listener serving only `GET /metrics`, without authentication, for a scraper on a private network. */
  metricsPort: Config.option(Config.integer("VIGIL_METRICS_PORT").pipe(
    Config.validate({ message: "must be a port number from 0 to 65535", validation: (n) => n >= 0 && n <= 65535 })
  )),
  /** Largest accepted ingest body, in bytes; larger ones get 413. */
  maxBodyBytes: positiveInt("VIGIL_MAX_BODY_BYTES", 4 * 1024 * 1024),
  /** Largest accepted body on every other route, and largest WebSocket message: they are small; 64 KiB leaves room. */
  maxJsonBytes: positiveInt("VIGIL_MAX_JSON_BYTES", 64 * 1024),
  /**
   * Deepest nesting accepted in any JSON body or WebSocket message. Real payloads nest a dozen
   * levels at most; recursive code (stringify, formatters) overflows in the thousands.
   */
  maxJsonDepth: Config.integer("VIGIL_MAX_JSON_DEPTH").pipe(
    Config.validate({ message: "must be between 2 and 512", validation: (n) => n >= 2 && n <= 512 }),
    Config.withDefault(32)
  ),
  /** Latest events a new stream without a resume point starts with. */
  streamBackfill: Config.integer("VIGIL_STREAM_BACKFILL").pipe(
    Config.validate({ message: "must be between 0 and 1000", validation: (n) => n >= 0 && n <= 1000 }),
    Config.withDefault(50)
  ),
  /** Bytes an SSE or WebSocket client may have left untaken before it is cut off as too slow. */
  maxBufferedBytes: positiveInt("VIGIL_MAX_BUFFERED_BYTES", 4 * 1024 * 1024),
  sseKeepAlive: Config.duration("VIGIL_SSE_KEEPALIVE").pipe(Config.withDefault(Duration.seconds(15))),
  sseRetry: Config.duration("VIGIL_SSE_RETRY").pipe(Config.withDefault(Duration.seconds(2))),
  wsPingInterval: Config.duration("VIGIL_WS_PING_INTERVAL").pipe(Config.withDefault(Duration.seconds(30))),
  /** How long shutdown lets clients read their final frame before cutting connections. */
  shutdownGrace: Config.duration("VIGIL_SHUTDOWN_GRACE").pipe(Config.withDefault(Duration.seconds(3)))
})

export class ServerConfig extends Context.Tag("vigil/ServerConfig")<ServerConfig, Config.Config.Success<typeof serverConfig>>() {
  static readonly layer = Layer.effect(ServerConfig, serverConfig)
}
