/**
 * `vigil token create|list|revoke`: token administration on the server's own store (the same
 * `VIGIL_DATA_DIR` or `VIGIL_DATABASE_URL`), for the first admin token and for operators on the
 * host. Open streams of a token revoked here end within `VIGIL_AUTH_RECHECK`.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Tokens } from "../access/Tokens.js"
import type { Scope } from "../domain/Token.js"
import { SqlLive } from "../store/SqlLive.js"
import { StoreConfig } from "../store/StoreConfig.js"

export const TokenCliLive = Tokens.Default.pipe(Layer.provide(SqlLive), Layer.provide(StoreConfig.layer))

const usage = `usage: vigil token create --user NAME --scopes read,ingest,admin [--label TEXT] [--expires "30 days"]
       vigil token list
       vigil token revoke ID`

const scopeNames = new Set(["read", "ingest", "admin"])

/** Runs a token command; returns the text to print, or fails with a usage message. */
export const tokenCommand = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const tokens = yield* Tokens
    const [command, ...rest] = args
    const option = (name: string) => {
      const i = rest.indexOf(`--${name}`)
      return i >= 0 ? rest[i + 1] : undefined
    }
    switch (command) {
      case "create": {
        const user = option("user")
        const scopes = (option("scopes") ?? "").split(",").filter((s) => s.length > 0)
        if (!user || scopes.length === 0 || scopes.some((s) => !scopeNames.has(s))) {
          return yield* Effect.fail(`create needs --user and --scopes from read, ingest, admin\n${usage}`)
        }
        const expires = option("expires")
        let expiresAt: number | undefined
        if (expires !== undefined) {
          const d = Duration.decodeUnknown(expires)
          if (d._tag === "None") return yield* Effect.fail(`--expires "${expires}" is not a duration (e.g. "30 days")`)
          expiresAt = (yield* Clock.currentTimeMillis) + Duration.toMillis(d.value)
        }
        const created = yield* tokens.create({ user, scopes: scopes as Array<Scope>, label: option("label"), expiresAt })
        return `${created.token}\n(id ${created.info.id}, user ${user}, scopes ${scopes.join(",")}${
          expiresAt ? `, expires ${new Date(expiresAt).toISOString()}` : ""
        }) — shown once, store it now`
      }
      case "list": {
        const all = yield* tokens.list
        const now = yield* Clock.currentTimeMillis
        return all.map((t) =>
          `${t.id}  ${t.user.padEnd(16)} ${t.scopes.join(",").padEnd(18)} ${t.revokedAt ? "revoked" : t.expiresAt && Date.parse(t.expiresAt) < now ? "expired" : "active "}  ${t.label ?? ""}`
        ).join("\n") || "no tokens"
      }
      case "revoke": {
        const id = rest[0]
        if (id === undefined) return yield* Effect.fail(usage)
        const revoked = yield* tokens.revoke(id)
        return revoked === undefined ? yield* Effect.fail(`no active token ${id}`) : `revoked ${id} (${revoked.user})`
      }
      default:
        return yield* Effect.fail(usage)
    }
  })
