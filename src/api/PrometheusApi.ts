/**
 * The Prometheus scrape endpoint: the cluster under prometheus-pve-exporter's names and vigil's
 * own `vigil_` metrics, in the text exposition format, or OpenMetrics when the scraper asks.
 */
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as Schema from "effect/Schema"
import { RequireRead } from "./Security.js"

const Exposition = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain; version=0.0.4; charset=utf-8" })
).annotations({
  description: "Prometheus text format 0.0.4; `application/openmetrics-text; version=1.0.0` when the Accept header prefers it"
})

export class PrometheusApi extends HttpApiGroup.make("prometheus")
  .add(HttpApiEndpoint.get("scrape", "/metrics").middleware(RequireRead).addSuccess(Exposition))
{}
