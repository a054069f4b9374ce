// The WebSocket baseline: a bare `ws` server on node:http that sends each published event to each
// client as the same JSON message vigil sends, encoded once per event.
import * as Http from "node:http"
import { WebSocketServer } from "ws"

let seq = 0
const server = Http.createServer((req, res) => {
  if (req.method === "POST" && req.url === "/publish") {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      for (const e of JSON.parse(body) as Array<unknown>) {
        const message = Buffer.from(`{"type":"event","event":{"sequence":${++seq},"data":${JSON.stringify(e)}}}`)
        for (const client of wss.clients) client.send(message, { binary: false })
      }
      res.writeHead(200).end("{}")
    })
    return
  }
  res.writeHead(404).end()
})
const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false })
server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as { port: number }).port }))
