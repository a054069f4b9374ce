/** The running version, read from package.json so there is one place to bump it. */
import { createRequire } from "node:module"

export const version: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version
