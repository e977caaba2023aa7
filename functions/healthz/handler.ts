import { json, router } from "../../shared/http.ts";

/** `GET /healthz`: liveness only; touches nothing else. */
export const healthzHandler = router([
  {
    method: "GET",
    pattern: "/",
    handler: () => json({ status: "ok", time: new Date().toISOString() }),
  },
]);
