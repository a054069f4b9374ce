/**
 * For tests that run vigil's commands as their own processes, as a user would.
 */

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
