/**
 * Headless Chromium driven by playwright-core (which downloads no browser of its own). The browser
 * is the Chromium build that ships inside the `@sparticuz/chromium` npm package, so `npm install`
 * brings it like any other dependency and the tests need nothing installed by hand; `CHROMIUM_PATH`
 * points them at another one. The package's binary and the shared libraries built with it (NSS
 * and others a machine may lack) are brotli-compressed: they are unpacked once per package
 * version into the temporary directory, renamed into place whole so a concurrent or interrupted
 * run never sees half a file. The flags keep the browser off the network this machine does not have.
 */
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import * as Path from "node:path"
import { pipeline } from "node:stream/promises"
import { createBrotliDecompress } from "node:zlib"
import { chromium } from "playwright-core"

// The package's entry is build/esm/index.js; its compressed files are in bin/ at its root.
const packageDir = Path.resolve(Path.dirname(createRequire(import.meta.url).resolve("@sparticuz/chromium")), "..", "..")

const unpack = async (archive: string, target: string, tar: boolean) => {
  if (existsSync(target)) return target
  const partial = `${target}.${process.pid}`
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(partial, { mode: 0o700 }))
  if (tar) {
    const dir = `${partial}.d`
    mkdirSync(dir, { recursive: true })
    execFileSync("tar", ["-xf", partial, "-C", dir])
    rmSync(partial)
    renameSync(dir, target)
  } else {
    renameSync(partial, target)
  }
  return target
}

const packaged = Effect.promise(async () => {
  const { version } = JSON.parse(readFileSync(Path.join(packageDir, "package.json"), "utf8")) as { version: string }
  const home = Path.join(tmpdir(), `vigil-chromium-${version}`)
  mkdirSync(home, { recursive: true })
  const bin = Path.join(packageDir, "bin")
  const executablePath = await unpack(Path.join(bin, "chromium.br"), Path.join(home, "chromium"), false)
  const libraries = Path.join(await unpack(Path.join(bin, "al2023.tar.br"), Path.join(home, "al2023"), true), "lib")
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
