// A client process for the benchmarks: opens N SSE, WebSocket or socket.io connections, counts deliveries
// and samples latency (the sender's timestamp is in each event).
//
// The clients must not be what is measured, so SSE bytes are never decoded: frames are counted
// with Buffer.indexOf (native) on the raw chunks, and only every 20th frame is looked into for its
// timestamp. A frame that carries an id is a durable event ("\nid: " or "id: " at a chunk's start).
import * as Http from "node:http"
import { io } from "socket.io-client"
import { WebSocket } from "ws"

const [kind, url, countText] = process.argv.slice(2)
const count = Number(countText)
let deliveries = 0
let latencies: Array<number> = []
let sampled = 0

const idMark = Buffer.from("id: ")
const timeMark = Buffer.from('"t":')

/** Reads the digits after `"t":` in the frame starting at `from`; -1 if not within 400 bytes. */
const timestampAt = (buf: Buffer, from: number): number => {
  const at = buf.indexOf(timeMark, from)
  if (at === -1 || at - from > 400) return -1
  let t = 0
  for (let i = at + timeMark.length; i < buf.length; i++) {
    const c = buf[i]!
    if (c < 48 || c > 57) break
    t = t * 10 + (c - 48)
  }
  return t
}

let open = 0
const opened = () => {
  if (++open === count) process.send?.({ ready: true })
}

// A connection refused or reset before its answer (the listen queue overflows when thousands open
// at once) is opened again, so a run never waits forever for the last one.
const retryMs = 200

const sseClient = () => {
  let answered = false
  const req = Http.get(url!, { agent: false, headers: { accept: "text/event-stream" } }, (res) => {
    answered = true
    opened()
    // Frames start at a line start; "id: " also occurs inside event data only after other text on
    // the same line, so a match preceded by "\n" (or at the stream's start) is a frame. Chunk
    // borders: the last 3 bytes of a chunk are carried into the next search.
    let tail: Buffer | undefined
    let previousEndedWithNewline = true
    res.on("data", (chunk: Buffer) => {
      const buf = tail === undefined ? chunk : Buffer.concat([tail, chunk])
      let idx = buf.indexOf(idMark)
      while (idx !== -1) {
        if (idx === 0 ? previousEndedWithNewline : buf[idx - 1] === 10) {
          deliveries++
          if (++sampled % 20 === 0) {
            const t = timestampAt(buf, idx)
            if (t > 0) latencies.push(Date.now() - t)
          }
        }
        idx = buf.indexOf(idMark, idx + idMark.length)
      }
      // Keep only what could be the start of a split "id: " (at most 3 bytes).
      const keep = Math.min(3, buf.length)
      tail = buf.subarray(buf.length - keep)
      previousEndedWithNewline = buf.length - keep === 0 ? previousEndedWithNewline : buf[buf.length - keep - 1] === 10
    })
  })
  req.on("error", () => {
    if (!answered) setTimeout(sseClient, retryMs)
  })
}

const eventMark = Buffer.from(`{"type":"event"`)

/** One WebSocket client: every message that starts as an event message is a delivery. */
const wsClient = () => {
  const socket = new WebSocket(url!, { perMessageDeflate: false })
  let isOpen = false
  socket.on("open", () => {
    isOpen = true
    opened()
  })
  socket.on("close", () => {
    if (!isOpen) setTimeout(wsClient, retryMs)
  })
  socket.on("message", (data: Buffer) => {
    if (data.indexOf(eventMark) !== 0) {
      if (data.indexOf(`{"type":"ping"`) === 0) socket.send(`{"type":"pong"}`)
      return
    }
    deliveries++
    if (++sampled % 20 === 0) {
      const t = timestampAt(data, 0)
      if (t > 0) latencies.push(Date.now() - t)
    }
  })
  socket.on("error", () => {})
}

for (let i = 0; i < count; i++) {
  if (kind === "sse") {
    sseClient()
  } else if (kind === "ws") {
    wsClient()
  } else {
    const socket = io(url!, { transports: ["websocket"], forceNew: true })
    socket.on("connect", opened)
    socket.on("event", (e: { t: number }) => {
      deliveries++
      if (++sampled % 20 === 0) latencies.push(Date.now() - e.t)
    })
  }
}

process.on("message", (m: { cmd: string }) => {
  // Each report carries what arrived since the previous one (or since the reset).
  if (m.cmd === "report") {
    process.send?.({ deliveries, latencies, cpu: process.cpuUsage() })
    deliveries = 0
    latencies = []
  }
  if (m.cmd === "reset") {
    deliveries = 0
    latencies = []
  }
})
