/**
 * `POST /webhooks/reconcile` (service role only): for orders whose webhook never came. Marks orders
 * past the expiry `expired`, takes a batch of due orders (`private.take_payments_to_reconcile`, see
 * the wallet-and-payments migration), asks Razorpay for each order's payments
 * (`GET /v1/orders/{id}/payments`, four at a time) and applies captured ones through
 * `private.apply_payment`, the RPC the webhook and /checkout/verify use, so nothing is credited
 * twice whichever comes first.
 */
import { z } from "zod";
import { serviceTaskRoute } from "../../shared/auth.ts";
import { HttpError, type Route } from "../../shared/http.ts";
import { log } from "../../shared/log.ts";
import { capturedPaymentsOf, forEachLimited, type OpenOrder } from "./reconcile.ts";
import type { WebhooksDeps } from "./deps.ts";

const CONCURRENCY = 4;
const ReconcileSummary = z.object({
  checked: z.number().int(),
  credited: z.number().int(),
  unpaid: z.number().int(),
  errors: z.number().int(),
});

export function reconcileRoute(deps: WebhooksDeps): Route {
  return serviceTaskRoute("/reconcile", deps.verifier, async (ctx) => {
    const razorpay = deps.razorpay;
    if (!razorpay) {
      throw new HttpError(503, "payments_not_configured", "The Razorpay keys are not set.");
    }
    const sql = deps.sql();
    const orders = await sql<OpenOrder[]>`
        select razorpay_order_id, amount_paise, currency
          from private.take_payments_to_reconcile(
                 private.setting_int('payment_reconcile_batch', 20))`;
    const summary = { checked: orders.length, credited: 0, unpaid: 0, errors: 0 };
    await forEachLimited(orders, CONCURRENCY, async (order) => {
      try {
        const captured = capturedPaymentsOf(
          order,
          await razorpay.orderPayments(order.razorpay_order_id),
        );
        if (captured.length === 0) summary.unpaid++;
        for (const payment of captured) {
          const [{ applied }] = await sql<{ applied: boolean }[]>`
              select (private.apply_payment(${order.razorpay_order_id}, ${payment.id},
                                            ${payment.amount}) ->> 'applied')::boolean as applied`;
          if (applied) summary.credited++;
        }
      } catch (err) {
        summary.errors++;
        log.warn("reconcile order failed", {
          request_id: ctx.requestId,
          order_id: order.razorpay_order_id,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    });
    log.info("payments reconciled", { request_id: ctx.requestId, ...summary });
    return summary;
  }, { summary: "Reconcile open orders whose webhook never came", result: ReconcileSummary });
}
