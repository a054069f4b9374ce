/**
 * Connects to the Proxmox API's address once and reports what its TLS presents, without trusting
 * it: the certificate's SHA-256 fingerprint (what `VIGIL_PROXMOX_FINGERPRINT` pins), whether it
 * verifies against the CAs vigil would use (the system's, or `VIGIL_PROXMOX_CA_FILE` alone, as the
 * client does) and for the URL's host name, and why not. A plain `http:` URL is only connected to.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { networkReason } from "../domain/NetworkReason.js"

export interface TlsFacts {
  readonly fingerprint: string
  /** Why the certificate does not verify; undefined when it does. */
  readonly untrusted: string | undefined
}

const portOf = (url: URL) => Number(url.port || (url.protocol === "https:" ? 443 : 80))

/** Connects, and answers the TLS facts (none for plain HTTP), or why the address cannot be reached. */
export const probe = (url: URL, caFile: Option.Option<string>, timeout: Duration.Duration): Effect.Effect<Option.Option<TlsFacts>, string> =>
  Effect.async<Option.Option<TlsFacts>, string>((resume) => {
    const host = url.hostname.replace(/^\[|\]$/g, "")
    const where = `${host}:${portOf(url)}`
    const secure = url.protocol === "https:"
    const socket = secure
      ? Tls.connect({
        host,
        port: portOf(url),
        ...(Net.isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: false,
        ...Option.match(caFile, { onNone: () => ({}), onSome: (file) => ({ ca: readFileSync(file) }) })
      })
      : Net.connect({ host, port: portOf(url) })
    socket.setTimeout(Duration.toMillis(timeout), () => socket.destroy(new Error(`no answer within ${Duration.format(timeout)}`)))
    socket.once("error", (e) => resume(Effect.fail(`cannot reach ${where} (${networkReason(e)})`)))
    socket.once(secure ? "secureConnect" : "connect", () => {
      if (!(socket instanceof Tls.TLSSocket)) {
        socket.destroy()
        return resume(Effect.succeed(Option.none()))
      }
      const certificate = socket.getPeerCertificate()
      const chain = socket.authorized ? undefined : String(socket.authorizationError)
      const identity = chain === undefined ? Tls.checkServerIdentity(host, certificate)?.message : undefined
      socket.destroy()
      resume(Effect.succeed(Option.some({ fingerprint: certificate.fingerprint256, untrusted: chain ?? identity })))
    })
    return Effect.sync(() => socket.destroy())
  })
