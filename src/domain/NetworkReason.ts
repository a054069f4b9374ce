/**
 * Why a network call failed, in the word an operator can search for: the system's error code
 * (ECONNREFUSED, ENOTFOUND, ECONNRESET…) found on the error or one of its causes (fetch and the
 * platform's HTTP client wrap it), else the error's message.
 */
export const networkReason = (error: unknown): string => {
  let cause: unknown = error
  for (let depth = 0; depth < 4 && typeof cause === "object" && cause !== null; depth++) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === "string") return code
    cause = (cause as { cause?: unknown }).cause
  }
  return error instanceof Error ? error.message : String(error)
}
