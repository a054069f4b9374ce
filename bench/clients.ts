// A client process for the benchmarks: opens N SSE or socket.io connections, counts deliveries
// and samples latency (the sender's timestamp is in each event). Frames are counted, not parsed:
// only every 20th is looked into, so the clients are not what is measured.
import * as Http from "node:http"
import { io } from "socket.io-client"

const [kind, url, countText] = process.argv.slice(2)
const count = Number(countText)
let deliveries = 0
let latencies: Array<number> = []
let sampled = 0
const tRe = /"t":(\d+)/

const sample = (text: string) => {
  if (++sampled % 20 !== 0) return
  const m = tRe.exec(text)
  if (m) latencies.push(Date.now() - Number(m[1]))
}

let open = 0
const opened = () => {
  if (++open === count) process.send?.({ ready: true })
}

for (let i = 0; i < count; i++) {
  if (kind === "sse") {
    const req = Http.get(url!, { agent: false, headers: { accept: "text/event-stream" } }, (res) => {
      opened()
      let carry = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        // Count frame ends ("\n\n") that carry an id (durable events), across chunk borders.
        const text = carry + chunk
        let idx = text.indexOf("id: ")
        while (idx !== -1) {
          const end = text.indexOf("\n\n", idx)
          if (end === -1) break
          deliveries++
          sample(text.slice(idx, Math.min(end, idx + 400)))
          idx = text.indexOf("id: ", end)
        }
        carry = idx === -1 ? "" : text.slice(idx)
      })
    })
    req.on("error", () => {})
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
  if (m.cmd === "report") {
    process.send?.({ deliveries, latencies, cpu: process.cpuUsage() })
    latencies = []
  }
  if (m.cmd === "reset") {
    deliveries = 0
    latencies = []
  }
})
