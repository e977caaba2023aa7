/** The billing function's answers, for the API reference (docs/openapi.json). */
import { z } from "zod";
import { listOf, Timestamp } from "../../shared/route_doc.ts";

export const Invoice = z.object({
  id: z.string(),
  provider: z.enum(["razorpay", "stripe"]),
  reference: z.string().describe("The provider's payment, order or invoice id"),
  plan_id: z.string().nullable(),
  pack_id: z.string().nullable(),
  amount: z.number().int().describe("In the currency's minor unit (paise, cents)"),
  currency: z.string(),
  status: z.string(),
  credits: z.number().int().nullable(),
  paid_at: Timestamp.nullable(),
  hosted_invoice_url: z.string().nullable().describe("Stripe's hosted invoice page, if any"),
  receipt_url: z.string().describe("A short-lived signed URL of the receipt PDF"),
});
export const InvoiceList = listOf(Invoice);

export const Usage = z.object({
  plan_id: z.string(),
  period: z.object({ from: Timestamp, to: Timestamp, month_start: Timestamp }),
  limits: z.array(z.object({
    limit: z.string(),
    max: z.number().int().describe("-1: unlimited"),
    usage: z.number().int(),
  })).nullable(),
  credits: z.array(z.object({ day: z.string(), reason: z.string(), credits: z.number() })),
  spent: z.number(),
});

export const Portal = z.object({ url: z.string(), customer: z.string() });
