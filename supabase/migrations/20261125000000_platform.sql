-- Platform: the extensions this project relies on, the `private` schema for internals, the
-- worker queues, and revoke-by-default execute privileges for new functions.
--
-- Extensions are created where the server offers them (always on Supabase). The local platform
-- provides SQL stand-ins with the same names for pgmq, pg_net, pg_cron and vault instead.
-- pgvector is created by the files-and-chunks migration, so that everything before it (the wallet
-- included) applies to a plain Postgres without pgvector.

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
-- so every migration revokes PUBLIC on the functions it creates, and a pgTAP test checks that anon
-- can execute nothing in public.
alter default privileges in schema public revoke execute on functions from anon, authenticated;

-- Worker queues (see shared/queues.ts).
select pgmq.create('file_index');
select pgmq.create('report_jobs');
