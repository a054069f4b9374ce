/**
 * `/docs`: the API reference, rendered by Scalar from the OpenAPI document, working offline. The
 * page is the one `HttpApiScalar` serves, but its 3.4 MB script is a file of its own
 * (`/docs/scalar.js`), read from the copy inside @effect/platform the first time someone opens
 * the page: held inline it cost every running vigil about 20 MB of memory (bench/RESULTS.md).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Effect from "effect/Effect"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import { VigilApi } from "../api/Api.js"

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c")

const page = (spec: OpenApi.OpenAPISpec) => `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>${spec.info.title.replace(/[<>&"]/g, "")}</title>
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <script id="api-reference" type="application/json">${scriptJson(spec)}</script>
    <script src="/docs/config.js"></script>
    <script src="/docs/scalar.js"></script>
  </body>
</html>`

// Scalar reads its configuration from the element's data attribute, set before it loads.
const config = `document.getElementById("api-reference").dataset.configuration = ${JSON.stringify(JSON.stringify({ _integration: "html" }))}\n`

/**
 * The script @effect/platform ships for its own docs page, from its module file (not part of the
 * package's exports, so found beside the public module that uses it). Imported at run time, never
 * bundled, and only once asked for.
 */
const scalarScript = Effect.promise(() => {
  const publicModule = createRequire(import.meta.url).resolve("@effect/platform/HttpApiScalar")
  const internal = pathToFileURL(Path.join(Path.dirname(publicModule), "internal", "httpApiScalar.js")).href
  return import(internal).then((m: { readonly javascript: string }) => m.javascript)
})

const javascript = (body: string) => HttpServerResponse.text(body, { contentType: "text/javascript; charset=utf-8", headers: { "cache-control": "max-age=3600" } })

export const DocsLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const html = HttpServerResponse.html(page(OpenApi.fromApi(VigilApi)))
    const script = yield* Effect.cached(scalarScript)
    yield* router.get("/docs", Effect.succeed(html))
    yield* router.get("/docs/config.js", Effect.succeed(javascript(config)))
    yield* router.get("/docs/scalar.js", Effect.map(script, javascript))
  })
)
