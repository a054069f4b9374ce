/**
 * Traces over OTLP/HTTP, when the standard OpenTelemetry variables ask for them: an endpoint
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`) turns export on; without
 * one nothing is exported and Effect's own in-memory spans stay (they still give every event its
 * trace context). `OTEL_EXPORTER_OTLP_PROTOCOL` picks `http/protobuf` (the default) or
 * `http/json`; `OTEL_SERVICE_NAME` names the service (default `vigil`); `OTEL_SDK_DISABLED=true`
 * or `OTEL_TRACES_EXPORTER=none` turn export off.
 *
 * Only the choice is made here. The rest of each variable's meaning (the endpoint's `/v1/traces`
 * path, headers, timeout, compression, `OTEL_TRACES_SAMPLER` and its `_ARG`, `OTEL_BSP_*`) is the
 * OpenTelemetry SDK's, which reads the process environment itself.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { version } from "./domain/Version.js"

const protocol = (name: string) => Config.literal("http/protobuf", "http/json")(name)

export const tracingConfig = Config.all({
  endpoint: Config.option(Config.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").pipe(
    Config.orElse(() => Config.string("OTEL_EXPORTER_OTLP_ENDPOINT"))
  )),
  // gRPC is not offered: a setting that names it stops start-up naming the variable.
  protocol: protocol("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").pipe(
    Config.orElse(() => protocol("OTEL_EXPORTER_OTLP_PROTOCOL")),
    Config.withDefault("http/protobuf" as const)
  ),
  serviceName: Config.string("OTEL_SERVICE_NAME").pipe(Config.withDefault("vigil")),
  disabled: Config.boolean("OTEL_SDK_DISABLED").pipe(Config.withDefault(false)),
  exporter: Config.string("OTEL_TRACES_EXPORTER").pipe(Config.withDefault("otlp"))
})

/** Export is on when an endpoint is set and neither the SDK nor the traces exporter is switched off. */
export const exportsTraces = (c: Config.Config.Success<typeof tracingConfig>) =>
  Option.isSome(c.endpoint) && !c.disabled && c.exporter.split(",").map((s) => s.trim()).includes("otlp")

/**
 * A CommonJS package's exports from a dynamic import: Node gives them as named exports and as
 * `default`, the bundle as `default` only.
 */
const commonJs = <M extends object>(m: M): M => {
  const exports: unknown = (m as { readonly default?: unknown }).default
  return typeof exports === "object" && exports !== null ? exports as M : m
}

/**
 * The OpenTelemetry tracer for every span vigil makes, or nothing at all; see the module's comment.
 * The SDK and its exporters are loaded only when export is on: they are about 30 MB of memory
 * that a vigil without a collector would carry for nothing.
 */
export const TracingLive = Layer.unwrapEffect(Effect.flatMap(tracingConfig, (c) =>
  !exportsTraces(c) ? Effect.succeed(Layer.empty) : Effect.promise(async () => {
    const [NodeSdk, { BatchSpanProcessor }, exporter] = await Promise.all([
      import("@effect/opentelemetry/NodeSdk"),
      import("@opentelemetry/sdk-trace-base").then(commonJs),
      c.protocol === "http/json"
        ? import("@opentelemetry/exporter-trace-otlp-http").then(commonJs).then((m) => new m.OTLPTraceExporter())
        : import("@opentelemetry/exporter-trace-otlp-proto").then(commonJs).then((m) => new m.OTLPTraceExporter())
    ])
    return NodeSdk.layer(() => ({
      resource: { serviceName: c.serviceName, serviceVersion: version },
      spanProcessor: new BatchSpanProcessor(exporter)
    }))
  })))
