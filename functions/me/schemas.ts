/** The me function's answers, as the API reference documents them (shared/route_doc.ts). */
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

export const ExportStatus = z.enum(["queued", "building", "ready", "failed"]);

export const ExportStarted = z.object({
  id: z.uuid(),
  status: ExportStatus,
  created_at: Timestamp,
});

export const ExportState = z.object({
  id: z.uuid(),
  status: ExportStatus,
  created_at: Timestamp,
  ready_at: Timestamp.nullable(),
  error: z.string().nullable().optional().describe("When failed"),
  download_url: z.string().optional().describe("When ready: a signed URL of the ZIP"),
  expires_in: z.number().int().optional().describe("Seconds the download_url lasts"),
});

export const ErasureConfirmation = z.object({
  confirmation_token: z.string().describe("Send it back in DELETE /me to deactivate"),
  expires_at: Timestamp,
});

export const Deactivated = z.object({
  status: z.literal("deactivated"),
  erasure_due_at: Timestamp,
  restore_token: z.string().describe("POST /me/restore with it undoes this until erasure_due_at"),
});

export const Restored = z.object({ status: z.literal("restored") });

/** What one `POST /me/export-step` did (export_builder.ts `runExportStep()`). */
export const ExportStep = z.object({
  idle: z.literal(true).optional().describe("No export needed a step"),
  export_id: z.uuid().optional(),
  status: z.literal("ready").optional(),
  stage: z.string().optional().describe("The next stage of the export"),
  error: z.literal(true).optional().describe("The step failed (retried until attempts run out)"),
});
