/**
 * Reconciliation's rule for one order: which of the payments Razorpay reports for it are captured
 * payments of exactly the order's amount and currency (those are applied; anything else is left to
 * a person).
 */
import type { RazorpayPayment } from "../../shared/payments/mod.ts";

export interface OpenOrder {
  razorpay_order_id: string;
  amount_paise: number;
  currency: string;
}

export function capturedPaymentsOf(order: OpenOrder, payments: RazorpayPayment[]) {
  return payments.filter((p) =>
    p.status === "captured" && p.amount === order.amount_paise && p.currency === order.currency &&
    (p.order_id ?? order.razorpay_order_id) === order.razorpay_order_id
  );
}

/** Runs `fn` over `items` with at most `limit` at a time; resolves when all have settled. */
export async function forEachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
