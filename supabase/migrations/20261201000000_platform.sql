-- Platform: what every other area builds on.
--
-- * The extensions this project relies on, created where the server offers them (always on
--   Supabase); the local platform provides SQL stand-ins with the same names for pgmq, pg_net,
--   pg_cron and vault instead. pgvector is created by the files-and-indexing migration.
-- * The `private` schema for internals: never exposed to the API roles, used by the service role.
-- * Revoke-by-default EXECUTE on new functions in public; every function below carries its own
--   grants.
-- * The worker queues (pgmq; see shared/queues.ts), `private.settings` (the values the database
--   reads, changed with an update of a row, no deploy), the audit trail (grown by the privacy migration), the Idempotency-Key store
--   (a retry replays the first answer), and the two helpers that reach the workers:
--   private.kick_worker (one pg_net POST) and private.redispatch (the pg_cron re-kick while a
--   queue has visible messages).
--
-- The workers are reached at <project_url>/functions/v1/<name> with the service key, both read
-- from Vault (secrets `project_url` and `service_role_key`; see the deploying docs). pg_net gives
-- up on a kick after `worker_kick_timeout_ms` (150,000 ms by default: a worker step may run for
-- the function's whole wall-clock budget, 150 s on the free plan, 400 s on paid plans). The kick
-- sends `service_role_key` both as `Authorization: Bearer` and as `apikey`: it is the project's
-- service key in whatever form the project has (an `sb_secret_…` key, which is not a JWT, or the
-- legacy service_role JWT), and the workers compare it in constant time (shared/auth.ts). The
-- functions run with verify_jwt = false (config.toml).

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pgmq') then
    create extension if not exists pgmq;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    create extension if not exists pg_cron;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'supabase_vault') then
    create extension if not exists supabase_vault;
  end if;
end
$$;

create schema if not exists private;
revoke all on schema private from public, anon, authenticated;
grant usage on schema private to service_role;

-- Supabase grants anon/authenticated EXECUTE on new functions in public: not here. The PUBLIC
-- default is global (a global revoke would also strip extensions such as pgvector created later),
-- so every function revokes PUBLIC right under its definition, and a pgTAP test checks that anon
-- can execute nothing in public.
alter default privileges in schema public revoke execute on functions from anon, authenticated;

-- Worker queues (see shared/queues.ts): files to index, reports to make, stored objects to remove.
select pgmq.create('file_index');
select pgmq.create('report_jobs');
select pgmq.create('storage_gc');

-- Settings the database reads; each area inserts its own rows (`on conflict do nothing`, so a
-- value changed on a live project stays).
create table private.settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
revoke all on private.settings from public, anon, authenticated;
grant select, insert, update on private.settings to service_role;

create function private.setting_int(p_key text, p_default integer) returns integer
language sql stable
set search_path = ''
as $$
  select coalesce((select (s.value #>> '{}')::integer from private.settings s where s.key = p_key),
                  p_default)
$$;
revoke all on function private.setting_int(text, integer) from public, anon, authenticated;
grant execute on function private.setting_int(text, integer) to service_role;

-- The audit trail: who did what to which resource, when, from which IP and request id. Every
-- writer uses the same plain `insert into private.audit_log (action, entity, entity_id, details)`;
-- the actor, IP and request id come from the request's settings (`request.jwt.claims`, and
-- `request.headers` as PostgREST sets them and shared/db.ts asUser sets them for the functions).
-- Append-only (private.audit_log_append_only in the privacy migration, which also adds the
-- triggers, the read RPC and the retention job; docs/privacy.md).
create table private.audit_log (
  id bigint generated always as identity primary key,
  actor text not null default coalesce(
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', current_user),
  action text not null,
  entity text not null,
  entity_id text,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  -- The company the row belongs to (company admins read these rows), when there is one.
  company_id uuid,
  ip text default nullif(btrim(split_part(coalesce(
    nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-forwarded-for',
    nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-real-ip', ''), ',', 1)), ''),
  request_id text default coalesce(
    nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-request-id',
    nullif(current_setting('request.headers', true), '')::jsonb ->> 'sb-request-id')
);
create index audit_log_entity_idx on private.audit_log (entity, entity_id);
create index audit_log_company_idx on private.audit_log (company_id, created_at desc)
  where company_id is not null;
create index audit_log_actor_idx on private.audit_log (actor, created_at desc);
create index audit_log_created_idx on private.audit_log (created_at);
revoke all on private.audit_log from public, anon, authenticated;
grant select, insert on private.audit_log to service_role;

-- Responses remembered per (user, scope, Idempotency-Key) so that a retry replays the first answer.
create table private.idempotency_keys (
  user_id uuid not null references auth.users (id) on delete cascade,
  scope text not null,
  key text not null check (char_length(key) between 1 and 255),
  request_hash text not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '24 hours',
  primary key (user_id, scope, key)
);
revoke all on private.idempotency_keys from public, anon, authenticated;
grant select, insert, update, delete on private.idempotency_keys to service_role;

-- Keeps updated_at current on the tables that have it.
create function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
revoke all on function private.touch_updated_at() from public, anon, authenticated;
grant execute on function private.touch_updated_at() to service_role;

-- Names and text that users write, checked in the database as shared/validation.ts checks them at
-- the functions' boundary, so a write through the Data API (which skips the functions) obeys the
-- same rules. Domains, not functions: a CHECK that called a function would need EXECUTE for the
-- writer, and no client role executes anything in `private`.
-- A name (one line): no control characters, NFC, trimmed, 1..200 characters, and something
-- visible once spaces, format characters (zero-width, bidi) and fillers are removed.
create domain private.name_text as text check (
  value !~ '[\u0001-\u001f\u007f-\u009f]'
  and value is nfc normalized
  and value !~ '^[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]'
  and value !~ '[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]$'
  and char_length(value) between 1 and 200
  and regexp_replace(value,
        '[\s\u0001-\u001f\u007f-\u00a0\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891'
        '\u08e2\u115f\u1160\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064'
        '\u2066-\u206f\u2800\u3000\u3164\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd'
        '\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001'
        '\U000e0020-\U000e007f]', '', 'g') <> '');
-- Free text (may span lines): no control characters but tab, line feed and carriage return, NFC,
-- trimmed. Columns add their length limit.
create domain private.free_text as text check (
  value !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]'
  and value is nfc normalized
  and value !~ '^[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]'
  and value !~ '[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]$');

-- How long pg_net waits for a worker's answer (see above).
insert into private.settings (key, value) values ('worker_kick_timeout_ms', '150000')
on conflict (key) do nothing;

-- POSTs to a worker function; returns the pg_net request id, or null (with a warning) when the
-- Vault secrets are not configured.
create function private.kick_worker(p_function text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
begin
  select s.decrypted_secret into v_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into v_key from vault.decrypted_secrets s
   where s.name = 'service_role_key';
  if v_url is null or v_key is null then
    raise warning 'vault secrets project_url/service_role_key are missing; % not kicked', p_function;
    return null;
  end if;
  return net.http_post(
    url := rtrim(v_url, '/') || '/functions/v1/' || p_function,
    body := p_body,
    headers := jsonb_build_object('Content-Type', 'application/json',
                                  'Authorization', 'Bearer ' || v_key,
                                  'apikey', v_key),
    timeout_milliseconds := private.setting_int('worker_kick_timeout_ms', 150000)
  );
end;
$$;
revoke all on function private.kick_worker(text, jsonb) from public, anon, authenticated;
grant execute on function private.kick_worker(text, jsonb) to service_role;

-- Sets (creates or replaces) the two Vault secrets kick_worker reads: the deploy step, repeated
-- after a key rotation. Run by the project's owner (`postgres`, the SQL editor); no API role may.
create function private.set_worker_secrets(p_project_url text, p_service_key text) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_name text;
  v_value text;
begin
  if coalesce(pg_catalog.btrim(p_project_url), '') !~ '^https?://[^/]+' then
    raise exception 'project_url must be the project''s http(s) URL' using errcode = '22023';
  end if;
  if coalesce(pg_catalog.btrim(p_service_key), '') = '' then
    raise exception 'the service key is empty' using errcode = '22023';
  end if;
  foreach v_name in array array['project_url', 'service_role_key'] loop
    v_value := pg_catalog.btrim(case v_name when 'project_url' then p_project_url
                                            else p_service_key end);
    perform vault.update_secret(s.id, v_value) from vault.secrets s where s.name = v_name;
    if not found then
      perform vault.create_secret(v_value, v_name);
    end if;
  end loop;
end;
$$;
revoke all on function private.set_worker_secrets(text, text)
  from public, anon, authenticated, service_role;

-- Kicks `p_function` when queue `p_queue` has a visible message. Returns whether it kicked.
create function private.redispatch(p_queue text, p_function text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_visible boolean;
begin
  execute format('select exists (select 1 from pgmq.%I where vt <= clock_timestamp())',
                 'q_' || p_queue)
    into v_visible;
  if v_visible then
    perform private.kick_worker(p_function, jsonb_build_object('queue', p_queue));
  end if;
  return v_visible;
end;
$$;
revoke all on function private.redispatch(text, text) from public, anon, authenticated;
grant execute on function private.redispatch(text, text) to service_role;
