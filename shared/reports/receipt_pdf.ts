/**
 * A payment receipt as a PDF (GET /billing/invoices): seller and buyer, the buyer's GSTIN when
 * they set one, what was bought, the amount with its tax lines, and the provider's payment id.
 * Drawn with the reports' pdf-lib and DejaVu fonts (so ₹ shows), one page, text only. Amounts are
 * tax-inclusive: GST 18% on INR payments (the tax line is the part of the total that is tax),
 * none on others.
 */
import { fontkit, PDFDocument, rgb } from "../vendor/mod.ts";
import { decodeBase64 } from "./base64.ts";
import { DEJAVU_SANS_B64, DEJAVU_SANS_BOLD_B64 } from "./fonts.ts";

export interface ReceiptDocument {
  receiptNumber: string;
  seller: { name: string; address: string; gstin?: string };
  buyer: { name?: string | null; email?: string | null; gstin?: string | null };
  item: string;
  /** Minor units (paise, cents), tax included. */
  amountMinor: number;
  currency: string;
  provider: string;
  providerPaymentId: string;
  paidAt: Date;
  status: string;
}

const SIGNS: Record<string, string> = { INR: "₹", USD: "$" };

/** `₹1,499.00` from 149900 paise. */
export function formatMoney(minor: number, currency: string): string {
  const major = (minor / 100).toLocaleString("en-US", {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  return `${SIGNS[currency] ?? currency + " "}${major}`;
}

/** The tax lines of a tax-inclusive amount: GST 18% on INR, none otherwise. */
export function receiptTaxLines(
  minor: number,
  currency: string,
): { label: string; minor: number }[] {
  if (currency !== "INR") return [];
  const net = Math.round(minor / 1.18);
  return [{ label: "GST 18% (included)", minor: minor - net }];
}

function clean(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");
}

export async function renderReceiptPdf(r: ReceiptDocument): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(fontkit);
  // Not subset: the whole font, so the text reads back (pdftotext) with its own characters.
  const font = await doc.embedFont(decodeBase64(DEJAVU_SANS_B64));
  const bold = await doc.embedFont(decodeBase64(DEJAVU_SANS_BOLD_B64));
  doc.setTitle(`Receipt ${r.receiptNumber}`);
  doc.setProducer("Analyst Workbench billing (pdf-lib)");
  doc.setCreationDate(r.paidAt);
  const page = doc.addPage([595.28, 841.89]);
  let y = 800;
  const line = (text: string, size = 10, isBold = false) => {
    page.drawText(clean(text), {
      x: 42,
      y,
      size,
      font: isBold ? bold : font,
      color: rgb(0.1, 0.1, 0.1),
    });
    y -= size + 8;
  };
  line(`Receipt ${r.receiptNumber}`, 18, true);
  line(`Paid ${r.paidAt.toISOString().slice(0, 10)} · ${r.status}`);
  y -= 6;
  line("Seller", 11, true);
  line(r.seller.name);
  line(r.seller.address);
  if (r.seller.gstin) line(`GSTIN ${r.seller.gstin}`);
  y -= 6;
  line("Buyer", 11, true);
  if (r.buyer.name) line(r.buyer.name);
  if (r.buyer.email) line(r.buyer.email);
  if (r.buyer.gstin) line(`GSTIN ${r.buyer.gstin}`);
  y -= 6;
  line("Item", 11, true);
  line(r.item);
  for (const tax of receiptTaxLines(r.amountMinor, r.currency)) {
    line(`${tax.label}: ${formatMoney(tax.minor, r.currency)}`);
  }
  line(`Total: ${formatMoney(r.amountMinor, r.currency)}`, 12, true);
  y -= 6;
  line(`Paid with ${r.provider}: ${r.providerPaymentId}`);
  return await doc.save();
}
