/**
 * A real Prometheus for tests: Debian's `prometheus` package (its `prometheus` and `promtool`),
 * installed on first use when the machine lacks it, so `npm test` needs nothing done by hand;
 * started with its own config and storage on a free port for the test's scope.
 */
import * as Effect from "effect/Effect"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { collectLines, freePort } from "./Processes.js"

const installed = () => spawnSync("promtool", ["--version"]).status === 0

/** Installs Debian's package if `prometheus` is not on the PATH (once per machine; needs root, as CI runs). */
export const ensurePrometheus = Effect.sync(() => {
  if (installed()) return
  const apt = (...args: Array<string>) =>
    spawnSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0
  const install = () => apt("install", "-y", "--no-install-recommends", "prometheus")
  if (!install() && !(apt("update") && install())) {
    throw new Error("Prometheus is not installed and apt-get could not install it: run `apt-get install prometheus` as root")
  }
})

/** `promtool check metrics` on an exposition: its exit status and what it complained about. */
export const promtoolCheck = (exposition: string) => {
  const lint = spawnSync("promtool", ["check", "metrics"], { input: exposition, encoding: "utf8" })
  return { status: lint.status, problems: `${lint.stdout}${lint.stderr}` }
}

export interface Sample {
  readonly metric: Record<string, string>
  readonly value: [number, string]
}

/** Prometheus scraping the given jobs every 500 ms, with its own storage, for the test's scope. */
export const startPrometheus = (jobs: ReadonlyArray<{ readonly name: string; readonly target: string; readonly token?: string }>) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(Path.join(tmpdir(), "vigil-prometheus-"))),
      (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
    )
    const port = yield* freePort
    const config = [
      "global:",
      "  scrape_interval: 500ms",
      "  scrape_timeout: 400ms",
      "scrape_configs:",
      ...jobs.flatMap((j) => [
        `  - job_name: ${j.name}`,
        `    static_configs: [{ targets: ["${j.target}"] }]`,
        ...(j.token === undefined ? [] : [`    authorization: { credentials: "${j.token}" }`])
      ])
    ].join("\n")
    writeFileSync(Path.join(dir, "prometheus.yml"), config)
    const output: Array<string> = []
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn("prometheus", [
          `--config.file=${Path.join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${Path.join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`
        ], { stdio: ["ignore", "pipe", "pipe"] })
        child.stdout.on("data", collectLines(output))
        child.stderr.on("data", collectLines(output))
        return child
      }),
      (child) => Effect.async<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
    )
    const query = (promql: string): Effect.Effect<ReadonlyArray<Sample>> =>
      Effect.promise(async () => {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`)
          const body = await response.json() as { data?: { result?: Array<Sample> } }
          return body.data?.result ?? []
        } catch {
          return [] // not listening yet
        }
      })
    return { query, output }
  })

