/**
 * For tests that run vigil's commands (or other servers) as their own processes, as a user would.
 */
import * as Effect from "effect/Effect"
import { createServer } from "node:net"

/** A port nothing listens on: taken from the system, then released, for a process to listen on. */
export const freePort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })
)

/** A `data` listener that splits a child's output into lines as they arrive, appending them to `into`. */
export const collectLines = (into: Array<string>) => {
  let pending = ""
  return (chunk: Buffer) => {
    pending += chunk
    const parts = pending.split("\n")
    pending = parts.pop()!
    into.push(...parts)
  }
}

/** This process's environment without any VIGIL_* setting: a spawned vigil sees only what the test gives it. */
export const environmentWithoutVigil = (): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VIGIL_")))
