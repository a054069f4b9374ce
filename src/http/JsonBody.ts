/**
 * Reads a request body as JSON with a size limit, turning every way it can go wrong into a
 * declared 4xx (never a 500): too large (413), not JSON (415 / 400), empty or malformed (400).
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import type { IncomingMessage } from "node:http"
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from "./ApiErrors.js"

/**
 * JSON, the CloudEvents structured and batch media types (JSON too), and the two types that
 * `curl -d` and `fetch` send when the caller forgot the header: the body is parsed as JSON anyway.
 */
const jsonMediaType =
  /^(application\/(json|cloudevents\+json|cloudevents-batch\+json|x-www-form-urlencoded)|text\/plain)\s*(;|$)/i

/** Past this many bytes a body is no longer drained to answer 413 politely: the socket is cut. */
const drainLimit = (maxBytes: number) => maxBytes * 4 + 1024 * 1024

/**
 * Reads the raw body. Past the limit the rest is drained and discarded, so the client, which is
 * still sending, gets to read the 413 instead of a reset connection.
 */
const readText = (incoming: IncomingMessage, maxBytes: number, tooLarge: PayloadTooLarge) =>
  Effect.async<string, PayloadTooLarge | BadRequest>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxBytes) chunks.push(chunk)
      else if (size > drainLimit(maxBytes)) {
        cleanup()
        incoming.destroy()
        resume(Effect.fail(tooLarge))
      }
    }
    const onEnd = () => {
      cleanup()
      resume(size > maxBytes ? Effect.fail(tooLarge) : Effect.succeed(Buffer.concat(chunks, size).toString("utf8")))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(new BadRequest({ message: `could not read the body: ${error.message}` })))
    }
    const cleanup = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
    }
    incoming.on("data", onData)
    incoming.on("end", onEnd)
    incoming.on("error", onError)
    return Effect.sync(cleanup)
  })

export const readJsonBody = (request: HttpServerRequest.HttpServerRequest, maxBytes: number) =>
  Effect.gen(function*() {
    const contentType = request.headers["content-type"]
    if (contentType !== undefined && !jsonMediaType.test(contentType)) {
      return yield* new UnsupportedMediaType({
        message: `content-type ${contentType} is not accepted; send application/json or application/cloudevents-batch+json`
      })
    }
    const tooLarge = new PayloadTooLarge({
      message: `request body exceeds the limit of ${maxBytes} bytes; split the batch`,
      limitBytes: maxBytes
    })
    const declared = Number(request.headers["content-length"] ?? "0")
    if (declared > drainLimit(maxBytes)) return yield* tooLarge
    const text = yield* readText(NodeHttpServerRequest.toIncomingMessage(request), maxBytes, tooLarge)
    if (text.trim() === "") return yield* new BadRequest({ message: "body is empty; send a CloudEvent or an array of them" })
    return yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) => new BadRequest({ message: `body is not valid JSON: ${(error as Error).message}` })
    })
  })
