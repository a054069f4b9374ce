/**
 * The HTTP server: the typed API, its OpenAPI document at /api/openapi.json and a docs page at
 * /docs (Scalar, served from this server so it works offline), on Node's HTTP server.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Etag from "@effect/platform/Etag"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpPlatform from "@effect/platform/HttpPlatform"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { AccessConfig } from "../access/AccessConfig.js"
import { AuthLive } from "../access/Auth.js"
import { VigilApi } from "../api/Api.js"
import { AccessHttp } from "./AccessHttp.js"
import { ClusterHttp } from "./ClusterHttp.js"
import { EventsHttp } from "./EventsHttp.js"
import { HealthHttp } from "./HealthHttp.js"
import { DocsLive } from "./DocsLive.js"
import { HudLive } from "./HudLive.js"
import { HeartbeatsHttp } from "./HeartbeatsHttp.js"
import { IntegrationsHttp } from "./IntegrationsHttp.js"
import { BackupsHttp } from "./BackupsHttp.js"
import { MetricsHttp } from "./MetricsHttp.js"
import { NotifyHttp } from "./NotifyHttp.js"
import { PrometheusHttp } from "./PrometheusHttp.js"
import { RemediationHttp } from "./RemediationHttp.js"
import { MetricsListener } from "./MetricsListener.js"
import { NodeServer } from "./NodeServer.js"
import { makeRequestGuard } from "./RequestGuard.js"
import { ServerConfig } from "./ServerConfig.js"

const ApiLive = HttpApiBuilder.api(VigilApi).pipe(
  Layer.provide([HealthHttp, EventsHttp, ClusterHttp, HeartbeatsHttp, IntegrationsHttp, BackupsHttp, RemediationHttp, NotifyHttp, AccessHttp, PrometheusHttp, MetricsHttp]),
  Layer.provide(AuthLive)
)

const listen = Layer.unwrapEffect(
  Effect.gen(function*() {
    const server = yield* NodeServer
    const { host, port } = yield* ServerConfig
    return NodeHttpServer.layer(() => server, { host, port })
  })
)

/**
 * The usual security headers on every answer: the HUD, the docs, and errors too (a pre-response
 * handler runs after an error became its response, which a middleware mapping successes misses).
 */
const withSecurityHeaders = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.zipRight(
    HttpApp.appendPreResponseHandler((_request, response) =>
      Effect.succeed(HttpServerResponse.setHeaders(response, {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-resource-policy": "same-origin",
        // A route with its own policy (the HUD's stricter one) keeps it.
        "content-security-policy": response.headers["content-security-policy"] ?? "frame-ancestors 'none'"
      }))
    ),
    app
  )

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

/**
 * `HttpApiBuilder.serve()`, except that requests run with only the services the platform itself
 * uses while answering (HttpRouter's DefaultServices). The handlers took what they need from the
 * full context when their groups were built; copying every service of the application into each
 * request's context (the platform copies it on every `provideService` of the request pipeline)
 * was most of what a long-lived stream connection held in memory.
 */
const serve = Layer.scopedDiscard(Effect.gen(function*() {
  const app = yield* HttpApiBuilder.httpApp
  const guard = yield* makeRequestGuard
  const server = yield* HttpServer.HttpServer
  yield* server.serve(withSecurityHeaders(guard(app))).pipe(Effect.mapInputContext((context: Context.Context<HttpRouter.HttpRouter.DefaultServices | Scope.Scope>) =>
    Context.make(Scope.Scope, Context.get(context, Scope.Scope)).pipe(
      Context.add(HttpPlatform.HttpPlatform, Context.get(context, HttpPlatform.HttpPlatform)),
      Context.add(Etag.Generator, Context.get(context, Etag.Generator)),
      Context.add(FileSystem.FileSystem, Context.get(context, FileSystem.FileSystem)),
      Context.add(Path.Path, Context.get(context, Path.Path))
    )
  ))
})).pipe(Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]))

export const HttpLive = Layer.merge(serve, MetricsListener).pipe(
  HttpMiddleware.withTracerDisabledWhen(isEventStream),
  Layer.provide(cors),
  Layer.provide(DocsLive),
  Layer.provide(HudLive),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
  Layer.provide(ApiLive),
  Layer.provide(RateLimiter.layer.pipe(Layer.provide(RateLimiter.layerStoreMemory))),
  Layer.provideMerge(listen)
)
