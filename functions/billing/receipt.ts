/**
 * A payment's receipt PDF, made once: the first listing renders it (shared/reports'
 * renderReceiptPdf), uploads it to `reports/receipts/<user>/<provider>-<reference>.pdf` and
 * records the path in `private.receipts` (primary key provider + reference); later listings, and
 * a concurrent one that lost the race, use the recorded path.
 */
import type { AuthenticatedUser } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
// The light face: mod.ts would bring the narrative's LLM clients into this bundle.
import { renderReceiptPdf } from "../../shared/reports/receipt_pdf.ts";
import type { BillingDeps } from "./deps.ts";

export interface InvoiceRow {
  id: string;
  provider: string;
  reference: string;
  plan_id: string | null;
  pack_id: string | null;
  amount_minor: number;
  currency: string;
  status: string;
  credits_granted: number;
  hosted_invoice_url: string | null;
  receipt_path: string | null;
  paid_at: string;
}

export async function receiptPath(
  deps: BillingDeps,
  sql: Sql,
  user: AuthenticatedUser,
  row: InvoiceRow,
): Promise<string> {
  if (row.receipt_path) return row.receipt_path;
  const [profile] = await sql<{ full_name: string | null; email: string | null }[]>`
    select full_name, email from public.profiles where id = ${user.id}`;
  const [names] = await sql<{ item: string }[]>`
    select coalesce((select name || ' plan' from public.plans where id = ${row.plan_id}),
                    (select name || ' token pack' from public.token_packs where id = ${row.pack_id}),
                    'Credits') as item`;
  const pdf = await renderReceiptPdf({
    receiptNumber: `${row.provider.slice(0, 2).toUpperCase()}-${row.id.slice(0, 8)}`,
    seller: deps.seller,
    buyer: {
      name: profile?.full_name,
      email: profile?.email ?? user.email,
      gstin: (user.claims as { user_metadata?: { gstin?: string } }).user_metadata?.gstin,
    },
    item: names.item,
    amountMinor: row.amount_minor,
    currency: row.currency,
    provider: row.provider,
    providerPaymentId: row.reference,
    paidAt: new Date(row.paid_at),
    status: row.status,
  });
  const path = `receipts/${user.id}/${row.provider}-${
    row.reference.replace(/[^A-Za-z0-9_-]/g, "_")
  }.pdf`;
  await deps.store.upload("reports", path, pdf, "application/pdf");
  const [stored] = await sql<{ path: string }[]>`
    insert into private.receipts (provider, reference, user_id, path)
    values (${row.provider}, ${row.reference}, ${user.id}, ${path})
    on conflict (provider, reference) do update set provider = excluded.provider
    returning path`;
  return stored.path;
}
