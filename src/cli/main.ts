/**
 * The `vigil` command: `vigil serve` (the server, as npm start), `vigil tail …` (follow the
 * stream), `vigil token …` (API tokens), `vigil doctor [--send-test]` (check a setup), `vigil sim`
 * (the Proxmox VE simulator).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { doctor, renderFinding } from "./Doctor.js"
import { parseTailArgs, tail } from "./Tail.js"
import { TokenCliLive, tokenCommand } from "./Token.js"

const [command, ...args] = process.argv.slice(2)

switch (command) {
  case "tail": {
    const options = parseTailArgs(args, process.env)
    if (typeof options === "string") {
      process.stderr.write(options + "\n")
      process.exit(2)
    }
    NodeRuntime.runMain(tail(options).pipe(Effect.provide(FetchHttpClient.layer)), { disableErrorReporting: false })
    break
  }
  case "token": {
    NodeRuntime.runMain(
      tokenCommand(args).pipe(
        Effect.flatMap((text) => Effect.sync(() => process.stdout.write(text + "\n"))),
        Effect.catchAll((error) =>
          Effect.sync(() => {
            process.stderr.write((typeof error === "string" ? error : String(error)) + "\n")
            process.exitCode = 2
          })
        ),
        Effect.provide(TokenCliLive)
      )
    )
    break
  }
  case "doctor": {
    const unknown = args.filter((a) => a !== "--send-test")
    if (unknown.length > 0) {
      process.stderr.write(`unknown argument ${unknown[0]}\nusage: vigil doctor [--send-test]\n`)
      process.exit(2)
    }
    const report = doctor({ sendTest: args.includes("--send-test") }, (f) => Effect.sync(() => process.stdout.write(renderFinding(f) + "\n")))
    NodeRuntime.runMain(
      report.pipe(Effect.flatMap((passed) => Effect.sync(() => (process.exitCode = passed ? 0 : 1)))),
      { disableErrorReporting: false }
    )
    break
  }
  case "sim":
    await import("../sim/main.js")
    break
  case "serve":
  case undefined:
    await import("../main.js").then((m) => m.runServer())
    break
  default:
    process.stderr.write(`unknown command ${command}; try: vigil serve, vigil tail --help, vigil token, vigil doctor, vigil sim\n`)
    process.exit(2)
}
