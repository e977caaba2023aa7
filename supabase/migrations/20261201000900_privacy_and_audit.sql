-- Privacy and audit: the audit trail's rules and triggers, the API sign-in record, account
-- deactivation and erasure after the retention window (docs/privacy.md).
--
-- * private.audit_log (platform migration) is append-only: no UPDATE ever, DELETE only of rows
--   older than the retention setting `audit_retention_days` (365) by the retention job
--   (private.prune_audit_log, pg_cron daily). Triggers here write a row for every create, update
--   and delete of companies, members (role changes), invitations, workbenches, their members,
--   files and reports, so no function can forget one; the wallet and tenancy RPCs keep their own
--   rows (credits, clawbacks, ownership hand-overs). Company admins read their company's rows
--   through public.company_audit(); the RLS policies state the same rule on the table.
-- * private.open_request(claims) runs first in every transaction the functions open as a user
--   (shared/db.ts asUser): a deactivated account is refused (PT401), and the API sign-in is
--   recorded at most once per session (the token's session_id) and `audit_sign_in_window_seconds`
--   (3600).
-- * Erasure: public.begin_erasure() stores the hash of a confirmation token; public.request_erasure()
--   with it deactivates the account at once (banned in Auth, refresh tokens revoked, every
--   function refuses its tokens through open_request, no debit reaches the ledger) and sets the
--   erasure due after `erasure_retention_seconds` (30 days). private.restore_account() undoes it
--   within the window. private.run_due_erasures() (pg_cron, every minute) carries out due
--   erasures in bounded steps (private.erase_account_step): each step deletes what is left of one
--   kind, so a run killed half way loses only its own uncommitted step and the next run goes on.
--   The auth.users row stays, scrubbed of email, phone and metadata: the ledger and payments keep
--   pointing at a now anonymous id (kept for accounting).

-- ---------------------------------------------------------------------------------------------
-- Settings.
insert into private.settings (key, value) values
  ('audit_retention_days', '365'),
  ('audit_sign_in_window_seconds', '3600'),
  ('erasure_retention_seconds', '2592000'),
  ('erasure_confirmation_ttl_seconds', '900'),
  ('erasure_step_rows', '5000')
on conflict (key) do nothing;

-- ---------------------------------------------------------------------------------------------
-- The audit trail is append-only. A DELETE passes only for rows past the retention window and
-- only inside the retention job (which sets `private.audit_prune`); an UPDATE never does.
create function private.audit_log_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE'
     and current_setting('private.audit_prune', true) = 'on'
     and old.created_at < now() - make_interval(
           days => private.setting_int('audit_retention_days', 365)) then
    return old;
  end if;
  raise exception 'the audit log is append-only' using errcode = '42501';
end;
$$;
revoke all on function private.audit_log_append_only() from public, anon, authenticated;
create trigger audit_log_append_only before update or delete on private.audit_log
  for each row execute function private.audit_log_append_only();
create trigger audit_log_no_truncate before truncate on private.audit_log
  for each statement execute function private.audit_log_append_only();

-- Who may read which rows (the rule public.company_audit applies; no API role reaches the private
-- schema directly).
alter table private.audit_log enable row level security;
create policy "company admins read their company's rows" on private.audit_log for select
  to authenticated
  using (company_id is not null and public.company_role(company_id) in ('owner', 'admin'));
create policy "users read their own rows" on private.audit_log for select to authenticated
  using (actor = (select auth.uid())::text);
create policy "service role reads all" on private.audit_log for select to service_role
  using (true);
create policy "service role appends" on private.audit_log for insert to service_role
  with check (true);

-- Removes audit rows past the retention window (and stale sign-in marks). Returns the count.
create function private.prune_audit_log() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform set_config('private.audit_prune', 'on', true);
  delete from private.audit_log
   where created_at < now() - make_interval(days => private.setting_int('audit_retention_days', 365));
  get diagnostics v_count = row_count;
  perform set_config('private.audit_prune', 'off', true);
  delete from private.api_sign_ins
   where last_seen < now() - make_interval(
           secs => private.setting_int('audit_sign_in_window_seconds', 3600));
  return v_count;
end;
$$;
revoke all on function private.prune_audit_log() from public, anon, authenticated;
grant execute on function private.prune_audit_log() to service_role;

select cron.schedule('audit-log-prune', '41 3 * * *', $$select private.prune_audit_log()$$);

-- One row per audited change of a tenancy table. TG_ARGV[0] is the entity name. Updates record
-- the names of the changed columns (not their values), role changes the old and new role.
create function private.audit_row_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row jsonb := to_jsonb(coalesce(new, old));
  v_entity text := tg_argv[0];
  v_company uuid;
  v_id text;
  v_action text;
  v_details jsonb := '{}'::jsonb;
begin
  v_id := coalesce(v_row ->> 'id',
                   concat_ws(':', coalesce(v_row ->> 'company_id', v_row ->> 'workbench_id'),
                             v_row ->> 'user_id'));
  if v_entity = 'company' then
    v_company := (v_row ->> 'id')::uuid;
  elsif v_row ? 'company_id' then
    v_company := (v_row ->> 'company_id')::uuid;
  elsif v_row ? 'workbench_id' then
    select w.company_id into v_company from public.workbench w
     where w.id = (v_row ->> 'workbench_id')::uuid;
  end if;
  v_action := v_entity || '.' || case tg_op when 'INSERT' then 'created'
                                            when 'UPDATE' then 'updated' else 'deleted' end;
  if tg_op = 'UPDATE' then
    if (to_jsonb(old) ->> 'role') is distinct from (to_jsonb(new) ->> 'role') then
      v_action := v_entity || '.role_changed';
      v_details := jsonb_build_object('from', to_jsonb(old) ->> 'role',
                                      'to', to_jsonb(new) ->> 'role');
    else
      v_details := jsonb_build_object('changed', (
        select coalesce(jsonb_agg(n.key order by n.key), '[]'::jsonb)
          from jsonb_each(to_jsonb(new)) n
         where n.key <> 'updated_at' and n.value is distinct from (to_jsonb(old) -> n.key)));
    end if;
  elsif v_row ? 'role' then
    v_details := jsonb_build_object('role', v_row ->> 'role');
  end if;
  if v_row ? 'workbench_id' and v_entity <> 'workbench' then
    v_details := v_details || jsonb_build_object('workbench_id', v_row ->> 'workbench_id');
  end if;
  if v_row ? 'user_id' then
    v_details := v_details || jsonb_build_object('user_id', v_row ->> 'user_id');
  end if;
  insert into private.audit_log (action, entity, entity_id, details, company_id)
  values (v_action, v_entity, v_id, v_details, v_company);
  return null;
end;
$$;
revoke all on function private.audit_row_change() from public, anon, authenticated;
grant execute on function private.audit_row_change() to service_role;

create trigger company_audit after insert or delete or update of name on public.company
  for each row execute function private.audit_row_change('company');
create trigger company_members_audit
  after insert or delete or update of role on public.company_members
  for each row execute function private.audit_row_change('company_member');
create trigger company_invitations_audit
  after insert or delete or update of status, role on public.company_invitations
  for each row execute function private.audit_row_change('invitation');
create trigger workbench_audit
  after insert or delete or update of name, description on public.workbench
  for each row execute function private.audit_row_change('workbench');
create trigger workbench_members_audit
  after insert or delete or update of role on public.workbench_members
  for each row execute function private.audit_row_change('workbench_member');
create trigger workbench_files_audit
  after insert or delete or update of file_name on public.workbench_files
  for each row execute function private.audit_row_change('file');
create trigger reports_audit after insert or delete or update of title on public.reports
  for each row execute function private.audit_row_change('report');

-- The audit rows of one company, newest first, for its owners and admins (others: 42501, which
-- the functions answer 404 as for another tenant's company). `p_limit` + 1 rows for paging.
create function public.company_audit(
  p_company_id uuid,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_actor text default null,
  p_action text default null,
  p_limit integer default 50,
  p_offset integer default 0
) returns table (
  id bigint, actor text, action text, entity text, entity_id text, details jsonb, ip text,
  request_id text, created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if coalesce(public.company_role(p_company_id), '') not in ('owner', 'admin') then
    raise exception 'not a company admin' using errcode = '42501';
  end if;
  return query
    select a.id, a.actor, a.action, a.entity, a.entity_id, a.details, a.ip, a.request_id,
           a.created_at
      from private.audit_log a
     where a.company_id = p_company_id
       and (p_from is null or a.created_at >= p_from)
       and (p_to is null or a.created_at < p_to)
       and (p_actor is null or a.actor = p_actor)
       and (p_action is null or a.action = p_action)
     order by a.created_at desc, a.id desc
     limit least(greatest(p_limit, 1), 101) offset greatest(p_offset, 0);
end;
$$;
revoke all on function public.company_audit(uuid, timestamptz, timestamptz, text, text, integer,
  integer) from public, anon;
grant execute on function public.company_audit(uuid, timestamptz, timestamptz, text, text,
  integer, integer) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- API sign-ins: the last time each (user, session) was recorded.
create table private.api_sign_ins (
  user_id uuid not null references auth.users (id) on delete cascade,
  session_key text not null,
  last_seen timestamptz not null default now(),
  primary key (user_id, session_key)
);
revoke all on private.api_sign_ins from public, anon, authenticated;
grant select on private.api_sign_ins to service_role;

-- ---------------------------------------------------------------------------------------------
-- Exports (GET /me/export): one row per requested export; the me function's worker builds the
-- ZIP in steps (`progress` says where it stands) into the private `exports` bucket. Deleting a
-- row queues its ZIP on storage_gc.
insert into storage.buckets (id, name, public, file_size_limit)
values ('exports', 'exports', false, 1073741824)
on conflict (id) do nothing;

create table private.account_exports (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  status text not null default 'queued' check (status in ('queued', 'building', 'ready', 'failed')),
  progress jsonb not null default '{}'::jsonb,
  storage_path text,
  error_message text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  ready_at timestamptz,
  -- A step holds the export until then (a step that died lets the next one take over).
  lease_until timestamptz not null default now(),
  attempts integer not null default 0
);
create index account_exports_user_idx on private.account_exports (user_id, created_at desc);
revoke all on private.account_exports from public, anon, authenticated;
grant select, insert, update, delete on private.account_exports to service_role;

create function private.collect_export_object() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.storage_path is not null then
    perform pgmq.send('storage_gc', jsonb_build_object('bucket', 'exports', 'path', old.storage_path));
  end if;
  return old;
end;
$$;
revoke all on function private.collect_export_object() from public, anon, authenticated;
grant execute on function private.collect_export_object() to service_role;
create trigger account_exports_collect_object after delete on private.account_exports
  for each row execute function private.collect_export_object();

-- GET /me/export: the export under way or made in the last hour, else a new one (audited and
-- kicked). A deactivated account gets PT401.
create function private.start_export(p_user_id uuid) returns setof private.account_exports
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  if private.is_deactivated(p_user_id) then
    raise exception 'account deactivated' using errcode = 'PT401';
  end if;
  perform pg_advisory_xact_lock(hashtext('account_export:' || p_user_id::text));
  select x.id into v_id from private.account_exports x
   where x.user_id = p_user_id
     and (x.status in ('queued', 'building')
          or (x.status = 'ready' and x.ready_at > now() - interval '1 hour'))
   order by x.created_at desc limit 1;
  if v_id is null then
    insert into private.account_exports (user_id) values (p_user_id) returning id into v_id;
    insert into private.audit_log (actor, action, entity, entity_id)
    values (p_user_id::text, 'account.export_requested', 'export', v_id::text);
    perform private.kick_worker('me/export-step');
  end if;
  return query select * from private.account_exports where id = v_id;
end;
$$;
revoke all on function private.start_export(uuid) from public, anon, authenticated;
grant execute on function private.start_export(uuid) to service_role;

-- Kicks the export worker while an export waits for a step.
create function private.redispatch_exports() returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from private.account_exports
              where status in ('queued', 'building') and lease_until <= now()) then
    perform private.kick_worker('me/export-step');
    return true;
  end if;
  return false;
end;
$$;
revoke all on function private.redispatch_exports() from public, anon, authenticated;
grant execute on function private.redispatch_exports() to service_role;

select cron.schedule('export-redispatch', '30 seconds', $$select private.redispatch_exports()$$);

-- ---------------------------------------------------------------------------------------------
-- Erasures: one row per account whose erasure is pending, running or done.
create table private.account_erasures (
  user_id uuid primary key references auth.users (id) on delete cascade,
  state text not null default 'pending' check (state in ('pending', 'erasing', 'erased')),
  requested_at timestamptz not null default now(),
  due_at timestamptz not null,
  erased_at timestamptz,
  -- SHA-256 (hex) of the restore token handed out when the erasure was requested.
  restore_token_hash text not null,
  -- Steps done, and the last failure (a run that failed is retried on the next one).
  steps integer not null default 0,
  last_error text
);
create index account_erasures_due_idx on private.account_erasures (due_at)
  where state <> 'erased';
revoke all on private.account_erasures from public, anon, authenticated;
grant select on private.account_erasures to service_role;

-- The confirmation token's hash between the two DELETE /me calls.
create table private.erasure_confirmations (
  user_id uuid primary key references auth.users (id) on delete cascade,
  token_hash text not null,
  expires_at timestamptz not null
);
revoke all on private.erasure_confirmations from public, anon, authenticated;

-- Whether an account is deactivated (erasure pending, running or done).
create function private.is_deactivated(p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.account_erasures e where e.user_id = p_user_id)
$$;
revoke all on function private.is_deactivated(uuid) from public, anon, authenticated;
grant execute on function private.is_deactivated(uuid) to service_role;

-- The gate at the start of every user transaction of the functions (shared/db.ts asUser).
create function private.open_request(p_claims jsonb) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_key text;
  v_seen timestamptz;
  v_window interval;
begin
  if p_claims ->> 'role' is distinct from 'authenticated'
     or coalesce(p_claims ->> 'sub', '') !~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
    return true;
  end if;
  v_user := (p_claims ->> 'sub')::uuid;
  if private.is_deactivated(v_user) then
    raise exception 'account deactivated' using errcode = 'PT401';
  end if;
  -- A token (it has an expiry); the claims a worker builds for a user's reads have none.
  if not p_claims ? 'exp' then
    return true;
  end if;
  v_key := coalesce(p_claims ->> 'session_id', 'iat:' || coalesce(p_claims ->> 'iat', ''));
  v_window := make_interval(secs => private.setting_int('audit_sign_in_window_seconds', 3600));
  select s.last_seen into v_seen from private.api_sign_ins s
   where s.user_id = v_user and s.session_key = v_key;
  if v_seen is not null and v_seen > now() - v_window then
    return true;
  end if;
  insert into private.api_sign_ins as s (user_id, session_key) values (v_user, v_key)
  on conflict (user_id, session_key) do update set last_seen = now()
   where s.last_seen <= now() - v_window;
  if found then
    insert into private.audit_log (action, entity, entity_id, details)
    values ('auth.sign_in', 'user', v_user::text,
            jsonb_build_object('session_id', p_claims ->> 'session_id'));
  end if;
  return true;
exception
  when foreign_key_violation then
    return true; -- a token of a user that no longer exists: the caller's own checks answer
end;
$$;
revoke all on function private.open_request(jsonb) from public, anon, authenticated;
grant execute on function private.open_request(jsonb) to service_role;

-- No debit reaches the ledger of a deactivated account (whatever path tries).
create function private.refuse_deactivated_debit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.amount < 0 and private.is_deactivated(new.user_id) then
    raise exception 'account deactivated' using errcode = 'PT401';
  end if;
  return new;
end;
$$;
revoke all on function private.refuse_deactivated_debit() from public, anon, authenticated;
create trigger wallet_usage_refuse_deactivated before insert on public.wallet_usage
  for each row execute function private.refuse_deactivated_debit();

-- The last-owner rule for an erasure: the caller may not be the only owner of a company (23514,
-- answered 409 last_owner).
create function private.check_not_last_owner(p_user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (
    select 1 from public.company_members m
     where m.user_id = p_user_id and m.role = 'owner'
       and not exists (select 1 from public.company_members o
                        where o.company_id = m.company_id and o.role = 'owner'
                          and o.user_id <> p_user_id)) then
    raise exception 'last_owner: transfer ownership or delete the company first'
      using errcode = '23514';
  end if;
end;
$$;
revoke all on function private.check_not_last_owner(uuid) from public, anon, authenticated;

-- DELETE /me, first call: keeps the confirmation token's hash; returns when it expires.
create function public.begin_erasure(p_token_hash text) returns timestamptz
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_expires timestamptz := now() + make_interval(
    secs => private.setting_int('erasure_confirmation_ttl_seconds', 900));
begin
  if v_user is null or coalesce(p_token_hash, '') !~ '^[0-9a-f]{64}$' then
    raise exception 'a signed-in user and a token hash are required' using errcode = '22023';
  end if;
  perform private.check_not_last_owner(v_user);
  insert into private.erasure_confirmations (user_id, token_hash, expires_at)
  values (v_user, p_token_hash, v_expires)
  on conflict (user_id) do update set token_hash = excluded.token_hash,
                                      expires_at = excluded.expires_at;
  return v_expires;
end;
$$;
revoke all on function public.begin_erasure(text) from public, anon;
grant execute on function public.begin_erasure(text) to authenticated;

-- DELETE /me with the token: deactivates the account at once; returns when erasure is due.
-- A wrong or expired token: 22023 (400).
create function public.request_erasure(p_token_hash text, p_restore_hash text)
returns timestamptz
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_due timestamptz := now() + make_interval(
    secs => private.setting_int('erasure_retention_seconds', 2592000));
begin
  if coalesce(p_restore_hash, '') !~ '^[0-9a-f]{64}$' then
    raise exception 'a restore token hash is required' using errcode = '22023';
  end if;
  delete from private.erasure_confirmations c
   where c.user_id = v_user and c.token_hash = p_token_hash and c.expires_at > now();
  if not found then
    raise exception 'confirmation token wrong or expired' using errcode = '22023';
  end if;
  perform private.check_not_last_owner(v_user);
  insert into private.account_erasures (user_id, due_at, restore_token_hash)
  values (v_user, v_due, p_restore_hash);
  update auth.users set banned_until = 'infinity' where id = v_user;
  update auth.refresh_tokens set revoked = true where user_id::text = v_user::text;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('account.erasure_requested', 'user', v_user::text, jsonb_build_object('due_at', v_due));
  return v_due;
end;
$$;
revoke all on function public.request_erasure(text, text) from public, anon;
grant execute on function public.request_erasure(text, text) to authenticated;

-- POST /me/restore: undoes a pending erasure within the window. Returns the user id, or null
-- when the token matches no pending erasure still inside its window.
create function private.restore_account(p_restore_hash text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
begin
  delete from private.account_erasures e
   where e.restore_token_hash = p_restore_hash and e.state = 'pending' and e.due_at > now()
  returning e.user_id into v_user;
  if v_user is null then
    return null;
  end if;
  update auth.users set banned_until = null where id = v_user;
  insert into private.audit_log (actor, action, entity, entity_id)
  values (v_user::text, 'account.restored', 'user', v_user::text);
  return v_user;
end;
$$;
revoke all on function private.restore_account(text) from public, anon, authenticated;
grant execute on function private.restore_account(text) to service_role;

-- One bounded step of an erasure: deletes what is left of the next kind of data (at most
-- `p_rows` rows where a kind can be large), and returns true once nothing is left. Every step is
-- "delete what remains", so repeating one after a crash is harmless.
create function private.erase_account_step(p_user_id uuid, p_rows integer default null)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_rows integer := coalesce(p_rows, private.setting_int('erasure_step_rows', 5000));
  v_email text;
  v_workbench uuid;
begin
  -- 1. The personal workbenches' chunks and table rows, in batches (the bulk of an account).
  delete from public.workbench_chunks c
   where c.id in (select c2.id from public.workbench_chunks c2
                   join public.workbench w on w.id = c2.workbench_id
                  where w.company_id is null and w.owner_user_id = p_user_id limit v_rows);
  if found then return false; end if;
  delete from public.workbench_table_rows r
   where r.ctid in (select r2.ctid from public.workbench_table_rows r2
                     join public.workbench w on w.id = r2.workbench_id
                    where w.company_id is null and w.owner_user_id = p_user_id limit v_rows);
  if found then return false; end if;
  -- 2. The personal workbenches, one per step (files, sessions, messages and reports go with
  --    them; their stored objects are queued on storage_gc by the delete triggers).
  select w.id into v_workbench from public.workbench w
   where w.company_id is null and w.owner_user_id = p_user_id limit 1;
  if v_workbench is not null then
    delete from public.workbench where id = v_workbench;
    return false;
  end if;
  -- 3. The caller's own chat sessions (and messages) in company workbenches.
  delete from public.chat_session s
   where s.id in (select s2.id from public.chat_session s2 where s2.user_id = p_user_id
                  limit v_rows);
  if found then return false; end if;
  -- 4. The caller's exports (their ZIPs are queued on storage_gc by the delete trigger).
  delete from private.account_exports x where x.user_id = p_user_id;
  -- 5. Memberships and invitations.
  delete from public.workbench_members where user_id = p_user_id;
  delete from public.company_members where user_id = p_user_id;
  select u.email into v_email from auth.users u where u.id = p_user_id;
  if v_email is not null then
    delete from public.company_invitations where email = lower(v_email) and status = 'pending';
  end if;
  update public.company_invitations set invited_by = null where invited_by = p_user_id;
  -- 6. What names the person: profile, Auth's user row and identities. The ledger, payments and
  --    company data keep the (now anonymous) id.
  update public.profiles set email = null, full_name = null where id = p_user_id;
  update auth.users set email = null, phone = null, encrypted_password = null,
                        raw_user_meta_data = '{}'::jsonb,
                        raw_app_meta_data = jsonb_build_object('erased', true)
   where id = p_user_id;
  if to_regclass('auth.identities') is not null then
    execute 'delete from auth.identities where user_id = $1' using p_user_id;
  end if;
  update private.account_erasures set state = 'erased', erased_at = now()
   where user_id = p_user_id and state <> 'erased';
  if found then
    insert into private.audit_log (actor, action, entity, entity_id)
    values ('erasure-job', 'account.erased', 'user', p_user_id::text);
  end if;
  return true;
end;
$$;
revoke all on function private.erase_account_step(uuid, integer) from public, anon, authenticated;
grant execute on function private.erase_account_step(uuid, integer) to service_role;

-- The pg_cron job: carries out due erasures, at most `p_max_steps` steps per run (each run is
-- one transaction; a run killed half way is rolled back and the next one redoes its steps). A
-- failing account (e.g. it became a company's last owner meanwhile) is recorded and skipped.
create function private.run_due_erasures(p_max_steps integer default 200) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_steps integer := 0;
  v_done boolean;
begin
  for v_user in
    select e.user_id from private.account_erasures e
     where e.state <> 'erased' and e.due_at <= now()
     order by e.due_at
     for update skip locked
  loop
    begin
      update private.account_erasures set state = 'erasing' where user_id = v_user;
      perform private.check_not_last_owner(v_user);
      loop
        exit when v_steps >= p_max_steps;
        v_steps := v_steps + 1;
        v_done := private.erase_account_step(v_user);
        update private.account_erasures set steps = steps + 1, last_error = null
         where user_id = v_user;
        exit when v_done;
      end loop;
    exception when others then
      update private.account_erasures set last_error = sqlerrm where user_id = v_user;
    end;
    exit when v_steps >= p_max_steps;
  end loop;
  return v_steps;
end;
$$;
revoke all on function private.run_due_erasures(integer) from public, anon, authenticated;
grant execute on function private.run_due_erasures(integer) to service_role;

select cron.schedule('account-erasures', '* * * * *', $$select private.run_due_erasures()$$);
