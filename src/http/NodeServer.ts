/**
 * The Node HTTP server object itself, as a service, so that shutdown can stop it accepting and
 * close lingering connections before the platform's own finalizer waits on them.
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Http from "node:http"

export class NodeServer extends Context.Tag("vigil/NodeServer")<NodeServer, Http.Server>() {
  static readonly layer = Layer.sync(NodeServer, () => Http.createServer())
}
