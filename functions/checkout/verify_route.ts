/**
 * `POST /checkout/verify {razorpay_order_id, razorpay_payment_id, razorpay_signature}` (what
 * Razorpay Checkout's handler receives): the signature must be HMAC-SHA256 of
 * `order_id|payment_id` with the key secret (constant time) for an order of the caller (another
 * user's order is 404). Then the payment is applied by `private.apply_payment`, the same
 * idempotent RPC the webhook uses, and the wallet is returned. A wrong signature changes nothing.
 */
import { z } from "zod";
import { requireUser } from "../../shared/auth.ts";
import { asCaller, httpErrorFromPostgres } from "../../shared/db.ts";
import { HttpError, json, readJson, type Route } from "../../shared/http.ts";
import { isValidPaymentSignature } from "../../shared/payments/mod.ts";
import { type CheckoutDeps, requirePayments } from "./deps.ts";

const Verified = z.object({
  order_id: z.string(),
  payment_id: z.string(),
  status: z.string().optional(),
  plan_id: z.string().optional(),
  credited: z.boolean(),
  credits: z.number(),
  wallet: z.looseObject({}),
});

const VerifyBody = z.object({
  razorpay_order_id: z.string().trim().min(1).max(100),
  razorpay_payment_id: z.string().trim().min(1).max(100),
  razorpay_signature: z.string().trim().min(1).max(256),
});

interface ApplyResult {
  applied: boolean;
  refunded?: boolean;
  balance?: number;
  credits: number;
}

interface WalletRow {
  balance: number;
  plan_id: string | null;
  seats: number;
  chat_inference_counter: number;
}

export function verifyRoute(deps: CheckoutDeps): Route {
  return {
    method: "POST",
    pattern: "/verify",
    doc: {
      summary: "Verify Checkout's signed answer and credit the plan (once)",
      auth: "user",
      body: VerifyBody,
      responses: { 200: { description: "The payment and the wallet", schema: Verified } },
      errors: {
        400: ["invalid_signature"],
        404: ["not_found"],
        409: ["order_already_paid"],
        503: ["payments_not_configured"],
      },
    },
    handler: async (req) => {
      const user = await requireUser(req, deps.verifier);
      const payments = requirePayments(deps);
      const body = await readJson(req, VerifyBody);
      const sql = deps.sql();

      // The caller's own order only (RLS): another user's order does not exist for them.
      const [order] = await asCaller(sql, user.claims, (tx) =>
        tx<{ razorpay_order_id: string }[]>`
          select razorpay_order_id from public.payments
           where razorpay_order_id = ${body.razorpay_order_id}`);
      if (!order) throw new HttpError(404, "not_found", "No such order.");

      const valid = await isValidPaymentSignature(
        order.razorpay_order_id,
        body.razorpay_payment_id,
        body.razorpay_signature,
        payments.keySecret,
      );
      if (!valid) {
        throw new HttpError(400, "invalid_signature", "The payment signature does not match.");
      }

      let result: ApplyResult;
      try {
        [{ result }] = await sql<{ result: ApplyResult }[]>`
          select private.apply_payment(${order.razorpay_order_id}, ${body.razorpay_payment_id})
            as result`;
      } catch (err) {
        if ((err as { code?: string }).code === "23505") {
          throw new HttpError(409, "order_already_paid", "This order was paid by another payment.");
        }
        throw httpErrorFromPostgres(err);
      }
      const [wallet] = await sql<WalletRow[]>`
        select w.balance, w.plan_id, w.seats, coalesce(c.chat_inference_counter, 0)
                 as chat_inference_counter
          from public.wallet w left join public.wallet_counters c on c.user_id = w.user_id
         where w.user_id = (select coalesce(p.company_id, p.user_id) from public.payments p
                             where p.razorpay_order_id = ${order.razorpay_order_id})`;
      const [payment] = await sql<{ status: string; plan_id: string }[]>`
        select status, plan_id from public.payments
         where razorpay_order_id = ${order.razorpay_order_id}`;
      return json({
        order_id: order.razorpay_order_id,
        payment_id: body.razorpay_payment_id,
        status: payment?.status,
        plan_id: payment?.plan_id,
        credited: result.applied,
        credits: result.applied ? result.credits : 0,
        wallet,
      });
    },
  };
}
