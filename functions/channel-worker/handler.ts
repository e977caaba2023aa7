/**
 * The `channel-worker` function: called by the database (pg_net) with the service role key;
 * answers the queued WhatsApp messages of the channels (docs/channels.md).
 *
 * - step_route.ts: `POST /channel-worker` (service role only)
 * - worker.ts: the queue, the send intent and the retries
 * - answer.ts: the answer (retrieval and the model as chat uses them, citations as lines)
 * - deps.ts: what it needs, and `channelWorkerDepsFromEnv()` for index.ts
 */
import { router } from "../../shared/http.ts";
import type { ChannelWorkerDeps } from "./deps.ts";
import { stepRoute } from "./step_route.ts";

export function createChannelWorkerHandler(deps: ChannelWorkerDeps) {
  return router([stepRoute(deps)]);
}
