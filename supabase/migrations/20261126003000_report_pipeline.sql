-- The report pipeline's database side (issue 11).
--
-- * A private `reports` storage bucket for the PDFs (20 MB per object).
-- * `public.reports` gains the computed KPIs (JSON, shown by GET /reports/{id}), the narrative and
--   its source (template or llm), and the step the worker is at (`stage`).
-- * private.create_report: one transaction that remembers the Idempotency-Key with a hash of the
--   request body (the same key with another body raises PT409), charges 1 credit through
--   private.charge_report (insufficient credit raises PT402 and nothing is kept), inserts the
--   report, queues it on pgmq `report_jobs` and kicks `report-worker` through pg_net. Concurrent
--   requests with one key serialise on the key's primary key: the second sees the first's report.
-- * private.fail_report: marks a report `failed` with a readable reason and refunds its credit,
--   once (refund_report is idempotent by the ledger's unique (reason, reference_id)); a PDF already
--   stored for it is queued for removal.
-- * A pg_cron job re-kicks the worker every 10 s while report jobs are visible, as for indexing.
-- * Deleting a report (directly, or by deleting its workbench) queues its PDF on `storage_gc`.

insert into storage.buckets (id, name, public, file_size_limit)
values ('reports', 'reports', false, 20971520)
on conflict (id) do nothing;

alter table public.reports
  add column kpis jsonb,
  add column narrative text,
  add column narrative_source text check (narrative_source in ('template', 'llm')),
  add column stage text not null default 'kpis' check (stage in ('kpis', 'narrative', 'render', 'done'));

create index reports_user_key_idx on public.reports (user_id, idempotency_key);

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
    jsonb_build_object('workbench_id', p_workbench_id, 'report_type', p_report_type));
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
