// What seed 000 used: a socket.io 4 server that broadcasts what it is posted.
import * as Http from "node:http"
import { Server } from "socket.io"

const server = Http.createServer()
const io = new Server(server, { transports: ["websocket"] })
server.on("request", (req, res) => {
  if (req.method === "POST" && req.url === "/publish") {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      for (const e of JSON.parse(body) as Array<unknown>) io.emit("event", e)
      res.writeHead(200).end("{}")
    })
  }
})
server.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as any).port }))
