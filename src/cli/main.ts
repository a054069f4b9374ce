/**
 * The `vigil` command: `vigil tail …` (follow the stream), `vigil token …` (API tokens),
 * `vigil serve` (the server, as npm start).
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
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
  case "serve":
  case undefined:
    await import("../main.js").then((m) => m.runServer())
    break
  default:
    process.stderr.write(`unknown command ${command}; try: vigil tail --help, vigil token, vigil serve\n`)
    process.exit(2)
}
