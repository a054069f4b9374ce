/**
 * The cause check's input: the task logs of the nodes where something changed, read since just
 * before the previous poll. Read before anything is told, so every change says why.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Task } from "../domain/Task.js"
import type { ClusterSourceShape } from "../sources/ClusterSource.js"
import type { Evidence } from "./Causes.js"

/** How far back a node's task log is read before the previous poll: long tasks start early. */
const taskLookbackMs = 3_600_000

/** The task logs that can explain what changed on these nodes since `since` (the previous poll). */
export const gatherEvidence = (
  source: ClusterSourceShape,
  acting: string | undefined,
  nodes: ReadonlySet<string>,
  since: number
): Effect.Effect<Evidence> => {
  const taskLog = source.taskLog
  if (taskLog === undefined || nodes.size === 0) return Effect.succeed({ tasks: new Map(), actingUser: acting })
  return Effect.forEach(
    [...nodes],
    (node) =>
      Effect.map(Effect.either(taskLog(node, Math.floor((since - taskLookbackMs) / 1000))), (r) =>
        [node, Either.mapLeft(r, (e) => e.reason)] as [string, Either.Either<ReadonlyArray<Task>, string>]),
    { concurrency: 4 }
  ).pipe(
    Effect.map((entries) => ({ tasks: new Map(entries), actingUser: acting })),
    Effect.withSpan("Causes.evidence", { attributes: { nodes: [...nodes].join(" ") } })
  )
}
