/**
 * Builds an export (private.account_exports) one bounded step at a time:
 *
 * 1. `json`: one JSON file per section of EXPORT_SECTIONS (one section per step), read AS THE USER (shared/db.ts asUser:
 *    row level security applies, so nothing another user's RLS hides can appear) and filtered to
 *    what is the user's own;
 * 2. `files`: the user's own uploaded files, as many per step as fit in `exportStepBytes`;
 * 3. `finish`: the ZIP's central directory, then the parts streamed into one object
 *    `<user>/<export>/export.zip` in the private exports bucket; the parts are removed, the export
 *    is `ready` and audited (`account.exported`).
 *
 * Each step's part is stored before the progress that names it is saved, so a step that dies is
 * redone by the next one (the part is overwritten). Another area adds an entry to
 * EXPORT_SECTIONS (as Stripe invoices and WhatsApp channel messages did); nothing else changes.
 */
import { asUser, type Sql, type Tx } from "../../shared/db.ts";
import { log } from "../../shared/log.ts";
import { safeObjectName, WORKBENCH_BUCKET } from "../../shared/storage.ts";
import { EXPORTS_BUCKET, type MeDeps } from "./deps.ts";
import { zipEnd, type ZipEntry, zipPart } from "./zip_parts.ts";

/** One JSON file of the export: its name and the rows, read as the user. */
export interface ExportSection {
  file: string;
  rows: (tx: Tx, userId: string) => Promise<unknown>;
}

export const EXPORT_SECTIONS: ExportSection[] = [
  {
    file: "profile.json",
    rows: (tx, uid) =>
      tx`select p.id, p.email, p.full_name, p.created_at, p.updated_at
           from public.profiles p where p.id = ${uid}`,
  },
  {
    file: "companies.json",
    rows: (tx, uid) =>
      tx`select c.id, c.name, m.role, m.created_at as joined_at
           from public.company_members m join public.company c on c.id = m.company_id
          where m.user_id = ${uid} order by m.created_at`,
  },
  {
    file: "workbenches.json",
    rows: async (tx, uid) => ({
      owned: [
        ...await tx`select id, name, description, company_id, created_at, updated_at
                      from public.workbench where owner_user_id = ${uid} order by created_at`,
      ],
      memberships: [
        ...await tx`select workbench_id, role, created_at from public.workbench_members
                     where user_id = ${uid} order by created_at`,
      ],
    }),
  },
  {
    file: "files.json",
    rows: (tx, uid) =>
      tx`select f.id, f.workbench_id, f.file_name, f.file_type, f.mime_type, f.size_bytes,
                f.status, f.page_count, f.created_at, f.indexed_at,
                f.uploaded_by = ${uid} as uploaded_by_you
           from public.workbench_files f join public.workbench w on w.id = f.workbench_id
          where w.owner_user_id = ${uid} or f.uploaded_by = ${uid}
          order by f.created_at, f.id`,
  },
  {
    file: "chat_sessions.json",
    rows: (tx, uid) =>
      tx`select s.id, s.workbench_id, s.title, s.status, s.created_at, s.last_message_at,
                coalesce((select jsonb_agg(jsonb_build_object(
                  'id', m.id, 'role', m.role, 'content', m.content, 'sources', m.sources,
                  'warnings', m.warnings, 'model', m.model, 'status', m.status,
                  'created_at', m.created_at) order by m.created_at, m.id)
                  from public.message m where m.session_id = s.id), '[]'::jsonb) as messages
           from public.chat_session s where s.user_id = ${uid} order by s.created_at`,
  },
  {
    file: "reports.json",
    rows: (tx, uid) =>
      tx`select id, workbench_id, report_type, title, notes, status, cost_credits, kpis,
                narrative, created_at, completed_at
           from public.reports where user_id = ${uid} order by created_at`,
  },
  {
    file: "wallet.json",
    rows: async (tx, uid) => ({
      wallet: (await tx`select balance, plan_id, seats, created_at, updated_at
                          from public.wallet where user_id = ${uid}`)[0] ?? null,
      ledger: [
        ...await tx`select amount, balance_after, reason, reference_id, metadata, created_at
                      from public.wallet_usage where user_id = ${uid}
                     order by created_at, id`,
      ],
    }),
  },
  {
    file: "payments.json",
    rows: (tx, uid) =>
      tx`select id, plan_id, razorpay_order_id, razorpay_payment_id, amount_paise, currency,
                status, credits_granted, seats_granted, created_at, paid_at, refunded_at, receipt
           from public.payments where user_id = ${uid} order by created_at`,
  },
  {
    file: "invoices.json",
    rows: async (tx, uid) => ({
      stripe_invoices: [
        ...await tx`select id, provider, reference, plan_id, pack_id, amount_minor, currency,
                           status, credits_granted, hosted_invoice_url, period_start, period_end,
                           paid_at, refunded_at
                      from public.billing_invoices where user_id = ${uid}
                     order by paid_at, id`,
      ],
      subscriptions: [
        ...await tx`select id, provider, plan_id, status, current_period_start,
                           current_period_end, cancel_at_period_end, pending_plan_id, created_at
                      from public.subscriptions where user_id = ${uid} order by created_at`,
      ],
    }),
  },
  {
    file: "invitations.json",
    rows: (tx) => tx`select * from public.my_company_invitations()`,
  },
  {
    // WhatsApp channels of the companies the user belongs to, and their messages, as members see
    // them (row level security; phone numbers masked). Their own channels' settings, no secret.
    file: "channel_messages.json",
    rows: (tx) =>
      tx`select c.id as channel_id, c.company_id, c.name, c.workbench_id,
                coalesce((select jsonb_agg(jsonb_build_object(
                  'id', m.id, 'direction', m.direction, 'status', m.status, 'text', m.text,
                  'subscriber_id', s.subscriber_id, 'subscriber_phone', s.phone_masked,
                  'created_at', m.created_at) order by m.created_at, m.id)
                  from public.channel_messages m
                  join public.channel_subscribers s on s.id = m.subscriber_ref
                 where m.channel_id = c.id), '[]'::jsonb) as messages
           from public.channels c order by c.created_at, c.id`,
  },
];

export interface ExportProgress {
  stage: "json" | "files" | "finish";
  parts: number;
  offset: number;
  entries: ZipEntry[];
  /** The next section of EXPORT_SECTIONS (stage `json`). */
  section?: number;
  /** The last file copied (stage `files`). */
  cursor?: string;
}

interface ClaimedExport {
  id: string;
  user_id: string;
  progress: Partial<ExportProgress>;
}

const userClaims = (uid: string) => ({ role: "authenticated" as const, sub: uid });
const partPath = (x: ClaimedExport, n: number) => `${x.user_id}/${x.id}/part-${n}`;

/**
 * Runs one step of the next export that needs one (or nothing). Returns what it did. A failing
 * step fails the export after 3 tries (its error is kept; the user asks again).
 */
export async function runExportStep(deps: MeDeps): Promise<Record<string, unknown>> {
  const sql = deps.sql();
  const [x] = await sql<ClaimedExport[]>`
    update private.account_exports set status = 'building', updated_at = now(),
           lease_until = now() + interval '120 seconds', attempts = attempts + 1
     where id = (select id from private.account_exports
                  where status in ('queued', 'building') and lease_until <= now()
                  order by created_at limit 1 for update skip locked)
    returning id, user_id, progress`;
  if (!x) return { idle: true };
  const p: ExportProgress = {
    stage: x.progress.stage ?? "json",
    parts: x.progress.parts ?? 0,
    offset: x.progress.offset ?? 0,
    entries: x.progress.entries ?? [],
    section: x.progress.section,
    cursor: x.progress.cursor,
  };
  try {
    const next = await step(deps, sql, x, p);
    if (next === "ready") return { export_id: x.id, status: "ready" };
    await sql`update private.account_exports
                 set progress = ${sql.json(next as never)}, lease_until = now(), attempts = 0
               where id = ${x.id}`;
    await sql`select private.kick_worker('me/export-step')`;
    return { export_id: x.id, stage: next.stage };
  } catch (err) {
    log.error("export step failed", { export_id: x.id, error: String(err) });
    await sql`update private.account_exports
                 set status = case when attempts >= 3 then 'failed' else status end,
                     error_message = ${String(err).slice(0, 500)}, lease_until = now()
               where id = ${x.id}`;
    return { export_id: x.id, error: true };
  }
}

async function putPart(deps: MeDeps, x: ClaimedExport, p: ExportProgress, bytes: Uint8Array) {
  await deps.store.upload(EXPORTS_BUCKET, partPath(x, p.parts), bytes, "application/octet-stream");
}

async function step(
  deps: MeDeps,
  sql: Sql,
  x: ClaimedExport,
  p: ExportProgress,
): Promise<ExportProgress | "ready"> {
  if (p.stage === "json") {
    // One section per step, so a long history does not crowd one request.
    const index = p.section ?? 0;
    const section = EXPORT_SECTIONS[index];
    if (!section) return { ...p, stage: "files", section: undefined };
    const rows = await asUser(sql, userClaims(x.user_id), (tx) => section.rows(tx, x.user_id));
    const data = JSON.stringify(Array.isArray(rows) ? [...rows] : rows, null, 2);
    const part = zipPart([{ name: section.file, data: new TextEncoder().encode(data) }], p.offset);
    await putPart(deps, x, p, part.bytes);
    return {
      stage: "json",
      section: index + 1,
      parts: p.parts + 1,
      offset: p.offset + part.bytes.length,
      entries: [...p.entries, ...part.entries],
    };
  }
  if (p.stage === "files") {
    const rows = await asUser(
      sql,
      userClaims(x.user_id),
      (tx) =>
        tx<
          {
            id: string;
            workbench_id: string;
            file_name: string;
            storage_path: string;
            size_bytes: number;
          }[]
        >`
          select id, workbench_id, file_name, storage_path, size_bytes
            from public.workbench_files
           where uploaded_by = ${x.user_id} and storage_path is not null
             and id > ${p.cursor ?? "00000000-0000-0000-0000-000000000000"}
           order by id limit 100`,
    );
    if (rows.length === 0) return { ...p, stage: "finish" };
    const batch: { name: string; data: Uint8Array }[] = [];
    let bytes = 0;
    let cursor = p.cursor;
    for (const f of rows) {
      if (batch.length > 0 && bytes + Number(f.size_bytes) > deps.exportStepBytes) break;
      const data = await deps.store.download(WORKBENCH_BUCKET, f.storage_path);
      batch.push({ name: `files/${f.workbench_id}/${f.id}-${safeObjectName(f.file_name)}`, data });
      bytes += data.length;
      cursor = f.id;
    }
    const part = zipPart(batch, p.offset);
    await putPart(deps, x, p, part.bytes);
    return {
      stage: "files",
      parts: p.parts + 1,
      offset: p.offset + part.bytes.length,
      entries: [...p.entries, ...part.entries],
      cursor,
    };
  }
  // finish: the central directory, then one object streamed from the parts.
  const end = zipEnd(p.entries, p.offset);
  await putPart(deps, x, p, end);
  const count = p.parts + 1;
  let n = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (n >= count) return controller.close();
      controller.enqueue(await deps.store.download(EXPORTS_BUCKET, partPath(x, n++)));
    },
  });
  const path = `${x.user_id}/${x.id}/export.zip`;
  await deps.store.upload(EXPORTS_BUCKET, path, stream, "application/zip");
  await deps.store.remove(EXPORTS_BUCKET, Array.from({ length: count }, (_, i) => partPath(x, i)));
  await sql.begin(async (tx) => {
    await tx`update private.account_exports
                set status = 'ready', storage_path = ${path}, ready_at = now(), progress = '{}'
              where id = ${x.id}`;
    await tx`insert into private.audit_log (actor, action, entity, entity_id, details)
             values (${x.user_id}, 'account.exported', 'export', ${x.id},
                     ${sql.json({ entries: p.entries.length, bytes: p.offset } as never)})`;
  });
  return "ready";
}
