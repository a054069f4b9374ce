/** The running version, from package.json so there is one place to bump it (the build inlines it). */
import pkg from "../../package.json" with { type: "json" }

export const version: string = pkg.version
