/**
 * The HUD: a static page and its modules, served by vigil itself at `/`, working offline (Preact,
 * htm and uPlot, the charts' library, come from node_modules, not a CDN). The files are read once
 * at start.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"

// The HUD's files are in src/hud beside this module's folder when run from the sources, and in
// dist/hud when run from the build (where this code is in dist/ or one of its chunks/).
const hudDir = [new URL("../hud/", import.meta.url), new URL("./hud/", import.meta.url)].find((dir) => existsSync(new URL("index.html", dir)))
  ?? new URL("../hud/", import.meta.url)
const here = (file: string) => new URL(file, hudDir)
// htm ships Preact, its hooks and htm as one browser module; its "exports" map does not resolve it
// for Node, so it is found next to the package's main file.
const vendor = Path.join(Path.dirname(createRequire(import.meta.url).resolve("htm")), "..", "preact", "standalone.module.js")
// uPlot's main file is in its dist/, beside the browser module and its stylesheet.
const uPlotDir = Path.dirname(createRequire(import.meta.url).resolve("uplot"))

const files: ReadonlyArray<readonly [path: `/${string}`, file: URL | string, contentType: string]> = [
  ["/", here("index.html"), "text/html; charset=utf-8"],
  ["/hud/app.js", here("app.js"), "text/javascript; charset=utf-8"],
  ["/hud/timeline.js", here("timeline.js"), "text/javascript; charset=utf-8"],
  ["/hud/backups.js", here("backups.js"), "text/javascript; charset=utf-8"],
  ["/hud/app.css", here("app.css"), "text/css; charset=utf-8"],
  ["/hud/charts.js", here("charts.js"), "text/javascript; charset=utf-8"],
  ["/hud/vendor/standalone.js", vendor, "text/javascript; charset=utf-8"],
  ["/hud/vendor/uPlot.esm.js", Path.join(uPlotDir, "uPlot.esm.js"), "text/javascript; charset=utf-8"],
  ["/hud/vendor/uPlot.min.css", Path.join(uPlotDir, "uPlot.min.css"), "text/css; charset=utf-8"]
]

export const HudLive = HttpApiBuilder.Router.use((router) =>
  Effect.forEach(files, ([path, file, contentType]) => {
    const body = readFileSync(file, "utf8")
    return router.get(
      path,
      Effect.succeed(HttpServerResponse.text(body, {
        contentType,
        headers: {
          "cache-control": "no-cache",
          // The HUD loads nothing from elsewhere and talks only to this server.
          "content-security-policy": "default-src 'self'; style-src 'self'; frame-ancestors 'none'"
        }
      }))
    )
  }, { discard: true })
)
