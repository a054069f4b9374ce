/**
 * Real notification receivers on loopback: an SMTP server (the `smtp-server` package, which
 * speaks SMTP as a mail server does) and an HTTP webhook receiver. Both record what they got.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { SMTPServer } from "smtp-server"

export interface Mail {
  readonly from: string
  readonly to: ReadonlyArray<string>
  readonly raw: string
}

export const startSmtp = Effect.acquireRelease(
  Effect.promise(async () => {
    const mails: Array<Mail> = []
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, session, callback) {
        let raw = ""
        stream.on("data", (c) => (raw += c))
        stream.on("end", () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw
          })
          callback()
        })
      }
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
    const port = (server.server.address() as AddressInfo).port
    return { mails, url: `smtp://127.0.0.1:${port}`, server }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

export interface Hook {
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A webhook receiver; `failing` makes it answer 500 (to exercise retries and dead letters) until told otherwise. */
export const startWebhook = (options: { readonly failing?: boolean } = {}) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const received: Array<Hook> = []
      let attempts = 0
      let failing = options.failing === true
      const server = Http.createServer((req, res) => {
        let body = ""
        req.on("data", (c) => (body += c))
        req.on("end", () => {
          attempts++
          if (failing) {
            res.writeHead(500).end()
            return
          }
          received.push({ headers: req.headers, body })
          res.writeHead(204).end()
        })
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
      const port = (server.address() as AddressInfo).port
      return {
        received,
        url: `http://127.0.0.1:${port}/hook`,
        server,
        attempts: () => attempts,
        setFailing: (f: boolean) => void (failing = f)
      }
    }),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  )
