/**
 * The admin function's answers, as the API reference documents them (shared/route_doc.ts): the
 * jsonb the admin RPCs of supabase/migrations/20261201001000_admin_and_metrics.sql build.
 */
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

export const Tenant = z.object({
  id: z.uuid(),
  kind: z.enum(["company", "user"]),
  name: z.string().nullable(),
  email: z.string().nullable().describe("Personal accounts only"),
  created_at: Timestamp,
  suspended: z.boolean(),
  suspension_reason: z.string().nullable(),
  wallet_user_id: z.uuid().nullable().describe("Whose wallet pays (a company's first owner)"),
  plan_id: z.string().nullable(),
  balance: z.number().nullable(),
  seats: z.number().int().nullable(),
  members: z.number().int().nullable().describe("Companies only"),
  workbenches: z.number().int(),
  files: z.number().int(),
  storage_bytes: z.number(),
  usage_month: z.object({
    credits_spent: z.number(),
    chat_answers: z.number().int(),
    reports: z.number().int(),
  }).describe("Since the first of this month"),
  last_activity_at: Timestamp.nullable(),
});

export const TenantFailures = z.object({
  files: z.array(z.object({
    id: z.uuid(),
    workbench_id: z.uuid(),
    file_name: z.string(),
    file_type: z.string(),
    size_bytes: z.number().int(),
    status: z.literal("error"),
    error_message: z.string().nullable(),
    attempts: z.number().int(),
    updated_at: Timestamp,
  })),
  reports: z.array(z.object({
    id: z.uuid(),
    workbench_id: z.uuid(),
    report_type: z.string(),
    status: z.literal("failed"),
    stage: z.string().nullable(),
    error_message: z.string().nullable(),
    attempts: z.number().int(),
    updated_at: Timestamp,
  })),
}).describe("The newest 100 of each; names and errors only");

export const CreditGrant = z.object({
  applied: z.boolean().describe("false: this reference_id was granted before (nothing added)"),
  balance: z.number(),
  amount: z.number(),
  wallet_user_id: z.uuid(),
});

export const TenantPlan = z.object({
  wallet_user_id: z.uuid(),
  plan_id: z.string().nullable(),
  seats: z.number().int(),
  balance: z.number(),
});

export const Suspension = z.object({
  tenant_id: z.uuid(),
  kind: z.enum(["company", "user"]),
  suspended: z.boolean(),
  changed: z.boolean().describe("false: it already was"),
});

export const AdminPlan = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  price_paise: z.number().int().nullable(),
  currency: z.string(),
  credits: z.number().int(),
  seats: z.number().int(),
  contact_sales: z.boolean(),
  active: z.boolean(),
  sort_order: z.number().int(),
});

export const PlatformRoleChange = z.object({
  user_id: z.uuid(),
  role: z.enum(["global_admin", "support_user"]).nullable().describe("null: revoked"),
});
