/**
 * Small pieces every configuration module uses: comma-separated lists, and a layer that reads
 * given variables instead of the process environment (tests, embedding).
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** `a, b,c` → ["a", "b", "c"]; empty entries dropped. */
export const commaList = (name: string, fallback = ""): Config.Config<Array<string>> =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.map((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0))
  )

/** A layer for `tag` that reads `config` from the given variables. */
export const layerFromEnv = <I, S>(tag: Context.Tag<I, S>, config: Config.Config<S>) => (env: Record<string, string>) =>
  Layer.effect(tag, Effect.withConfigProvider(config, ConfigProvider.fromMap(new Map(Object.entries(env)))))
