/**
 * How vigil logs: `VIGIL_LOG_FORMAT` `pretty` (the default: a line per entry, the start-up block
 * indented beneath its first line, coloured on a terminal) or `json` (one object per line, for a
 * log shipper), and `VIGIL_LOG_LEVEL` (`debug`, `info`, `warn`, `error`; default `info`).
 */
import * as Config from "effect/Config"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

export const loggingConfig = Config.all({
  format: Config.literal("pretty", "json")("VIGIL_LOG_FORMAT").pipe(Config.withDefault("pretty" as const)),
  level: Config.logLevel("VIGIL_LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
})

export const LoggingLive = Layer.unwrapEffect(
  loggingConfig.pipe(
    Config.map(({ format, level }) =>
      Layer.merge(
        format === "json" ? Logger.json : Logger.pretty,
        Logger.minimumLogLevel(level)
      )
    )
  )
)
