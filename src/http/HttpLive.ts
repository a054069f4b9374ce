/**
 * The HTTP server: the typed API, its OpenAPI document at /api/openapi.json and a docs page at
 * /docs (Scalar, served inline so it works offline), on Node's HTTP server.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { AccessConfig } from "../access/AccessConfig.js"
import { AuthLive } from "../access/Auth.js"
import { AppConfig } from "../AppConfig.js"
import { VigilApi } from "./Api.js"
import { AccessHttp } from "./AccessHttp.js"
import { ClusterHttp } from "./ClusterHttp.js"
import { EventsHttp } from "./EventsHttp.js"
import { HealthHttp } from "./HealthHttp.js"
import { HudLive } from "./HudLive.js"
import { HeartbeatsHttp } from "./HeartbeatsHttp.js"
import { RemediationHttp } from "./RemediationHttp.js"
import { NodeServer } from "./NodeServer.js"

const ApiLive = HttpApiBuilder.api(VigilApi).pipe(
  Layer.provide([HealthHttp, EventsHttp, ClusterHttp, HeartbeatsHttp, RemediationHttp, AccessHttp]),
  Layer.provide(AuthLive)
)

const listen = Layer.unwrapEffect(
  Effect.gen(function*() {
    const server = yield* NodeServer
    const { host, port } = yield* AppConfig
    return NodeHttpServer.layer(() => server, { host, port })
  })
)

/** The usual security headers on every answer, the HUD and docs included. */
const securityHeaders = HttpApiBuilder.middleware(HttpMiddleware.make((app) =>
  Effect.map(app, (response) =>
    HttpServerResponse.setHeaders(response, {
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cross-origin-resource-policy": "same-origin",
      // A route with its own policy (the HUD's stricter one) keeps it.
      "content-security-policy": response.headers["content-security-policy"] ?? "frame-ancestors 'none'"
    }))))

/** CORS only for the origins `VIGIL_CORS_ORIGINS` names; none by default. */
const cors = Layer.unwrapEffect(
  Effect.map(AccessConfig, ({ corsOrigins }) =>
    corsOrigins.length === 0
      ? Layer.empty
      : HttpApiBuilder.middlewareCors({
        allowedOrigins: corsOrigins,
        allowedHeaders: ["authorization", "content-type", "last-event-id"],
        credentials: true
      }))
)

/**
 * No request span for the event streams: a span that lasts as long as a connection (hours) tells
 * nothing, and its attributes would be most of what an idle stream costs in memory.
 */
const isEventStream = (request: HttpServerRequest.HttpServerRequest) => request.url.startsWith("/api/v1/events/stream") || request.url.startsWith("/api/v1/events/ws")

export const HttpLive = HttpApiBuilder.serve().pipe(
  HttpMiddleware.withTracerDisabledWhen(isEventStream),
  Layer.provide(securityHeaders),
  Layer.provide(cors),
  Layer.provide(HttpApiScalar.layer({ path: "/docs" })),
  Layer.provide(HudLive),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
  Layer.provide(ApiLive),
  Layer.provide(RateLimiter.layer.pipe(Layer.provide(RateLimiter.layerStoreMemory))),
  Layer.provideMerge(listen)
)
