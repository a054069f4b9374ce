/**
 * The shape of the code, checked on every run: each folder of src/ imports only from the layers
 * below it, and the sources keep the rules a newcomer relies on (time from Clock, no `any`,
 * modules a reader can hold in their head).
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import * as Path from "node:path"

const src = Path.join(import.meta.dirname, "..", "..", "src")

/**
 * What each folder may import, besides itself. domain ← store ← bus ← monitor, remediation,
 * notify, producers, access ← http ← main; the API definition needs only the domain, so the SDK can use it.
 * telemetry (the instruments things are counted on) sits just above the domain, for everyone.
 */
export const layers: Record<string, ReadonlyArray<string>> = {
  domain: [],
  telemetry: ["domain"],
  api: ["domain"],
  store: ["domain", "telemetry"],
  sources: ["domain"],
  sim: ["domain"],
  bus: ["domain", "telemetry", "store"],
  scale: ["domain", "telemetry", "store"],
  monitor: ["domain", "telemetry", "store", "bus", "scale", "sources"],
  producers: ["domain", "telemetry", "store", "bus", "scale"],
  access: ["domain", "telemetry", "api", "store", "bus"],
  remediation: ["domain", "telemetry", "store", "bus", "scale", "sources", "monitor"],
  notify: ["domain", "telemetry", "store", "bus", "scale", "sources", "monitor"],
  http: ["domain", "telemetry", "api", "store", "bus", "scale", "sources", "monitor", "producers", "access", "remediation", "notify"],
  client: ["domain", "api"],
  cli: ["domain", "telemetry", "api", "store", "bus", "scale", "sources", "monitor", "producers", "access", "remediation", "notify", "http", "sim", "client", "main"],
  main: ["domain", "telemetry", "api", "store", "bus", "scale", "sources", "monitor", "producers", "access", "remediation", "notify", "http", "sim"]
}

const files = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = Path.join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : []
  })

const layerOf = (file: string) => {
  const rel = Path.relative(src, file)
  return rel.includes(Path.sep) ? rel.split(Path.sep)[0]! : "main"
}

/** What a module imports from src/ (package.json, the one file outside it, is data every layer may read). */
const importsOf = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)]
    .map((m) => Path.resolve(Path.dirname(file), m[1]!))
    .filter((target) => target !== Path.resolve(src, "..", "package.json"))

describe("the architecture", () => {
  const all = files(src)

  it("every folder of src/ imports only from the layers below it", () => {
    const wrong: Array<string> = []
    for (const file of all) {
      const from = layerOf(file)
      const allowed = layers[from]
      if (allowed === undefined) {
        wrong.push(`${Path.relative(src, file)}: folder ${from} has no layer`)
        continue
      }
      for (const target of importsOf(file)) {
        const to = layerOf(target)
        if (to !== from && !allowed.includes(to)) wrong.push(`${Path.relative(src, file)} (${from}) imports ${Path.relative(src, target)} (${to})`)
      }
    }
    expect(wrong).toEqual([])
  })

  it("time comes from Clock: Date.now() only in the one module that gives programs outside Effect a clock", () => {
    const offenders = all.filter((f) => /Date\.now\(\)/.test(readFileSync(f, "utf8"))).map((f) => Path.relative(src, f))
    expect(offenders).toEqual(["domain/WallClock.ts"])
  })

  it("no `any`, and no module over 300 lines", () => {
    const anys = all.filter((f) => /(:\s*any\b|\bas any\b|<any>|\bany\[\])/.test(readFileSync(f, "utf8"))).map((f) => Path.relative(src, f))
    expect(anys).toEqual([])
    const long = all.filter((f) => readFileSync(f, "utf8").split("\n").length > 300).map((f) => Path.relative(src, f))
    expect(long).toEqual([])
  })
})
