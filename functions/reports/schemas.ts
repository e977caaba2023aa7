/** The reports function's answers, as the API reference documents them (shared/route_doc.ts). */
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

export const Report = z.object({
  id: z.uuid(),
  workbench_id: z.uuid(),
  user_id: z.uuid(),
  report_type: z.string(),
  title: z.string(),
  notes: z.string().nullable(),
  status: z.enum(["queued", "processing", "ready", "failed"]),
  error: z.string().nullable(),
  cost_credits: z.number(),
  attempts: z.number().int(),
  narrative_source: z.string().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: Timestamp.nullable(),
});

export const ReportDetail = Report.extend({
  kpis: z.unknown().optional(),
  narrative: z.string().nullable().optional(),
  download_url: z.string().optional().describe("When ready: a signed URL (a PDF, attachment)"),
  download_expires_at: Timestamp.optional(),
});
