/**
 * Headless Chromium driven by playwright-core (which downloads no browser of its own). The browser
 * is the Chromium build that ships inside the `@sparticuz/chromium` npm package, so `npm install`
 * brings it like any other dependency and the tests need nothing installed by hand; `CHROMIUM_PATH`
 * points them at another one. The package's binary and the shared libraries built with it are
 * brotli-compressed; they are unpacked once into the temporary directory. The flags keep the
 * browser off the network this machine does not have.
 */
import Chromium, { inflate } from "@sparticuz/chromium"
import * as Effect from "effect/Effect"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { chromium } from "playwright-core"

const packaged = Effect.promise(async () => {
  const bin = Path.join(Path.dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium")), "..", "..", "bin")
  const executablePath = await Chromium.executablePath(bin)
  // NSS and the other libraries the binary was linked against, for machines that lack them.
  const libraries = Path.join(await inflate(Path.join(bin, "al2023.tar.br")), "lib")
  const inherited = process.env.LD_LIBRARY_PATH
  return { executablePath, env: { LD_LIBRARY_PATH: inherited ? `${libraries}:${inherited}` : libraries } }
})

const browserBinary = process.env.CHROMIUM_PATH
  ? Effect.succeed({ executablePath: process.env.CHROMIUM_PATH, env: {} })
  : packaged

export const launchBrowser = Effect.acquireRelease(
  Effect.flatMap(browserBinary, ({ env, executablePath }) =>
    Effect.promise(() =>
      chromium.launch({
        executablePath,
        env: { ...process.env, ...env },
        headless: true,
        args: [
          "--headless=shell",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync"
        ]
      })
    )),
  (browser) => Effect.promise(() => browser.close())
)
