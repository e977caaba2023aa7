-- Reports: the rows, the PDFs' bucket, and the report pipeline's database side.
--
-- A report row is created by private.create_report (called by the reports function with the
-- service role): one transaction that remembers the Idempotency-Key with a hash of the request
-- body (the same key with another body raises PT409), charges 1 credit through
-- private.charge_report (insufficient credit raises PT402 and nothing is kept), inserts the
-- report, queues it on pgmq `report_jobs` and kicks `report-worker` through pg_net. Concurrent
-- requests with one key serialise on the key's primary key: the second sees the first's report.
-- Workbench members can read their workbench's reports: the computed KPIs (shown by
-- GET /reports/{id}), the narrative and its source (template or llm), and the step the worker is
-- at (`stage`).
--
-- * private.fail_report: marks a report `failed` with a readable reason and refunds its credit,
--   once (refund_report is idempotent by the ledger's unique (reason, reference_id)); a PDF already
--   stored for it is queued for removal.
-- * A pg_cron job re-kicks the worker every 10 s while report jobs are visible, as for indexing.
-- * Deleting a report (directly, or by deleting its workbench) queues its PDF on `storage_gc`.
-- * A report deleted before it was made gives its credit back: a report still `queued` or
--   `processing` when its row goes was charged and will never be made, so a before-delete trigger
--   refunds it through private.refund_report (idempotent per charge). A report already refunded
--   (failed) or finished (ready) is left alone; when the user itself is being deleted (auth.users
--   cascade) there is no wallet to credit and nothing is done; a report without a charge (rows
--   written by hand) is deleted without a refund.

create table public.reports (
  id uuid primary key default gen_random_uuid(),
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  report_type text not null check (char_length(report_type) between 1 and 100),
  title text not null check (char_length(title) between 1 and 200),
  notes text check (char_length(notes) <= 5000),
  status text not null default 'queued' check (status in ('queued', 'processing', 'ready', 'failed')),
  storage_path text,
  cost_credits integer not null default 1 check (cost_credits >= 0),
  idempotency_key text not null,
  error_message text,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  kpis jsonb,
  narrative text,
  narrative_source text check (narrative_source in ('template', 'llm')),
  stage text not null default 'kpis' check (stage in ('kpis', 'narrative', 'render', 'done')),
  unique (user_id, idempotency_key),
  check (status <> 'ready' or storage_path is not null),
  check (status <> 'failed' or error_message is not null)
);
create index reports_workbench_idx on public.reports (workbench_id, created_at desc);
create index reports_user_key_idx on public.reports (user_id, idempotency_key);

create trigger reports_touch before update on public.reports
  for each row execute function private.touch_updated_at();

revoke all on public.reports from anon, authenticated;
grant select on public.reports to authenticated;
alter table public.reports enable row level security;
create policy "members see reports" on public.reports for select to authenticated
  using ((select public.workbench_role(workbench_id)) is not null);

-- The PDFs (20 MB per object).
insert into storage.buckets (id, name, public, file_size_limit)
values ('reports', 'reports', false, 20971520)
on conflict (id) do nothing;

-- Remembers the Idempotency-Key, charges, inserts, queues and kicks (see the header). Returns the
-- report row as JSON.
create function private.create_report(
  p_user_id uuid,
  p_workbench_id uuid,
  p_report_type text,
  p_title text,
  p_notes text,
  p_idempotency_key text,
  p_request_hash text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_existing private.idempotency_keys;
  v_report_id uuid;
begin
  insert into private.idempotency_keys (user_id, scope, key, request_hash)
  values (p_user_id, 'reports', p_idempotency_key, p_request_hash)
  on conflict (user_id, scope, key) do nothing;
  if not found then
    select * into v_existing from private.idempotency_keys k
     where k.user_id = p_user_id and k.scope = 'reports' and k.key = p_idempotency_key;
    if v_existing.request_hash <> p_request_hash then
      raise exception 'this Idempotency-Key was used with another request body'
        using errcode = 'PT409';
    end if;
    return jsonb_build_object('report_id', v_existing.response ->> 'report_id', 'replayed', true);
  end if;

  perform private.charge_report(p_user_id, p_idempotency_key, 1,
    jsonb_build_object('workbench_id', p_workbench_id, 'report_type', p_report_type),
    p_workbench_id);
  insert into public.reports (workbench_id, user_id, report_type, title, notes, idempotency_key)
  values (p_workbench_id, p_user_id, p_report_type, p_title, p_notes, p_idempotency_key)
  returning id into v_report_id;
  update private.idempotency_keys
     set status_code = 202, response = jsonb_build_object('report_id', v_report_id)
   where user_id = p_user_id and scope = 'reports' and key = p_idempotency_key;
  perform pgmq.send('report_jobs', jsonb_build_object('report_id', v_report_id));
  perform private.kick_worker('report-worker', jsonb_build_object('queue', 'report_jobs'));
  return jsonb_build_object('report_id', v_report_id, 'replayed', false);
end;
$$;
revoke all on function private.create_report(uuid, uuid, text, text, text, text, text)
  from public, anon, authenticated;
grant execute on function private.create_report(uuid, uuid, text, text, text, text, text)
  to service_role;

-- Marks a queued or processing report failed and refunds its credit. Returns whether it changed it.
create function private.fail_report(p_report_id uuid, p_message text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_report public.reports;
begin
  update public.reports
     set status = 'failed', error_message = left(p_message, 2000), completed_at = now(),
         storage_path = null
   where id = p_report_id and status in ('queued', 'processing')
  returning * into v_report;
  if not found then
    return false;
  end if;
  perform private.refund_report(v_report.user_id, v_report.idempotency_key);
  return true;
end;
$$;
revoke all on function private.fail_report(uuid, text) from public, anon, authenticated;
grant execute on function private.fail_report(uuid, text) to service_role;

-- A PDF whose row goes (deleted, or its path cleared by a failure) is removed by storage_gc.
create function private.collect_report_object() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.storage_path is not null
     and (tg_op = 'DELETE' or new.storage_path is distinct from old.storage_path) then
    perform pgmq.send('storage_gc',
      jsonb_build_object('bucket', 'reports', 'path', old.storage_path));
  end if;
  return null;
end;
$$;
revoke all on function private.collect_report_object() from public, anon, authenticated;
create trigger reports_collect_object after delete or update of storage_path on public.reports
  for each row execute function private.collect_report_object();

select cron.schedule('report-worker-redispatch', '10 seconds',
  $$select private.redispatch('report_jobs', 'report-worker')$$);

-- Refunds a report deleted before it was made (see the header).
create function private.refund_deleted_report() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.status in ('queued', 'processing')
     and exists (select 1 from auth.users u where u.id = old.user_id) then
    begin
      perform private.refund_report(old.user_id, old.idempotency_key);
    exception when no_data_found then
      -- No charge for this key, or no wallet: nothing to give back.
      null;
    end;
  end if;
  return old;
end;
$$;
revoke all on function private.refund_deleted_report() from public, anon, authenticated;
create trigger reports_refund_on_delete before delete on public.reports
  for each row execute function private.refund_deleted_report();
