/**
 * `GET /metrics` on the API's own listener, behind the `read` scope like the rest of the API.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { VigilApi } from "../api/Api.js"
import { makeScrape } from "./Scrape.js"

export const PrometheusHttp = HttpApiBuilder.group(VigilApi, "prometheus", (handlers) =>
  Effect.gen(function*() {
    const scrape = yield* makeScrape
    return handlers.handleRaw("scrape", ({ request }) =>
      Effect.map(scrape(request.headers.accept), ({ body, contentType }) => HttpServerResponse.text(body, { contentType })))
  }))
