/**
 * vigil's typed HTTP API: every group, composed once. The OpenAPI document is generated from it.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as OpenApi from "@effect/platform/OpenApi"
import { AccessApi } from "./AccessApi.js"
import { ClusterApi } from "./ClusterApi.js"
import { EventsApi } from "./EventsApi.js"
import { HealthApi } from "./HealthApi.js"
import { HeartbeatsApi } from "./HeartbeatsApi.js"
import { IntegrationsApi } from "./IntegrationsApi.js"
import { BackupsApi } from "./BackupsApi.js"
import { MetricsApi } from "./MetricsApi.js"
import { NotifyApi } from "./NotifyApi.js"
import { PrometheusApi } from "./PrometheusApi.js"
import { RemediationApi } from "./RemediationApi.js"

export class VigilApi extends HttpApi.make("vigil")
  .add(HealthApi)
  .add(EventsApi)
  .add(ClusterApi)
  .add(HeartbeatsApi)
  .add(IntegrationsApi)
  .add(BackupsApi)
  .add(RemediationApi)
  .add(NotifyApi)
  .add(AccessApi)
  .add(PrometheusApi)
  .add(MetricsApi)
  .annotate(OpenApi.Title, "vigil")
  .annotate(OpenApi.Description, "Cluster events, persisted and served live over SSE and WebSocket")
{}
