/**
 * Health: answers even when the store does not (that is what it is for), saying so.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as SqlClient from "@effect/sql/SqlClient"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { Hub } from "../bus/Hub.js"
import { Leadership } from "../scale/Leadership.js"
import { SourceConfig } from "../sources/SourceConfig.js"
import { EventRepo } from "../store/EventRepo.js"
import { version } from "../domain/Version.js"
import { VigilApi } from "../api/Api.js"

export const HealthHttp = HttpApiBuilder.group(VigilApi, "health", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* EventRepo
    const hub = yield* Hub
    const leadership = yield* Leadership
    const sql = yield* SqlClient.SqlClient
    const dialect = sql.onDialectOrElse({ pg: () => "postgresql", orElse: () => "sqlite" })
    const startedAt = yield* Clock.currentTimeMillis
    const { source } = yield* SourceConfig

    return handlers.handle("health", () =>
      Effect.gen(function*() {
        const reachable = yield* repo.ping.pipe(
          Effect.timeout("2 seconds"),
          Effect.as(true),
          Effect.orElseSucceed(() => false)
        )
        return {
          status: reachable ? "ok" as const : "degraded" as const,
          version,
          uptimeSeconds: Math.round(((yield* Clock.currentTimeMillis) - startedAt) / 1000),
          store: { reachable, dialect },
          subscribers: hub.size(),
          instance: leadership.instance,
          leader: yield* leadership.isLeader,
          source
        }
      }))
  }))
