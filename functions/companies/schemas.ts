/** The companies function's answers, as the API reference documents them (shared/route_doc.ts). */
import { z } from "zod";
import { Timestamp } from "../../shared/route_doc.ts";

export const CompanyRole = z.enum(["owner", "admin", "member"]);

export const Company = z.object({
  id: z.uuid(),
  name: z.string(),
  created_by: z.uuid().nullable(),
  created_at: Timestamp,
  updated_at: Timestamp,
  role: CompanyRole.nullable().describe("The caller's role"),
});

export const Member = z.object({
  user_id: z.uuid(),
  email: z.string().nullable(),
  full_name: z.string().nullable(),
  role: CompanyRole,
  joined_at: Timestamp,
});

export const MemberRole = z.object({ company_id: z.uuid(), user_id: z.uuid(), role: CompanyRole });

export const Invitation = z.object({
  id: z.uuid(),
  company_id: z.uuid(),
  email: z.string(),
  role: z.enum(["admin", "member"]),
  status: z.string(),
  created_at: Timestamp,
  expires_at: Timestamp,
});

export const CreatedInvitation = Invitation.extend({
  invite_link: z.string().optional().describe("Only with INVITATION_LINK_IN_RESPONSE=true"),
});

export const ListedInvitation = Invitation.extend({ expired: z.boolean() });

export const AuditEntry = z.object({
  id: z.string().describe("A bigint, as a string"),
  actor: z.string().describe("A user id, or a system actor"),
  action: z.string(),
  entity: z.string(),
  entity_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  request_id: z.string().nullable(),
  created_at: Timestamp,
});
