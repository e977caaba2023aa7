/**
 * `POST /channel-worker` (service role only): handles up to a batch of queued inbound messages
 * (worker.ts) and answers with what it did.
 */
import { serviceTaskRoute } from "../../shared/auth.ts";
import type { Route } from "../../shared/http.ts";
import type { ChannelWorkerDeps } from "./deps.ts";
import { processQueue } from "./worker.ts";
import { z } from "zod";

const QueueStep = z.object({
  handled: z.number().int().describe("Messages read from the queue"),
  outcomes: z.array(z.string()).describe("What became of each"),
});

export function stepRoute(deps: ChannelWorkerDeps): Route {
  return serviceTaskRoute("/", deps.verifier, () => processQueue(deps), {
    summary: "Answer a batch of queued inbound channel messages",
    result: QueueStep,
  });
}
