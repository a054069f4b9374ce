/**
 * `VIGIL_METRICS_PORT`: a second listener, on the same host, that answers `GET /metrics` and
 * nothing else, without authentication, for a Prometheus on a private network that holds no
 * token. Unset, there is none and `/metrics` is only on the API's listener, behind `read`.
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Http from "node:http"
import { makeScrape } from "./Scrape.js"
import { ServerConfig } from "./ServerConfig.js"

export const MetricsListener = Layer.scopedDiscard(Effect.gen(function*() {
  const { host, metricsPort } = yield* ServerConfig
  if (Option.isNone(metricsPort)) return
  const scrape = yield* makeScrape
  const server = yield* NodeHttpServer.make(() => Http.createServer(), { host, port: metricsPort.value })
  yield* server.serve(Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method !== "GET" || new URL(request.url, "http://vigil").pathname !== "/metrics") {
      return HttpServerResponse.text("this listener serves GET /metrics only\n", { status: 404 })
    }
    const { body, contentType } = yield* scrape(request.headers.accept)
    return HttpServerResponse.text(body, { contentType })
  }))
  const address = server.address._tag === "TcpAddress" ? `http://${server.address.hostname}:${server.address.port}/metrics` : "a socket"
  yield* Effect.logInfo(`metrics without authentication on ${address}`)
}))
