/** The workbenches function's answers, as the API reference documents them (shared/route_doc.ts). */
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

export const WorkbenchRole = z.enum(["owner", "editor", "viewer"]);

export const Workbench = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  owner_user_id: z.uuid().nullable(),
  company_id: z.uuid().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  role: WorkbenchRole.nullable().describe("The caller's effective role"),
  file_count: z.number().int().optional().describe("In lists only"),
});

export const FileStatus = z.enum(["pending", "processing", "indexed", "error"]);

export const WorkbenchFile = z.object({
  id: z.uuid(),
  workbench_id: z.uuid(),
  file_name: z.string(),
  file_type: z.string(),
  mime_type: z.string().nullable(),
  size_bytes: z.number().int(),
  content_hash: z.string().nullable(),
  status: FileStatus,
  error_message: z.string().nullable(),
  page_count: z.number().int().nullable(),
  attempts: z.number().int(),
  chunks_done: z.number().int().nullable(),
  chunks_total: z.number().int().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  indexed_at: Timestamp.nullable(),
  progress: z.number().min(0).max(1),
});

export const UploadedFile = WorkbenchFile.extend({
  duplicate: z.boolean().describe("The workbench already had this content"),
  requeued: z.boolean().optional().describe("A duplicate that had failed, queued again"),
});

export const Uploads = z.object({
  file: z.array(z.file()).min(1).max(20).describe("Repeat the field for several files"),
});

export const IndexingStatus = z.object({
  workbench_id: z.uuid(),
  files: z.number().int(),
  counts: z.record(FileStatus, z.number().int()),
  ready: z.boolean(),
  chunks: z.object({ done: z.number().int(), total: z.number().int() }),
  errors: z.array(z.object({
    file_id: z.uuid(),
    file_name: z.string(),
    error_message: z.string().nullable(),
    updated_at: Timestamp,
  })),
});

export const WorkbenchMember = z.object({
  user_id: z.uuid(),
  email: z.string().nullable(),
  role: WorkbenchRole,
  explicit_role: WorkbenchRole.nullable(),
  company_role: z.string().nullable(),
  is_creator: z.boolean(),
});

export const ExplicitRole = z.object({
  workbench_id: z.uuid(),
  user_id: z.uuid(),
  role: WorkbenchRole,
  created_at: Timestamp,
});
