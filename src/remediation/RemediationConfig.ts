/**
 * Remediation's configuration: the policy (autonomy cap, guardrails, runbooks). `VIGIL_*`
 * variables like the rest, checked at start. (Silences live in the store, notification channels
 * with notifications.)
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { commaList, jsonConfig } from "../domain/ConfigFormats.js"
import { AutonomyLevel, defaultPolicy, Runbook } from "./Policy.js"

const durationMs = (name: string, fallback: Duration.Duration) =>
  Config.duration(name).pipe(Config.withDefault(fallback), Config.map(Duration.toMillis))

export const remediationConfig = Config.all({
  enabled: Config.boolean("VIGIL_REMEDIATION").pipe(Config.withDefault(true)),
  cap: Config.integer("VIGIL_AUTONOMY_CAP").pipe(
    Config.validate({ message: "must be 0 (observe) to 4 (act silently)", validation: (n) => n >= 0 && n <= 4 }),
    Config.withDefault(defaultPolicy.cap)
  ),
  maxAttempts: Config.integer("VIGIL_REMEDIATION_MAX_ATTEMPTS").pipe(Config.withDefault(defaultPolicy.maxAttempts)),
  windowMs: durationMs("VIGIL_REMEDIATION_WINDOW", Duration.millis(defaultPolicy.windowMs)),
  cooldownMs: durationMs("VIGIL_REMEDIATION_COOLDOWN", Duration.millis(defaultPolicy.cooldownMs)),
  maxConcurrent: Config.integer("VIGIL_REMEDIATION_MAX_CONCURRENT").pipe(Config.withDefault(defaultPolicy.maxConcurrent)),
  maxConcurrentPerNode: Config.integer("VIGIL_REMEDIATION_MAX_PER_NODE").pipe(Config.withDefault(defaultPolicy.maxConcurrentPerNode)),
  protectedVmids: commaList("VIGIL_PROTECTED_VMIDS").pipe(
    Config.mapOrFail((xs) =>
      xs.every((x) => /^\d+$/.test(x))
        ? Either.right(xs.map(Number))
        : Either.left(ConfigError.InvalidData(["VIGIL_PROTECTED_VMIDS"], "must be comma-separated vmids"))
    )
  ),
  protectedTags: commaList("VIGIL_PROTECTED_TAGS", defaultPolicy.protectedTags.join(",")),
  proposalTtlMs: durationMs("VIGIL_PROPOSAL_TTL", Duration.millis(defaultPolicy.proposalTtlMs)),
  runbooks: jsonConfig("VIGIL_RUNBOOKS", Schema.Array(Runbook)).pipe(Config.option),
  interval: Config.duration("VIGIL_REMEDIATION_INTERVAL").pipe(Config.withDefault(Duration.seconds(5))),
  verifyTimeout: Config.duration("VIGIL_REMEDIATION_VERIFY_TIMEOUT").pipe(Config.withDefault(Duration.seconds(90)))
}).pipe(
  Config.map((c) => ({
      enabled: c.enabled,
      interval: c.interval,
      verifyTimeout: c.verifyTimeout,
      policy: {
        ...defaultPolicy,
        cap: c.cap as AutonomyLevel,
        maxAttempts: c.maxAttempts,
        windowMs: c.windowMs,
        cooldownMs: c.cooldownMs,
        maxConcurrent: c.maxConcurrent,
        maxConcurrentPerNode: c.maxConcurrentPerNode,
        protectedVmids: c.protectedVmids,
        protectedTags: c.protectedTags,
        proposalTtlMs: c.proposalTtlMs,
        runbooks: Option.getOrElse(c.runbooks, () => defaultPolicy.runbooks)
      }
  }))
)

export class RemediationConfig extends Context.Tag("vigil/RemediationConfig")<
  RemediationConfig,
  Config.Config.Success<typeof remediationConfig>
>() {
  static readonly layer = Layer.effect(RemediationConfig, remediationConfig)
}

