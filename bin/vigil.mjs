#!/usr/bin/env node
// The `vigil` command, run from the compiled build. In a checkout (the sources are here), the build
// is brought up to date first, so what runs is always what the sources say.
import { existsSync } from "node:fs"

if (existsSync(new URL("../src/main.ts", import.meta.url))) {
  const { ensureBuilt } = await import("../scripts/build.mjs")
  await ensureBuilt()
}
await import("../dist/cli.js")
