/**
 * `GET /billing/invoices?limit=&offset=` → `{items, next_offset}`: every captured payment of the
 * caller from either provider (Razorpay orders, Stripe invoices and pack payments), newest first.
 * Each item has `receipt_url`, a short-lived signed URL of its receipt PDF, made on first listing
 * and stored once (receipt.ts), and Stripe's `hosted_invoice_url` when there is one.
 */
import { requireUser } from "../../shared/auth.ts";
import { json, readQuery, type Route } from "../../shared/http.ts";
import { paged, PageQuery } from "../../shared/pagination.ts";
import { type BillingDeps, RECEIPT_URL_TTL_SECONDS } from "./deps.ts";
import { type InvoiceRow, receiptPath } from "./receipt.ts";
import { InvoiceList } from "./schemas.ts";

export function invoicesRoute(deps: BillingDeps): Route {
  return {
    method: "GET",
    pattern: "/invoices",
    doc: {
      summary: "Every captured payment of the caller (both providers), newest first",
      auth: "user",
      query: PageQuery,
      responses: { 200: { description: "A page of invoices", schema: InvoiceList } },
    },
    handler: async (req, ctx) => {
      const user = await requireUser(req, deps.verifier);
      const page = readQuery(ctx.url, PageQuery);
      const sql = deps.sql();
      const rows = await sql<InvoiceRow[]>`
        select * from private.billing_invoices_of(${user.id}, ${page.limit + 1}, ${page.offset})`;
      const result = paged(rows, page);
      const items = await Promise.all(result.items.map(async (row) => {
        const path = await receiptPath(deps, sql, user, row);
        return {
          id: row.id,
          provider: row.provider,
          reference: row.reference,
          plan_id: row.plan_id,
          pack_id: row.pack_id,
          amount: row.amount_minor,
          currency: row.currency,
          status: row.status,
          credits: row.credits_granted,
          paid_at: row.paid_at,
          hosted_invoice_url: row.hosted_invoice_url,
          receipt_url: await deps.store.signedUrl("reports", path, RECEIPT_URL_TTL_SECONDS),
        };
      }));
      return json({ items, next_offset: result.next_offset });
    },
  };
}
