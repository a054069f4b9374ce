// The floor for start time and idle memory: a bare node:http server answering JSON, plain
// JavaScript (nothing to transpile), as small as a service can be.
import * as Http from "node:http"

const server = Http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}')
})
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`))
