import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as Path from "node:path"
import { waitUntil } from "../support/Clients.js"
import { collectLines, environmentWithoutVigil } from "../support/Processes.js"
import { tempDir } from "../support/Vigil.js"

const bin = Path.join(import.meta.dirname, "..", "..", "bin", "vigil.mjs")

/** `vigil serve` as `npm start` runs it, its output collected line by line, and its exit. */
const serve = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child: ChildProcess = spawn(process.execPath, [bin, "serve"], { env: { ...environmentWithoutVigil(), VIGIL_PORT: "0", ...env } })
      const lines: Array<string> = []
      const collect = collectLines(lines)
      child.stdout!.on("data", collect)
      child.stderr!.on("data", collect)
      const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      return { child, lines, exit }
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
  )

describe("vigil serve", () => {
  it.scopedLive("logs its setup in one block, as JSON when asked, and stops cleanly on SIGTERM", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const vigil = yield* serve({ VIGIL_LOG_FORMAT: "json", VIGIL_SOURCE: "none", VIGIL_DATA_DIR: dir })
      yield* waitUntil("the start-up block", () => vigil.lines.some((l) => l.includes("listening on")), 30_000)
      const entries = vigil.lines.map((l) => JSON.parse(l))
      const block = entries.find((e) => Array.isArray(e.message))
      expect(block.logLevel).toBe("INFO")
      const [first, ...rows] = block.message as Array<string>
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(first!)![1]!
      expect(rows).toEqual([
        "source         none: no cluster is watched; events come from ingest and heartbeats",
        `store          SQLite in ${dir}`,
        "authentication off: loopback only; anyone on this machine can read and write",
        "remediation    up to level 4 (act silently); 12 runbooks, at most 3 attempts per guest",
        "notifications  no channels: incidents are in the HUD and the API only"
      ])
      const health = yield* Effect.promise(() => fetch(`${url}/api/v1/health`).then((r) => r.json() as Promise<Record<string, unknown>>))
      expect(health).toMatchObject({ status: "ok", source: "none" })

      vigil.child.kill("SIGTERM")
      expect(yield* Effect.promise(() => vigil.exit)).toBe(0)
      expect(JSON.parse(vigil.lines.at(-1)!)).toMatchObject({ message: "vigil shutting down", logLevel: "INFO" })
    }))

  it.scopedLive("logs readable lines by default, and only what reaches VIGIL_LOG_LEVEL", () =>
    Effect.gen(function*() {
      const pretty = yield* serve({ VIGIL_SOURCE: "none", VIGIL_DATA_DIR: yield* tempDir })
      yield* waitUntil("the start-up block", () => pretty.lines.some((l) => l.startsWith("  notifications")), 30_000)
      const at = pretty.lines.findIndex((l) => l.includes("listening on"))
      expect(pretty.lines[at]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(#\d+\): vigil \S+ listening on http:\/\/127\.0\.0\.1:\d+ \(the HUD at \/, the API reference at \/docs\)$/)
      expect(pretty.lines[at + 1]).toBe("  source         none: no cluster is watched; events come from ingest and heartbeats")

      const quiet = yield* serve({ VIGIL_SOURCE: "none", VIGIL_DATA_DIR: yield* tempDir, VIGIL_LOG_LEVEL: "warn" })
      yield* waitUntil("the warning about authentication", () => quiet.lines.some((l) => l.includes("authentication is OFF")), 30_000)
      expect(quiet.lines.filter((l) => l.includes(" INFO "))).toEqual([])
    }))
})
