#!/usr/bin/env node
/**
 * `npm run build`: bundles the service and the `vigil` command into dist/ with esbuild (ES
 * modules, code shared between entry points split into chunks, source maps beside them), and
 * copies the HUD's static files. One bundle starts in a third of the time and memory the same
 * code takes as hundreds of separate modules (bench/RESULTS.md). Types are checked by
 * `npm run typecheck`, not here. `ensureBuilt()` builds only when a source is newer than the last
 * build, so the `vigil` command and the tests always run what the sources say.
 */
import { build as bundle } from "esbuild"
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Path from "node:path"

const root = fileURLToPath(new URL("..", import.meta.url))
const at = (...parts) => Path.join(root, ...parts)
const stamp = at("dist", ".built")

const newest = (path) => {
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(Path.join(path, name))))
}

/** Whether dist/ holds a build at least as new as every source, the build script and package.json. */
export const isFresh = () =>
  existsSync(stamp) &&
  statSync(stamp).mtimeMs >= Math.max(newest(at("src")), newest(at("scripts", "build.mjs")), newest(at("package.json")))

export const build = async () => {
  rmSync(at("dist"), { recursive: true, force: true })
  await bundle({
    entryPoints: { main: at("src", "main.ts"), cli: at("src", "cli", "main.ts") },
    outdir: at("dist"),
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: true,
    // No keepNames: it wraps every function expression in a defineProperty call at run time, and
    // Effect code creates closures on every operation (measured: ~10 % of ingest's CPU; side by
    // side, ingest went from 5.9k to 7.2k events/s, medians of 3 interleaved runs: 1.23×). Stack
    // traces name functions through the source maps anyway.
    keepNames: false,
    // Native addons stay in node_modules; pg-native is pg's optional native driver, not used.
    external: ["better-sqlite3", "pg-native"],
    // Some bundled CommonJS calls require(): give the ES module one.
    banner: { js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);" },
    logLevel: "warning"
  })
  // The SQLite thread's script runs as it is (a worker loads a file, not a bundled module).
  copyFileSync(at("src", "store", "SqliteThreadWorker.mjs"), at("dist", "SqliteThreadWorker.mjs"))
  mkdirSync(at("dist", "hud"), { recursive: true })
  // The page, its modules and stylesheet: what HudLive serves (the screenshot is the README's).
  for (const file of readdirSync(at("src", "hud")).filter((f) => /\.(html|js|css)$/.test(f))) copyFileSync(at("src", "hud", file), at("dist", "hud", file))
  writeFileSync(stamp, new Date().toISOString() + "\n")
}

export const ensureBuilt = async () => {
  if (!isFresh()) await build()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build()
