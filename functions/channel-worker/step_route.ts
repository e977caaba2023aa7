/**
 * `POST /channel-worker` (service role only): handles up to a batch of queued inbound messages
 * (worker.ts) and answers with what it did.
 */
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import type { ChannelWorkerDeps } from "./deps.ts";
import { processQueue } from "./worker.ts";

export function stepRoute(deps: ChannelWorkerDeps): Route {
  return serviceTaskRoute("/", deps.verifier, () => processQueue(deps));
}
