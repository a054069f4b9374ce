/**
 * Vitest's global setup: brings dist/ up to date once, before any test file runs, so the tests that
 * start vigil as a process (`node dist/main.js`, the `vigil` command) run what the sources say,
 * and no two workers build at the same time.
 */
import { ensureBuilt } from "../../scripts/build.mjs"

export const setup = () => ensureBuilt()
