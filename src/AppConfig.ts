/**
 * vigil's configuration: `VIGIL_*` environment variables read through Effect `Config`, checked
 * once at start. The names are a public contract (see the README); a bad value fails start-up
 * with an error that names the variable.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { layerFromEnv } from "./ConfigEnv.js"

export interface AppConfigShape {
  readonly host: string
  readonly port: number
  /** Where the SQLite file lives (`vigil.db` inside it). */
  readonly dataDir: string
  /** When set, PostgreSQL replaces SQLite. */
  readonly databaseUrl: Option.Option<Redacted.Redacted>
  /** Largest accepted ingest body, in bytes; larger ones get 413. */
  readonly maxBodyBytes: number
  /** Largest accepted body on every other route, and largest WebSocket message, in bytes. */
  readonly maxJsonBytes: number
  /** Deepest nesting accepted in any JSON body or WebSocket message. */
  readonly maxJsonDepth: number
  /** Latest events a new stream without a resume point starts with. */
  readonly streamBackfill: number
  /**
   * Events a WebSocket or internal subscriber may have queued before it is cut off as too slow;
   * also how many live events a replaying subscriber may have held back before it re-reads the store.
   */
  readonly subscriberBuffer: number
  /** Bytes an SSE or WebSocket client may have left untaken before it is cut off as too slow. */
  readonly maxBufferedBytes: number
  readonly sseKeepAlive: Duration.Duration
  readonly sseRetry: Duration.Duration
  readonly wsPingInterval: Duration.Duration
  readonly retentionMaxAge: Duration.Duration
  readonly retentionMaxEvents: number
  readonly retentionInterval: Duration.Duration
  /** Largest number of events the writer commits in one transaction. */
  readonly writerMaxBatch: number
  /** How long shutdown lets clients read their final frame before cutting connections. */
  readonly shutdownGrace: Duration.Duration
  /** How often the hub sends its own heartbeat (and checks producers' TTLs). */
  readonly heartbeatInterval: Duration.Duration
  /** How often an instance that is not the leader tries to become it (PostgreSQL only). */
  readonly leaderRetry: Duration.Duration
  /** How long a producer may stay silent before it is lost, by kind; `*` for the rest. */
  readonly heartbeatTtl: ReadonlyMap<string, Duration.Duration>
}

const positiveInt = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

export const appConfig: Config.Config<AppConfigShape> = Config.all({
  host: Config.string("VIGIL_HOST").pipe(Config.withDefault("127.0.0.1")),
  // 0 asks the OS for a free port (tests, side-by-side benchmarks).
  port: Config.integer("VIGIL_PORT").pipe(
    Config.validate({ message: "must be a port number from 0 to 65535", validation: (n) => n >= 0 && n <= 65535 }),
    Config.withDefault(7070)
  ),
  dataDir: Config.string("VIGIL_DATA_DIR").pipe(Config.withDefault("./data")),
  databaseUrl: Config.option(Config.redacted("VIGIL_DATABASE_URL")),
  maxBodyBytes: positiveInt("VIGIL_MAX_BODY_BYTES", 4 * 1024 * 1024),
  // Heartbeats, approvals, tokens and WebSocket messages are small; 64 KiB leaves room to spare.
  maxJsonBytes: positiveInt("VIGIL_MAX_JSON_BYTES", 64 * 1024),
  // Real payloads nest a dozen levels at most; recursive code (stringify, formatters) overflows
  // in the thousands.
  maxJsonDepth: Config.integer("VIGIL_MAX_JSON_DEPTH").pipe(
    Config.validate({ message: "must be between 2 and 512", validation: (n) => n >= 2 && n <= 512 }),
    Config.withDefault(32)
  ),
  streamBackfill: Config.integer("VIGIL_STREAM_BACKFILL").pipe(
    Config.validate({ message: "must be between 0 and 1000", validation: (n) => n >= 0 && n <= 1000 }),
    Config.withDefault(50)
  ),
  subscriberBuffer: positiveInt("VIGIL_SUBSCRIBER_BUFFER", 4096),
  maxBufferedBytes: positiveInt("VIGIL_MAX_BUFFERED_BYTES", 4 * 1024 * 1024),
  sseKeepAlive: Config.duration("VIGIL_SSE_KEEPALIVE").pipe(Config.withDefault(Duration.seconds(15))),
  sseRetry: Config.duration("VIGIL_SSE_RETRY").pipe(Config.withDefault(Duration.seconds(2))),
  wsPingInterval: Config.duration("VIGIL_WS_PING_INTERVAL").pipe(Config.withDefault(Duration.seconds(30))),
  retentionMaxAge: Config.duration("VIGIL_RETENTION_MAX_AGE").pipe(Config.withDefault(Duration.days(30))),
  retentionMaxEvents: positiveInt("VIGIL_RETENTION_MAX_EVENTS", 1_000_000),
  retentionInterval: Config.duration("VIGIL_RETENTION_INTERVAL").pipe(Config.withDefault(Duration.minutes(30))),
  writerMaxBatch: positiveInt("VIGIL_WRITER_MAX_BATCH", 2000),
  shutdownGrace: Config.duration("VIGIL_SHUTDOWN_GRACE").pipe(Config.withDefault(Duration.seconds(3))),
  heartbeatInterval: Config.duration("VIGIL_HEARTBEAT_INTERVAL").pipe(Config.withDefault(Duration.millis(2500))),
  leaderRetry: Config.duration("VIGIL_LEADER_RETRY").pipe(Config.withDefault(Duration.seconds(2))),
  heartbeatTtl: Config.all({
    fallback: Config.duration("VIGIL_HEARTBEAT_TTL").pipe(Config.withDefault(Duration.seconds(30))),
    byKind: Config.string("VIGIL_HEARTBEAT_TTLS").pipe(Config.withDefault("{}"))
  }).pipe(
    Config.mapOrFail(({ byKind, fallback }) => {
      const ttls = new Map<string, Duration.Duration>([["*", fallback]])
      try {
        for (const [kind, text] of Object.entries(JSON.parse(byKind) as Record<string, string>)) {
          const d = Duration.decodeUnknown(text)
          if (d._tag === "None") throw new Error(`${kind}: "${text}" is not a duration`)
          ttls.set(kind, d.value)
        }
      } catch (e) {
        return Either.left(ConfigError.InvalidData(["VIGIL_HEARTBEAT_TTLS"], `expected {"kind": "duration"}: ${(e as Error).message}`))
      }
      return Either.right(ttls)
    })
  )
})

export class AppConfig extends Context.Tag("vigil/AppConfig")<AppConfig, AppConfigShape>() {
  /** Reads the process environment. */
  static readonly layer = Layer.effect(AppConfig, appConfig)

  /** Reads the given variables instead of the environment (tests, embedding). */
  static readonly fromEnv = (env: Record<string, string>) => layerFromEnv(AppConfig, appConfig)(env)
}
