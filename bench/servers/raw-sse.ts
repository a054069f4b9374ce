// The baseline: a minimal node:http SSE server that writes each published event to each client.
import * as Http from "node:http"

const clients = new Set<Http.ServerResponse>()
let seq = 0
const server = Http.createServer((req, res) => {
  if (req.method === "GET" && req.url?.startsWith("/stream")) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    res.write("retry: 2000\n\n")
    clients.add(res)
    req.on("close", () => clients.delete(res))
    return
  }
  if (req.method === "POST" && req.url === "/publish") {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      for (const e of JSON.parse(body) as Array<unknown>) {
        const frame = `id: ${++seq}\ndata: ${JSON.stringify(e)}\n\n`
        for (const c of clients) c.write(frame)
      }
      res.writeHead(200).end("{}")
    })
    return
  }
  res.writeHead(404).end()
})
server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as any).port }))
