/**
 * An OTLP/HTTP trace collector on loopback: a plain node:http server that takes the posts an
 * OpenTelemetry exporter sends to `/v1/traces`. `http/json` bodies are read into spans (OTLP's
 * JSON encoding: ids in hex); `http/protobuf` bodies are kept as they came.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface CollectedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly service: string | undefined
  readonly attributes: Readonly<Record<string, unknown>>
  readonly links: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
}

export interface Post {
  readonly path: string
  readonly contentType: string | undefined
  readonly body: Buffer
}

interface AnyValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly boolValue?: boolean
  readonly doubleValue?: number
  readonly arrayValue?: { readonly values?: ReadonlyArray<AnyValue> }
}
interface KeyValue {
  readonly key: string
  readonly value: AnyValue
}
interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes?: ReadonlyArray<KeyValue>
  readonly links?: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>
}
interface ExportRequest {
  readonly resourceSpans?: ReadonlyArray<{
    readonly resource?: { readonly attributes?: ReadonlyArray<KeyValue> }
    readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<OtlpSpan> }>
  }>
}

const valueOf = (v: AnyValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ??
    v.arrayValue?.values?.map(valueOf)

const record = (kvs: ReadonlyArray<KeyValue> | undefined) => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, valueOf(kv.value)]))

const spansOf = (request: ExportRequest): Array<CollectedSpan> =>
  (request.resourceSpans ?? []).flatMap((rs) => {
    const service = record(rs.resource?.attributes)["service.name"] as string | undefined
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId === undefined || s.parentSpanId === "" ? undefined : s.parentSpanId,
        name: s.name,
        service,
        attributes: record(s.attributes),
        links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId }))
      }))
    )
  })

export const startCollector = Effect.acquireRelease(
  Effect.promise(async () => {
    const posts: Array<Post> = []
    const spans: Array<CollectedSpan> = []
    const server = Http.createServer((req, res) => {
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => {
        const body = Buffer.concat(chunks)
        posts.push({ path: req.url ?? "", contentType: req.headers["content-type"], body })
        if (req.url === "/v1/traces" && req.headers["content-type"]?.startsWith("application/json")) {
          spans.push(...spansOf(JSON.parse(body.toString("utf8")) as ExportRequest))
          res.writeHead(200, { "content-type": "application/json" }).end("{}")
        } else {
          // An empty ExportTraceServiceResponse is an empty protobuf message.
          res.writeHead(200, { "content-type": "application/x-protobuf" }).end()
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    const port = (server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, posts, spans, server }
  }),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    )
)
