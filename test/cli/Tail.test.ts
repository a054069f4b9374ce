import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as Path from "node:path"
import { formatLine, parseTailArgs } from "../../src/cli/Tail.js"
import { waitUntil } from "../support/Clients.js"
import { collectLines, freePort } from "../support/Processes.js"
import { postEvents, startVigil, tempDir } from "../support/Vigil.js"

const bin = Path.join(import.meta.dirname, "..", "..", "bin", "vigil.mjs")

/** Runs `vigil tail` as a user would, collecting its output lines until the scope ends. */
const runTail = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [bin, "tail", ...args], { env: { ...process.env, NO_COLOR: "1" } })
      const lines: Array<string> = []
      const notes: Array<string> = []
      child.stdout.on("data", collectLines(lines))
      child.stderr.on("data", collectLines(notes))
      return { child, lines, notes }
    }),
    ({ child }) => Effect.sync(() => child.kill())
  )

describe("vigil tail", () => {
  it.scopedLive("prints JSON lines with filters, and resumes across a server restart without losing or repeating", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const first = yield* startVigil({}, dir)
      const tail = yield* runTail(["--url", first.url, "--json", "--since", "0", "--type", "t.*"])
      const event = (i: number) => ({ specversion: "1.0", id: `t${i}`, source: "cli", type: i % 2 ? "t.odd" : "t.even", data: { i } })
      yield* postEvents(first.url, [0, 1, 2].map(event))
      yield* waitUntil("three lines", () => tail.lines.length === 3, 30_000)
      yield* first.stop
      const second = yield* startVigil({ VIGIL_PORT: String(first.port) }, dir)
      yield* postEvents(second.url, [3, 4, { specversion: "1.0", id: "other", source: "cli", type: "u.skip" }, 5].map((x) => typeof x === "number" ? event(x) : x))
      // The stream keeps order: once the last event is printed, nothing skipped or repeated is still coming.
      yield* waitUntil("the last line", () => tail.lines.some((l) => JSON.parse(l).id === "t5"), 30_000)
      const parsed = tail.lines.map((l) => JSON.parse(l))
      expect(parsed.map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5])
    }))

  it.scopedLive("says once that it cannot reach the server and is retrying, and when it is connected", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const url = `http://127.0.0.1:${port}`
      const tail = yield* runTail(["--url", url, "--json", "--since", "0"])
      yield* waitUntil("the unreachable note", () => tail.notes.length > 0, 30_000)
      expect(tail.notes[0]).toBe(`-- cannot reach ${url} (ECONNREFUSED); retrying every second`)
      yield* startVigil({ VIGIL_PORT: String(port) }, yield* tempDir)
      yield* waitUntil("the connected note", () => tail.notes.includes(`-- connected to ${url}`), 30_000)
      // One note for the whole outage, however many retries it took.
      expect(tail.notes.filter((n) => n.startsWith("-- cannot reach"))).toHaveLength(1)
    }))

  it("formats a line with time, sequence, severity, type, subject and summary", () => {
    const line = formatLine(
      { sequence: 42, type: "vm.crashed", severity: "error", time: "2026-11-22T19:00:01.123Z", subject: "qemu/101", data: { summary: "VM 101 stopped" } },
      false
    )
    expect(line).toBe("19:00:01.123 #42 ERROR    vm.crashed qemu/101 VM 101 stopped")
    expect(formatLine({ sequence: 1, type: "x", severity: "critical" }, true)).toContain("\x1b[1;41;97mCRITICAL")
  })

  it("refuses unknown arguments and a bad --since with the usage", () => {
    expect(parseTailArgs(["--bogus"], {})).toMatch(/unknown argument --bogus/)
    expect(parseTailArgs(["--since", "x"], {})).toMatch(/--since must be a sequence number/)
    expect(parseTailArgs(["--type", "vm.*", "--json"], { VIGIL_URL: "http://h:1/" })).toMatchObject({
      url: "http://h:1", type: "vm.*", json: true
    })
  })
})
