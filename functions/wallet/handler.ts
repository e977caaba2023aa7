/** The `wallet` function: `GET /wallet` (wallet_route.ts), the caller's own wallet. */
import { router } from "../../shared/http.ts";
import type { WalletDeps } from "./deps.ts";
import { walletRoute } from "./wallet_route.ts";

export function createWalletHandler(deps: WalletDeps) {
  return router([walletRoute(deps)]);
}
