/**
 * A client derived from vigil's API definition, as any program would use it: every request is
 * encoded and every answer decoded with the schemas the API declares, so a response that drifts
 * from its declaration fails the test that reads it.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import { VigilApi } from "../../src/api/Api.js"

export const apiClient = (url: string, token?: string) =>
  HttpApiClient.make(VigilApi, {
    baseUrl: url,
    transformClient: token === undefined ? undefined : HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  }).pipe(Effect.provide(FetchHttpClient.layer))

/** Runs one call of the derived client against `url`, failing the test on any error. */
export const call = <A, E>(url: string, f: (client: Effect.Effect.Success<ReturnType<typeof apiClient>>) => Effect.Effect<A, E, never>, token?: string) =>
  Effect.flatMap(apiClient(url, token), f).pipe(Effect.orDie)
