import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { launchBrowser } from "../support/Browser.js"
import { eventually } from "../support/Eventually.js"
import { startVigil } from "../support/Vigil.js"

describe("the API reference at /docs", () => {
  it.scopedLive("renders every group of the OpenAPI document in a real browser, from this server alone", () =>
    Effect.gen(function*() {
      const vigil = yield* startVigil({ VIGIL_SOURCE: "none" })
      const browser = yield* launchBrowser
      const page = yield* Effect.promise(() => browser.newPage())
      const errors: Array<string> = []
      const ownFailures: Array<string> = []
      page.on("pageerror", (e) => errors.push(String(e)))
      page.on("response", (r) => void (r.url().startsWith(vigil.url) && r.status() >= 400 && ownFailures.push(`${r.status()} ${r.url()}`)))
      yield* Effect.promise(() => page.goto(`${vigil.url}/docs`))
      const text = yield* eventually(
        "the reference rendered",
        Effect.promise(() => page.locator("body").innerText()),
        (t) => t.includes("/api/v1/events/stream") && t.includes("/api/v1/silences")
      )
      expect(text).toContain("vigil")
      expect(errors).toEqual([])
      expect(ownFailures).toEqual([])
      const script = yield* Effect.promise(() => fetch(`${vigil.url}/docs/scalar.js`).then(async (r) => ({ status: r.status, type: r.headers.get("content-type"), size: (await r.text()).length })))
      expect(script).toMatchObject({ status: 200, type: "text/javascript; charset=utf-8" })
      expect(script.size).toBeGreaterThan(1_000_000)
    }), 60_000)
})
