/**
 * JSON from outside, bounded before it is touched (pure). Every body and every WebSocket message
 * passes here: it must be well-formed UTF-8, nest at most `maxDepth` deep, and carry only
 * well-formed UTF-16 strings. V8 parses any depth, but stringifying, schema error formatting and
 * every recursive walk after it overflow the stack, so depth is checked on the text, before
 * parsing. A lone surrogate (`"\ud83d"`) can only come from a `\u` escape (the UTF-8 decoder
 * refuses encoded surrogates); SQLite and PostgreSQL would store it mangled, so such strings are
 * refused with the path of the value that holds one.
 */
import * as Either from "effect/Either"

export interface JsonLimits {
  readonly maxDepth: number
}

/** Why a text was refused: where (a JSON path, empty for the whole text) and what is wrong. */
export interface JsonProblem {
  readonly path: string
  readonly message: string
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Decodes UTF-8 bytes, refusing malformed ones instead of replacing them. */
export const decodeUtf8 = (bytes: Uint8Array): Either.Either<string, JsonProblem> => {
  try {
    return Either.right(utf8.decode(bytes))
  } catch {
    return Either.left({ path: "", message: "is not well-formed UTF-8" })
  }
}

const QUOTE = 34
const BACKSLASH = 92
const OPEN_ARRAY = 91
const CLOSE_ARRAY = 93
const OPEN_OBJECT = 123
const CLOSE_OBJECT = 125
const LOWER_U = 117

/**
 * One pass over the text: the deepest nesting, stopping as soon as it passes `maxDepth`, and
 * whether any `\u` escape names a surrogate (then the parsed value needs a closer look).
 */
export const scan = (text: string, maxDepth: number): { readonly tooDeep: boolean; readonly surrogateEscape: boolean } => {
  let depth = 0
  let surrogateEscape = false
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      // Skip the string; an escaped character never ends it.
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i)
        if (s === QUOTE) break
        if (s === BACKSLASH) {
          i++
          if (text.charCodeAt(i) === LOWER_U) {
            const d = text.charCodeAt(i + 1) | 0x20
            const next = text.charCodeAt(i + 2) | 0x20
            // \uD800-\uDFFF: "d" then 8, 9, a..f
            if (d === 100 && (next === 56 || next === 57 || (next >= 97 && next <= 102))) surrogateEscape = true
          }
        }
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) return { tooDeep: true, surrogateEscape }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--
    }
  }
  return { tooDeep: false, surrogateEscape }
}

const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed()

const pathOf = (keys: ReadonlyArray<string | number>): string => {
  let out = ""
  for (const k of keys) out += typeof k === "number" ? `[${k}]` : out === "" ? k : `.${k}`
  return out
}

/**
 * The path of the first string (or object key) that is not well-formed UTF-16, if any. Iterative,
 * so it cannot overflow whatever the depth.
 */
export const illFormedPath = (value: unknown): string | undefined => {
  const stack: Array<{ readonly value: unknown; readonly keys: ReadonlyArray<string | number> }> = [{ value, keys: [] }]
  while (stack.length > 0) {
    const { keys, value: v } = stack.pop()!
    if (typeof v === "string") {
      if (!isWellFormed(v)) return pathOf(keys)
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], keys: [...keys, i] })
    } else if (typeof v === "object" && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        if (!isWellFormed(k)) return pathOf([...keys, k])
        stack.push({ value: child, keys: [...keys, k] })
      }
    }
  }
  return undefined
}

/**
 * Whether the text has a `\u` escape naming a surrogate: only then can its parsed value hold a
 * lone one. A cheap test for hot paths; a false positive (an escaped backslash) costs one walk.
 */
export const mayHoldSurrogates = (text: string): boolean => /\\u[dD][89a-fA-F]/.test(text)

export const illFormedMessage = "must be well-formed Unicode (it holds a lone surrogate)"

/**
 * Parses untrusted JSON text within the limits. `checkStrings: false` leaves the UTF-16 check to
 * the caller, who can then refuse one item of a batch instead of the whole text.
 */
export const parseUntrusted = (
  text: string,
  limits: JsonLimits,
  options: { readonly checkStrings?: boolean } = {}
): Either.Either<unknown, JsonProblem> => {
  const { surrogateEscape, tooDeep } = scan(text, limits.maxDepth)
  if (tooDeep) return Either.left({ path: "", message: `nests deeper than ${limits.maxDepth} levels (the limit)` })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return Either.left({ path: "", message: `is not valid JSON: ${(error as Error).message}` })
  }
  if (surrogateEscape && options.checkStrings !== false) {
    const path = illFormedPath(value)
    if (path !== undefined) return Either.left({ path, message: illFormedMessage })
  }
  return Either.right(value)
}
