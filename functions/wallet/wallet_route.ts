/**
 * `GET /wallet?limit=&offset=&company_id=` → the caller's balance, plan, seats, chat answer
 * counter, and their latest ledger rows (newest first, paged); with `company_id`, the company's
 * wallet instead (it pays for the usage on the company's workbenches, docs/billing.md). Read as
 * the caller: RLS shows only their own wallet and the wallets of companies they are a member of,
 * so anyone else's company answers 404.
 */
import { requireUser } from "../../shared/auth.ts";
import { asCaller } from "../../shared/db.ts";
import { HttpError, json, readQuery, type Route } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import type { WalletDeps } from "./deps.ts";
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

const Wallet = z.object({
  balance: z.number(),
  plan: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
  seats: z.number().int(),
  chat_inference_counter: z.number().int(),
  updated_at: Timestamp,
  usage: z.array(z.object({
    id: z.uuid(),
    amount: z.number(),
    balance_after: z.number(),
    reason: z.string(),
    reference_id: z.string().nullable(),
    metadata: z.unknown(),
    created_at: Timestamp,
  })).describe("A page of ledger rows, newest first"),
  next_offset: z.number().int().nullable(),
});

const WalletQuery = PageQuery.extend({
  company_id: z.uuid().optional().describe(
    "A company the caller is a member of: its wallet instead of the caller's",
  ),
});

interface WalletRow {
  balance: number;
  seats: number;
  plan_id: string | null;
  plan_name: string | null;
  chat_inference_counter: number;
  updated_at: string;
}

interface UsageRow {
  id: string;
  amount: number;
  balance_after: number;
  reason: string;
  reference_id: string;
  metadata: Record<string, unknown>;
  created_at: string;
}

export function walletRoute(deps: WalletDeps): Route {
  return {
    method: "GET",
    pattern: "/",
    doc: {
      summary:
        "The caller's (or a company's) balance, plan, seats, counter and a page of the ledger",
      auth: "user",
      query: WalletQuery,
      responses: { 200: { description: "The wallet", schema: Wallet } },
      errors: { 404: ["not_found"] },
    },
    handler: async (req, ctx) => {
      const user = await requireUser(req, deps.verifier);
      const q = readQuery(ctx.url, WalletQuery);
      const walletId = q.company_id ?? user.id;
      const { wallet, usage } = await asCaller(deps.sql(), user.claims, async (tx) => ({
        wallet: (await tx<WalletRow[]>`
          select w.balance, w.seats, w.plan_id, p.name as plan_name,
                 coalesce(c.chat_inference_counter, 0) as chat_inference_counter, w.updated_at
            from public.wallet w
            left join public.plans p on p.id = w.plan_id
            left join public.wallet_counters c on c.user_id = w.user_id
           where w.user_id = ${walletId}`)[0],
        usage: await tx<UsageRow[]>`
          select id, amount, balance_after, reason, reference_id, metadata, created_at
            from public.wallet_usage
           where user_id = ${walletId}
           order by created_at desc, id desc
           limit ${q.limit + 1} offset ${q.offset}`,
      }));
      if (!wallet) throw new HttpError(404, "not_found", "No such wallet for this user.");
      const { items, next_offset } = paged([...usage], q);
      return json({
        balance: wallet.balance,
        plan: wallet.plan_id ? { id: wallet.plan_id, name: wallet.plan_name } : null,
        seats: wallet.seats,
        chat_inference_counter: wallet.chat_inference_counter,
        updated_at: wallet.updated_at,
        usage: items,
        next_offset,
      });
    },
  };
}
