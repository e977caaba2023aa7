/**
 * The `channels` function: WhatsApp channels through ManyChat (docs/channels.md).
 *
 * - channel_routes.ts: `POST /channels`, `GET /channels?company_id=`, `PATCH /channels/{id}`,
 *   `POST /channels/{id}/rotate-secret`, `DELETE /channels/{id}` (company admins; members list),
 *   `GET /channels/{id}/messages`, `GET /channels/{id}/status`,
 *   `DELETE /channels/{id}/subscribers/{subscriber}` (erase one subscriber, admins)
 * - inbound_route.ts: `POST /channels/manychat/{channel_id}`, ManyChat's External Request (no JWT:
 *   the channel's shared secret), answered at once with the acknowledgement
 * - secret.ts: the inbound secret (generated, hashed, compared in constant time)
 * - deps.ts: what the routes need, and `channelsDepsFromEnv()` for index.ts
 */
import { router } from "../../shared/http.ts";
import { channelRoutes } from "./channel_routes.ts";
import type { ChannelsDeps } from "./deps.ts";
import { inboundRoute } from "./inbound_route.ts";

export function createChannelsHandler(deps: ChannelsDeps) {
  return router([inboundRoute(deps), ...channelRoutes(deps)]);
}
