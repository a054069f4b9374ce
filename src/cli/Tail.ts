/**
 * `vigil tail`: follows the live stream in a terminal. Filters by type, severity, node and
 * source; colours lines by severity; resumes from its last sequence across disconnects and server
 * restarts; `--json` prints one CloudEvent per line for piping into jq.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { type ReceivedEvent, subscribe } from "../client/Consumer.js"

export interface TailOptions {
  readonly url: string
  readonly token?: string | undefined
  readonly type?: string | undefined
  readonly severity?: string | undefined
  readonly node?: string | undefined
  readonly source?: string | undefined
  /** Start after this sequence (0: everything still held); default: live from now. */
  readonly since?: number | undefined
  readonly json: boolean
  readonly color: boolean
}

const colors: Record<string, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warning: "\x1b[33m",
  error: "\x1b[31m",
  critical: "\x1b[1;41;97m"
}
const reset = "\x1b[0m"

/** One human line: time, severity, type, subject or node, and the summary or data. */
export const formatLine = (e: ReceivedEvent, color: boolean): string => {
  const severity = String(e.severity ?? "info")
  const time = String(e.time ?? "").slice(11, 23)
  const where = String(e.subject ?? e.node ?? e.source ?? "")
  const data = e.data as Record<string, unknown> | undefined
  const text = typeof data?.summary === "string"
    ? data.summary
    : data === undefined ? "" : JSON.stringify(data).slice(0, 160)
  const sev = severity.toUpperCase().padEnd(8)
  const line = `${time} #${e.sequence} ${color ? `${colors[severity] ?? ""}${sev}${reset}` : sev} ${e.type} ${where} ${text}`
  return line.replace(/\s+$/, "")
}

export const tail = (options: TailOptions) => {
  // Said once per outage, not at every retry, and once more when the stream is back.
  let unreachable = false
  return subscribe({
    url: options.url,
    token: options.token,
    after: options.since,
    filter: { type: options.type, severity: options.severity, node: options.node, source: options.source },
    reconnectDelay: "1 second",
    onSignal: (name, data) => {
      if (options.json || name === "heartbeat") return
      if (name === "lagged" || name === "shutdown" || name === "gap") {
        process.stderr.write(`-- ${name}: ${JSON.stringify(data)} (resuming)\n`)
      }
    },
    onDisconnect: (reason) => {
      if (unreachable) return
      unreachable = true
      process.stderr.write(`-- cannot reach ${options.url} (${reason}); retrying every second\n`)
    },
    onConnect: () => {
      if (unreachable) process.stderr.write(`-- connected to ${options.url}\n`)
      unreachable = false
    }
  }).pipe(
    Stream.runForEach((e) =>
      Effect.sync(() => process.stdout.write((options.json ? JSON.stringify(e) : formatLine(e, options.color)) + "\n"))
    )
  )
}

const usage = `usage: vigil tail [--url URL] [--type vm.*] [--severity warning] [--node pve1] [--source S]
                  [--since SEQUENCE] [--json] [--no-color] [--token TOKEN]
  URL defaults to $VIGIL_URL or http://127.0.0.1:7070; the token to $VIGIL_TOKEN.`

/** Parses `tail`'s arguments; returns a message for a bad one. */
export const parseTailArgs = (args: ReadonlyArray<string>, env: Record<string, string | undefined>): TailOptions | string => {
  const o: Record<string, string> = {}
  const flags = new Set<string>()
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === "--json" || a === "--no-color" || a === "--help") flags.add(a)
    else if (a.startsWith("--") && a.includes("=")) o[a.slice(2, a.indexOf("="))] = a.slice(a.indexOf("=") + 1)
    else if (a.startsWith("--") && i + 1 < args.length) o[a.slice(2)] = args[++i]!
    else return `unknown argument ${a}\n${usage}`
  }
  if (flags.has("--help")) return usage
  for (const k of Object.keys(o)) {
    if (!["url", "type", "severity", "node", "source", "since", "token"].includes(k)) return `unknown option --${k}\n${usage}`
  }
  const since = o.since === undefined ? undefined : Number(o.since)
  if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) return `--since must be a sequence number\n${usage}`
  return {
    url: (o.url ?? env.VIGIL_URL ?? "http://127.0.0.1:7070").replace(/\/+$/, ""),
    token: o.token ?? env.VIGIL_TOKEN,
    type: o.type,
    severity: o.severity,
    node: o.node,
    source: o.source,
    since,
    json: flags.has("--json"),
    color: !flags.has("--no-color") && process.stdout.isTTY === true && env.NO_COLOR === undefined
  }
}
