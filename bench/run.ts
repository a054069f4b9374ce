// `npm run bench`: vigil side by side with what users would pick instead, in one run on this
// machine, written to bench/RESULTS.md. Servers run as their own processes so their CPU and memory
// are theirs alone; clients run in separate processes and report their own CPU.
import Database from "better-sqlite3"
import { type ChildProcess, fork, spawn } from "node:child_process"
import * as Http from "node:http"
import { randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Schema from "effect/Schema"
import { noEvidence } from "../src/monitor/Causes.js"
import { diff } from "../src/monitor/Diff.js"
import { defaultPolicy, type Metric } from "../src/monitor/ThresholdPolicy.js"
import { evaluate, measure } from "../src/monitor/Thresholds.js"
import { ClusterResourcesFromApi, fastClusterResources } from "../src/sources/ResourceDecoder.js"
import { toSnapshot } from "../src/sources/PveSnapshot.js"
import { ensureBuilt } from "../scripts/build.mjs"
import { historyBench } from "./history.js"

const root = Path.join(import.meta.dirname, "..")
const tsx = ["--import", "tsx"]
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const lines: Array<string> = []
const resultsFile = Path.join(root, "bench", "RESULTS.md")
/** Prints and records a line; RESULTS.md is rewritten as it goes, so a cut-short run keeps what it measured. */
/** Sections named on the command line (`npm run bench -- fanout`) run alone and write no file. */
const only = process.argv.slice(2)
const out = (s = "") => {
  lines.push(s)
  console.log(s)
  if (only.length === 0) writeFileSync(resultsFile, lines.join("\n") + "\n")
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Every process this run starts; all are killed when it ends, however it ends. */
const children: Array<ChildProcess> = []
const track = <C extends ChildProcess>(child: C): C => {
  children.push(child)
  return child
}
const killAll = () => {
  for (const c of children) c.kill("SIGKILL")
}
process.on("exit", killAll)
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(1))
process.on("uncaughtException", (e) => {
  console.error(e)
  process.exit(1)
})

interface Server {
  readonly name: string
  readonly child: ChildProcess
  readonly streamUrl: string
  readonly publish: (events: Array<Record<string, unknown>>) => Promise<void>
  readonly baseUrl: string
  /** vigil only: where its SQLite file is. */
  readonly dataDir?: string
}

const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(f[11]) + Number(f[12])) / 100 // utime + stime, seconds (USER_HZ = 100)
}
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0)

const startVigil = () =>
  new Promise<Server>((resolve, reject) => {
    const dataDir = mkdtempSync(Path.join(Os.tmpdir(), "vigil-bench-"))
    // The build, as `npm start` runs it.
    const child = track(spawn(process.execPath, ["dist/main.js"], {
      cwd: root,
      env: {
        ...process.env,
        VIGIL_PORT: "0",
        VIGIL_SOURCE: "none",
        VIGIL_REMEDIATION: "false",
        VIGIL_DATA_DIR: dataDir,
        VIGIL_INGEST_RATE_LIMIT: "100000000",
        VIGIL_MAX_STREAMS_PER_TOKEN: "100000",
        VIGIL_SUBSCRIBER_BUFFER: "100000",
        VIGIL_HEARTBEAT_INTERVAL: "1 hour"
      },
      stdio: ["ignore", "pipe", "pipe"]
    }))
    let text = ""
    const onData = (c: Buffer) => {
      text += c
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(text)
      if (m) {
        const base = m[1]!
        resolve({
          name: "vigil",
          child,
          dataDir,
          baseUrl: base,
          streamUrl: `${base}/api/v1/events/stream?backfill=0`,
          publish: async (events) => {
            const body = events.map((data) => ({ specversion: "1.0", id: randomUUID(), source: "/bench", type: "bench.event", data }))
            const r = await fetch(`${base}/api/v1/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
            await r.arrayBuffer()
          }
        })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => reject(new Error(`vigil exited ${code}: ${text}`)))
  })

const startForked = (name: string, file: string, streamPath: string) =>
  new Promise<Server>((resolve) => {
    const child = track(fork(Path.join(root, file), [], { execArgv: tsx, stdio: ["ignore", "ignore", "inherit", "ipc"] }))
    child.once("message", (m: any) => {
      const base = `http://127.0.0.1:${m.port}`
      resolve({
        name,
        child,
        baseUrl: base,
        streamUrl: `${base}${streamPath}`,
        publish: async (events) => {
          const r = await fetch(`${base}/publish`, { method: "POST", body: JSON.stringify(events) })
          await r.arrayBuffer()
        }
      })
    })
  })

/** One client process per core: more would only take CPU from the server being measured. */
const clientProcesses = Math.max(2, Os.cpus().length)

interface Clients {
  readonly procs: Array<ChildProcess>
  readonly report: () => Promise<{ deliveries: number; latencies: Array<number>; cpu: number }>
  readonly reset: () => void
  readonly close: () => void
}

const startClients = async (kind: "sse" | "ws" | "socketio", url: string, total: number, procs = clientProcesses): Promise<Clients> => {
  const procsStarted = Array.from({ length: procs }, () =>
    track(fork(Path.join(root, "bench/clients.ts"), [kind, url, String(Math.ceil(total / procs))], { execArgv: tsx, stdio: ["ignore", "ignore", "inherit", "ipc"] })))
  await Promise.all(procsStarted.map((c) => new Promise<void>((r) => c.once("message", () => r()))))
  const children = procsStarted
  return {
    procs: children,
    report: async () => {
      const parts = await Promise.all(children.map((c) =>
        new Promise<any>((r) => {
          c.once("message", r)
          c.send({ cmd: "report" })
        })))
      return {
        deliveries: parts.reduce((a, p) => a + p.deliveries, 0),
        latencies: parts.flatMap((p) => p.latencies),
        cpu: parts.reduce((a, p) => a + (p.cpu.user + p.cpu.system) / 1e6, 0)
      }
    },
    reset: () => children.forEach((c) => c.send({ cmd: "reset" })),
    close: () => children.forEach((c) => c.kill())
  }
}

const percentile = (xs: Array<number>, p: number) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** Publishes `rate` events/s for `seconds`, in 10 ms ticks; waits for delivery; returns the figures. */
const runRate = async (server: Server, clients: Clients, count: number, rate: number, seconds: number) => {
  clients.reset()
  await sleep(200)
  const clientCpu0 = (await clients.report()).cpu
  const cpu0 = ticks(server.child.pid!)
  let sent = 0
  let failed = 0
  const start = Date.now()
  // Two publishers, each sending whatever is due when its previous request has been answered:
  // a slow server gets bigger batches, never an unbounded pile of requests.
  const publisher = async () => {
    while (Date.now() - start < seconds * 1000) {
      const due = Math.floor(((Date.now() - start) / 1000) * rate) - sent
      if (due <= 0) {
        await sleep(5)
        continue
      }
      sent += due
      const batch = Array.from({ length: due }, () => ({ t: Date.now(), pad: "x".repeat(64) }))
      await server.publish(batch).catch(() => {
        failed += due
      })
    }
  }
  await Promise.all([publisher(), publisher()])
  sent -= failed
  const expected = sent * count
  // Drain barrier: wait until every delivery arrived, or until nothing arrived for a second
  // (capped at 15 s), so the next run does not count this run's backlog.
  let r = await clients.report()
  let deliveries = r.deliveries
  let latencies = r.latencies
  const drainUntil = Date.now() + 15_000
  let quietSince = Date.now()
  while (deliveries < expected && Date.now() < drainUntil && Date.now() - quietSince < 1000) {
    await sleep(100)
    r = await clients.report()
    if (r.deliveries > 0) quietSince = Date.now()
    deliveries += r.deliveries
    latencies = latencies.concat(r.latencies)
  }
  const cpu = ticks(server.child.pid!) - cpu0
  return { sent, expected, deliveries, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.reduce((a, b) => Math.max(a, b), 0), cpu, clientCpu: r.cpu - clientCpu0, seconds: (Date.now() - start) / 1000 }
}

// ---------------------------------------------------------------------------------------------

const fanout = async () => {
  out(`## 4. Fan-out: 1,000 SSE clients (socket.io clients for socket.io), ${clientProcesses} client processes`)
  out()
  const clientsPerServer = 1000
  const rates = [100, 200, 400, 800, 1600]
  const results: Record<string, { latency: Awaited<ReturnType<typeof runRate>>; sat: Array<Awaited<ReturnType<typeof runRate>> & { rate: number }> }> = {}
  for (const make of [startVigil, () => startForked("raw node:http SSE", "bench/servers/raw-sse.ts", "/stream"), () => startForked("socket.io 4", "bench/servers/socketio.ts", "")]) {
    const server = await make()
    const clients = await startClients(server.name.startsWith("socket") ? "socketio" : "sse", server.streamUrl, clientsPerServer)
    await sleep(500)
    // Warm-up (not counted): the first seconds of any server include its JIT compiling the hot path.
    await runRate(server, clients, clientsPerServer, 100, 3)
    const latency = await runRate(server, clients, clientsPerServer, 100, 8)
    const sat = []
    // Up the rate until a run misses events or its p99 passes 1 s; higher rates would only pile up.
    for (const rate of rates) {
      const run = { rate, ...(await runRate(server, clients, clientsPerServer, rate, 4)) }
      sat.push(run)
      if (run.deliveries < run.expected || run.p99 >= 1000) break
    }
    results[server.name] = { latency, sat }
    clients.close()
    server.child.kill("SIGKILL")
    await sleep(500)
  }
  out("| server | p50 ms @100 ev/s | p99 ms | max ms | delivered @100 ev/s | saturation ev/s (all delivered, p99 < 1 s) | server CPU s per 100k deliveries |")
  out("|---|---|---|---|---|---|---|")
  const summary: Record<string, { p99: number; saturation: number; cpuPer100k: number }> = {}
  for (const [name, r] of Object.entries(results)) {
    const ok = r.sat.filter((s) => s.deliveries >= s.expected && s.p99 < 1000)
    const saturation = ok.length ? Math.max(...ok.map((s) => s.rate)) : 0
    // CPU per delivery over the runs where every event was delivered (a run that falls behind
    // would be charged for work it never finished).
    const complete = [r.latency, ...r.sat].filter((s) => s.deliveries >= s.expected)
    const totalDeliveries = complete.reduce((a, s) => a + s.deliveries, 0)
    const totalCpu = complete.reduce((a, s) => a + s.cpu, 0)
    const cpuPer100k = (totalCpu / totalDeliveries) * 100_000
    summary[name] = { p99: r.latency.p99, saturation, cpuPer100k }
    out(`| ${name} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${r.latency.deliveries}/${r.latency.expected} | ${saturation} | ${cpuPer100k.toFixed(3)} |`)
  }
  out()
  out("Per rate (deliveries / expected, p99 ms, server CPU s, client CPU s over the run's wall seconds):")
  out()
  for (const [name, r] of Object.entries(results)) {
    out(`- ${name}: ${r.sat.map((s) => `${s.rate} ev/s: ${s.deliveries}/${s.expected}, p99 ${s.p99}, cpu ${s.cpu.toFixed(2)}, clients ${s.clientCpu.toFixed(1)}/${s.seconds.toFixed(1)} s`).join("; ")}`)
  }
  const v = summary["vigil"]!
  const raw = summary["raw node:http SSE"]!
  const sio = summary["socket.io 4"]!
  out()
  out(`Ratios: CPU per delivery vigil/raw = ${(v.cpuPer100k / raw.cpuPer100k).toFixed(2)} (goal ≤ 1), vigil/socket.io = ${(v.cpuPer100k / sio.cpuPer100k).toFixed(2)} (goal ≤ 0.33); p99 vigil/raw = ${(v.p99 / Math.max(1, raw.p99)).toFixed(2)} (goal ≤ 1.5); saturation vigil/raw = ${(v.saturation / Math.max(1, raw.saturation)).toFixed(2)} (goal ≥ 1).`)
  out("vigil's figures include ingest, validation and the SQLite commit of every event; the others only relay.")
  out()
}

const connections = async () => {
  out("## 5. Connections: 10,000 idle SSE clients")
  out()
  const rows: Array<[string, number]> = []
  for (const make of [startVigil, () => startForked("raw node:http SSE", "bench/servers/raw-sse.ts", "/stream")]) {
    const server = await make()
    await sleep(1000)
    const before = rssKb(server.child.pid!)
    const opening = Date.now()
    const clients = await startClients("sse", server.streamUrl, 10_000)
    const openSeconds = (Date.now() - opening) / 1000
    await sleep(2000)
    const after = rssKb(server.child.pid!)
    const perConnection = ((after - before) * 1024) / 10_000
    rows.push([server.name, perConnection])
    out(`- ${server.name}: RSS ${before} kB idle → ${after} kB with 10,000 clients: ${(perConnection / 1024).toFixed(1)} KB per connection (all open in ${openSeconds.toFixed(1)} s)`)
    clients.close()
    server.child.kill("SIGKILL")
    await sleep(1000)
  }
  out()
  out(`Ratio vigil/raw per connection = ${(rows[0]![1] / rows[1]![1]).toFixed(2)} (goal ≤ 1.3)`)
  out()
}

/**
 * The WebSocket transport beside a bare `ws` server on node:http (the same JSON message per
 * event, encoded once and sent to every client): idle memory per connection, and fan-out at
 * 1,000 clients × 100 events/s, every event counted.
 */
const websocket = async () => {
  out("## 6. WebSocket: 2,000 then 6,000 idle clients; fan-out to 1,000 clients at 100 events/s")
  out()
  const idle: Record<string, number> = {}
  const slope: Record<string, number> = {}
  const fan: Record<string, Awaited<ReturnType<typeof runRate>>> = {}
  const servers = [
    async () => {
      const v = await startVigil()
      return { ...v, streamUrl: `${v.baseUrl.replace("http", "ws")}/api/v1/events/ws?backfill=0` }
    },
    async () => {
      const raw = await startForked("bare ws", "bench/servers/raw-ws.ts", "/ws")
      return { ...raw, streamUrl: raw.streamUrl.replace("http", "ws") }
    }
  ]
  for (const make of servers) {
    const server = await make()
    await sleep(1000)
    const before = rssKb(server.child.pid!)
    const idleClients = await startClients("ws", server.streamUrl, 2000)
    await sleep(2000)
    const at2000 = rssKb(server.child.pid!)
    idle[server.name] = ((at2000 - before) * 1024) / 2000
    // The first connections also pay for the heap growing under the burst of connection set-ups
    // (V8's young generation grows to its maximum under such allocation, once): what each further
    // connection costs is the slope from 2,000 to 6,000.
    const moreClients = await startClients("ws", server.streamUrl, 4000)
    await sleep(3000)
    slope[server.name] = ((rssKb(server.child.pid!) - at2000) * 1024) / 4000
    moreClients.close()
    idleClients.close()
    await sleep(1500)
    const clients = await startClients("ws", server.streamUrl, 1000)
    await sleep(500)
    await runRate(server, clients, 1000, 100, 3) // warm-up, not counted
    fan[server.name] = await runRate(server, clients, 1000, 100, 6)
    clients.close()
    server.child.kill("SIGKILL")
    await sleep(1000)
  }
  out("| server | RSS per idle connection, first 2,000 | each further one (2,000 → 6,000) | delivered @100 ev/s × 1,000 | p50 ms | p99 ms | server CPU s per 100k deliveries |")
  out("|---|---|---|---|---|---|---|")
  for (const [name, r] of Object.entries(fan)) {
    out(`| ${name} | ${(idle[name]! / 1024).toFixed(1)} KB | ${(slope[name]! / 1024).toFixed(1)} KB | ${r.deliveries}/${r.expected} | ${r.p50} | ${r.p99} | ${((r.cpu / Math.max(1, r.deliveries)) * 100_000).toFixed(3)} |`)
  }
  const v = fan["vigil"]!
  const raw = fan["bare ws"]!
  const perDelivery = (r: typeof v) => r.cpu / Math.max(1, r.deliveries)
  out()
  out(`Ratios vigil/bare ws: RSS per further connection ${(slope["vigil"]! / slope["bare ws"]!).toFixed(2)} (goal ≤ 1.3; the first 2,000's ${(idle["vigil"]! / idle["bare ws"]!).toFixed(2)}); CPU per delivery ${(perDelivery(v) / perDelivery(raw)).toFixed(2)} (goal ≤ 1); p99 ${(v.p99 / Math.max(1, raw.p99)).toFixed(2)} (goal ≤ 1.5); delivered ${((100 * v.deliveries) / Math.max(1, v.expected)).toFixed(1)} % (goal 100 %).`)
  out("vigil's figures include ingest, validation and the SQLite commit of every event; the bare server only relays.")
  out()
}

/**
 * vigil watching a 10,000-guest simulated cluster at the default tiers (critical every 12 s,
 * history on) for BENCH_SCALE_MINUTES (10): its RSS sampled every 30 s, to see that it stays flat
 * after warm-up and under the goal.
 */
const scale = async () => {
  const minutes = Number(process.env.BENCH_SCALE_MINUTES ?? 10)
  out(`## 7. Memory at scale: watching 10,000 guests for ${minutes} minutes at the default tiers`)
  out()
  const sim = track(fork(Path.join(root, "bench/servers/big-sim.ts"), [], { execArgv: tsx, stdio: ["ignore", "ignore", "inherit", "ipc"], env: { ...process.env, BENCH_GUESTS: "10000" } }))
  const { url, token } = await new Promise<{ url: string; token: string }>((r) => sim.once("message", (m: any) => r(m)))
  const dataDir = mkdtempSync(Path.join(Os.tmpdir(), "vigil-bench-scale-"))
  const vigil = track(spawn(process.execPath, ["dist/main.js"], {
    cwd: root,
    env: { ...process.env, VIGIL_PORT: "0", VIGIL_DATA_DIR: dataDir, VIGIL_SOURCE: "proxmox", VIGIL_PROXMOX_URL: url, VIGIL_PROXMOX_TOKEN: token, VIGIL_REMEDIATION: "false" },
    stdio: ["ignore", "ignore", "inherit"]
  }))
  const samples: Array<[number, number]> = []
  const started = Date.now()
  while (Date.now() - started < minutes * 60_000) {
    await sleep(30_000)
    samples.push([Math.round((Date.now() - started) / 1000), rssKb(vigil.pid!)])
  }
  vigil.kill("SIGTERM")
  sim.kill()
  const warm = samples.filter(([t]) => t >= 120)
  const mb = (kb: number) => (kb / 1024).toFixed(0)
  out(`- RSS every 30 s (MB): ${samples.map(([, kb]) => mb(kb)).join(", ")}`)
  if (warm.length >= 6) {
    // RSS saw-tooths with the collector; the trend is the median of the first third of the
    // samples after warm-up against the last third's.
    const third = Math.floor(warm.length / 3)
    const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    const early = median(warm.slice(0, third).map(([, kb]) => kb))
    const late = median(warm.slice(-third).map(([, kb]) => kb))
    const peak = Math.max(...warm.map(([, kb]) => kb))
    out(`- after 2 minutes of warm-up: median ${mb(early)} MB in the first third, ${mb(late)} MB in the last (${(((late - early) / early) * 100).toFixed(1)} %); peak ${mb(peak)} MB (goal: flat, under 300 MB)`)
  }
  out()
}

/** One ingest request body: `size` events with fresh ids, as a producer would send them. */
const ingestBody = (size: number) =>
  JSON.stringify(Array.from({ length: size }, (_, i) => ({
    specversion: "1.0",
    id: randomUUID(),
    source: "/bench",
    type: "bench.event",
    time: new Date().toISOString(),
    data: { t: Date.now(), i, pad: "x".repeat(64) }
  })))

/** POSTs a prepared body over a keep-alive connection; resolves with the status. */
const post = (agent: Http.Agent, url: URL, body: string) =>
  new Promise<number>((resolve, reject) => {
    const req = Http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", reject)
    req.end(body)
  })

const ingest = async () => {
  out("## 3. Ingest: durable events/s, batches of 100")
  out()
  const seconds = 5
  const producers = 8
  // Bodies are built before the clock starts (and sent with node:http over keep-alive, not
  // fetch), so the load generator, which shares the cores with vigil, costs as little as it can.
  const bodies = Array.from({ length: 3000 }, () => ingestBody(100))
  const server = await startVigil()
  const url = new URL(`${server.baseUrl}/api/v1/events`)
  const agent = new Http.Agent({ keepAlive: true, maxSockets: producers })
  let next = 0
  let events = 0
  let refused = 0
  const cpu0 = ticks(server.child.pid!)
  const started = Date.now()
  const stop = started + seconds * 1000
  await Promise.all(Array.from({ length: producers }, async () => {
    while (Date.now() < stop && next < bodies.length) {
      const status = await post(agent, url, bodies[next++]!)
      if (status === 200 || status === 201) events += 100
      else refused++
    }
  }))
  const elapsed = (Date.now() - started) / 1000
  const vigilRate = events / elapsed
  const vigilCpu = ticks(server.child.pid!) - cpu0
  agent.destroy()
  server.child.kill("SIGKILL")
  await sleep(300)

  // The same rows through raw better-sqlite3, 100 per transaction: into vigil's own events table
  // (the file vigil just wrote: same schema, same indexes), and into a bare table with only the
  // primary key and the (source, id) key, to show what vigil's two query indexes cost.
  const columns = "id, source, type, time, subject, datacontenttype, severity, node, data, data_base64, extensions, audience, received_at"
  const rawRun = (db: Database.Database) => {
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    const insert = db.prepare(`INSERT INTO events (${columns}) VALUES (${columns.split(", ").map(() => "?").join(", ")}) ON CONFLICT (source, id) DO NOTHING`)
    const tx = db.transaction((rows: Array<Array<unknown>>) => {
      for (const r of rows) insert.run(...r)
    })
    let rows = 0
    const rawStop = Date.now() + seconds * 1000
    while (Date.now() < rawStop) {
      const now = Date.now()
      tx(Array.from({ length: 100 }, (_, i) => [randomUUID(), "/bench", "bench.event", new Date(now).toISOString(), null, "application/json", 1, null, JSON.stringify({ t: now, i, pad: "x".repeat(64) }), null, null, null, now]))
      rows += 100
    }
    db.close()
    return rows / seconds
  }
  const sameSchema = rawRun(new Database(Path.join(server.dataDir!, "vigil.db")))
  const bare = new Database(Path.join(mkdtempSync(Path.join(Os.tmpdir(), "raw-sqlite-")), "raw.db"))
  bare.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, source TEXT NOT NULL, type TEXT NOT NULL,
    time TEXT NOT NULL, subject TEXT, datacontenttype TEXT, severity INTEGER NOT NULL, node TEXT, data TEXT, data_base64 TEXT,
    extensions TEXT, audience TEXT, received_at INTEGER NOT NULL, UNIQUE (source, id))`)
  const bareRate = rawRun(bare)
  out(`- vigil, POST /api/v1/events, ${producers} concurrent producers: ${Math.round(vigilRate)} events/s (validated, committed, published; ${refused} requests refused), server CPU ${vigilCpu.toFixed(1)} s over ${elapsed.toFixed(1)} s`)
  out(`- raw better-sqlite3 into vigil's events table (same schema and indexes), 100-row transactions, one thread: ${Math.round(sameSchema)} rows/s`)
  out(`- raw better-sqlite3 into a bare table (primary key and (source, id) only): ${Math.round(bareRate)} rows/s`)
  out()
  out(`Ratio vigil/raw (same table) = ${(vigilRate / sameSchema).toFixed(2)} (goal ≥ 0.8); against the bare table ${(vigilRate / bareRate).toFixed(2)}.`)
  out()
}

const pollCost = () => {
  out("## 1. Poll cost: a 10,000-guest snapshot")
  out()
  const nodes = Array.from({ length: 20 }, (_, i) => ({ id: `node/pve${i}`, type: "node", node: `pve${i}`, status: "online", cpu: 0.2, maxcpu: "64", mem: 40e9, maxmem: 256e9, disk: 30e9, maxdisk: 100e9, uptime: "86400" }))
  const guests = Array.from({ length: 10_000 }, (_, i) => ({
    id: `qemu/${1000 + i}`, type: i % 4 === 0 ? "lxc" : "qemu", vmid: 1000 + i, name: `guest-${i}`, node: `pve${i % 20}`, status: i % 10 === 0 ? "stopped" : "running",
    cpu: (i % 100) / 100, maxcpu: 4, mem: (i % 97) * 1e8, maxmem: 100e8, disk: 0, maxdisk: 64e9, uptime: 3600, template: 0, tags: "a;b"
  }))
  const storage = Array.from({ length: 60 }, (_, i) => ({ id: `storage/pve${i % 20}/s${i}`, type: "storage", storage: `s${i}`, node: `pve${i % 20}`, status: "available", disk: (i % 90) * 1e10, maxdisk: 100e10, shared: 0, plugintype: "dir" }))
  const payload = JSON.stringify({ data: [...nodes, ...guests, ...storage] })
  const decode = Schema.decodeUnknownSync(Schema.Struct({ data: ClusterResourcesFromApi }))
  const parsed = JSON.parse(payload)
  const status = [{ type: "cluster", name: "bench", quorate: true }]
  // What the source runs: the hand-checked decoder (equal to the schema; property-tested).
  const decodeFast = () => toSnapshot(fastClusterResources(parsed)!, status, undefined, undefined, 0)
  const a = decodeFast()
  // The next poll, 12 s later: running guests' uptime has moved on, one in fifty has stopped.
  const b = {
    ...a,
    takenAt: 12_000,
    guests: a.guests.map((g, i) => (i % 50 === 0 ? { ...g, status: "stopped" as const } : g.status === "running" ? { ...g, uptime: g.uptime! + 12 } : g))
  }
  const metrics = new Set<Metric>(["cpu", "mem", "disk", "storage"])
  const state = diff(undefined, a, noEvidence).state
  let thresholds = evaluate(defaultPolicy, new Map(), measure(a, metrics), metrics, 0).states
  const detect = () => {
    diff(state, b, noEvidence)
    // As the monitor measures: leaving out guests with no state and nothing over a level.
    thresholds = evaluate(defaultPolicy, thresholds, measure(b, metrics, { policy: defaultPolicy, states: thresholds }), metrics, 1).states
  }
  // Side by side: round after round, each timed once, so the collector's work lands on all three
  // alike (timed one after the other, each inherited the garbage of the one before); medians of
  // 40 rounds. The schema's generic decoder, shown for comparison only, is timed afterwards.
  const timed = { parse: [] as Array<number>, decode: [] as Array<number>, detect: [] as Array<number> }
  const time = (into: Array<number>, f: () => unknown) => {
    const t = performance.now()
    f()
    into.push(performance.now() - t)
  }
  for (let round = 0; round < 40; round++) {
    time(timed.parse, () => JSON.parse(payload))
    time(timed.decode, decodeFast)
    time(timed.detect, detect)
  }
  const schema: Array<number> = []
  for (let round = 0; round < 15; round++) time(schema, () => toSnapshot(decode(parsed).data, status, undefined, undefined, 0))
  const [parseMs, decodeMs, detectMs, schemaMs] = [timed.parse, timed.decode, timed.detect, schema].map((xs) => percentile(xs, 50)) as [number, number, number, number]
  out(`- JSON.parse of the PVE payload (${(payload.length / 1e6).toFixed(1)} MB): ${parseMs.toFixed(1)} ms`)
  out(`- decoding it into a snapshot: ${decodeMs.toFixed(1)} ms (with the schema's generic decoder instead: ${schemaMs.toFixed(1)} ms)`)
  out(`- diff (with cause attribution) + thresholds on the decoded snapshot: ${detectMs.toFixed(1)} ms`)
  out()
  out(`Ratio (decode + diff + thresholds)/JSON.parse = ${((decodeMs + detectMs) / parseMs).toFixed(2)} (goal ≤ 1.5)`)
  out()
}

// ---------------------------------------------------------------------------------------------
// 0. Start time and idle memory

/** Spawns a server and answers when its first HTTP request succeeds, in ms from the spawn. */
const readyIn = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ readonly ms: number; readonly child: ChildProcess }>((resolve, reject) => {
    const t = performance.now()
    const child = track(spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }))
    let text = ""
    const onData = (c: Buffer) => {
      text += c
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(text)
      if (m === null) return
      child.stdout!.off("data", onData)
      const poll = () =>
        fetch(`${m[1]}/api/v1/health`).then((r) => r.arrayBuffer()).then(() => resolve({ ms: performance.now() - t, child }), () => setTimeout(poll, 5))
      poll()
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", (c) => (text += c))
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${text}`)))
  })

const startup = async () => {
  out("## 0. Start time and idle memory")
  out()
  out("From the spawn to the first answered request (vigil: `GET /api/v1/health`), and the resident memory after 10 s idle")
  out("(vigil with its embedded defaults: the local host watched, SQLite). Median of 3 starts each, interleaved.")
  out()
  const variants = [
    { name: "vigil, `npm start` (the esbuild bundle, plain Node)", args: ["dist/main.js"], vigil: true },
    { name: "vigil, through the TypeScript loader (tsx, as before)", args: [...tsx, "src/main.ts"], vigil: true },
    { name: "bare node:http server (the floor)", args: ["bench/servers/bare-http.mjs"], vigil: false }
  ]
  const results = new Map<string, { ms: Array<number>; rss: Array<number> }>(variants.map((v) => [v.name, { ms: [], rss: [] }]))
  for (let round = 0; round < 3; round++) {
    for (const v of variants) {
      const env = v.vigil ? { VIGIL_PORT: "0", VIGIL_DATA_DIR: mkdtempSync(Path.join(Os.tmpdir(), "vigil-bench-")) } : {}
      const { ms, child } = await readyIn(v.args, env)
      await sleep(10_000)
      results.get(v.name)!.ms.push(ms)
      results.get(v.name)!.rss.push(rssKb(child.pid!) / 1024)
      child.kill("SIGKILL")
    }
  }
  const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const floor = results.get(variants[2]!.name)!
  out("| | ready | idle RSS |")
  out("|---|---|---|")
  for (const v of variants) {
    const r = results.get(v.name)!
    out(`| ${v.name} | ${Math.round(median(r.ms))} ms | ${median(r.rss).toFixed(0)} MB |`)
  }
  out()
  const built = results.get(variants[0]!.name)!
  const loader = results.get(variants[1]!.name)!
  out(`Ratios: the build starts ${(median(loader.ms) / median(built.ms)).toFixed(1)}× faster than the loader and uses ${(median(loader.rss) / median(built.rss)).toFixed(1)}× less memory;`)
  out(`against the bare server it takes ${(median(built.ms) / median(floor.ms)).toFixed(1)}× the time and ${(median(built.rss) / median(floor.rss)).toFixed(1)}× the memory (goals: ready < 1 s, idle < 120 MB).`)
  out()
}

const main = async () => {
  const started = Date.now()
  await ensureBuilt()
  out("# vigil benchmarks")
  out()
  out(`Machine: ${Os.cpus()[0]?.model} × ${Os.cpus().length}, ${(Os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`)
  out("Command: `npm run bench` (bench/run.ts). Each server runs as its own process; CPU and RSS are read from /proc for that process.")
  out(`Clients run in ${clientProcesses} separate processes; they count SSE frames with Buffer.indexOf on the raw bytes (no decoding)`)
  out("and read the sender's timestamp from every 20th only. Their CPU seconds are reported beside each run against its wall")
  out("seconds: clients, publisher and server share the same cores, so a run whose clients use most of a core is flagged by it.")
  out("Between runs a drain barrier waits until every delivery arrived (or none arrived for 1 s), so no run counts another's backlog.")
  out()
  const sections: Record<string, () => void | Promise<void>> = { startup, poll: pollCost, history: historyBench(out), ingest, fanout, connections, websocket, scale }
  for (const [name, section] of Object.entries(sections)) {
    if (only.length === 0 || only.includes(name)) await section()
  }
  out(`Total time: ${Math.round((Date.now() - started) / 1000)} s.`)
  if (only.length === 0) {
    out()
    out(readFileSync(Path.join(root, "bench", "HISTORY.md"), "utf8").trimEnd())
  }
  process.exit(0)
}

main()
