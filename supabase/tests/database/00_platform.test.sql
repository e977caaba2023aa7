-- Platform baseline: extensions, the private schema's privileges, auth helpers, worker queues,
-- the rule that every table in public has row level security, and what the client roles may touch
-- at all (table privileges, the functions they may execute, SECURITY DEFINER hygiene).
begin;
create extension if not exists pgtap with schema extensions;
select plan(21);

select has_extension('vector', 'pgvector is installed');
select has_schema('private', 'the private schema exists');
select schema_privs_are('private', 'anon', array[]::text[], 'anon has no access to private');
select schema_privs_are('private', 'authenticated', array[]::text[],
  'authenticated has no access to private');
select ok(has_schema_privilege('service_role', 'private', 'usage'), 'service_role can use private');

------------------------------------------------------------------ auth helpers
select tests.create_supabase_user('alice');
select set_config('request.jwt.claims',
  json_build_object('sub', tests.get_supabase_uid('alice'), 'role', 'authenticated')::text, true);
select is(auth.uid(), tests.get_supabase_uid('alice'), 'auth.uid() reads the JWT sub');
select is(auth.role(), 'authenticated', 'auth.role() reads the JWT role');

------------------------------------------------------------------ queues and RLS
select results_eq(
  $$ select queue_name::text from pgmq.list_queues()
     where queue_name in ('file_index', 'report_jobs') order by 1 $$,
  array['file_index', 'report_jobs'],
  'the worker queues exist'
);

select is_empty(
  $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity $$,
  'every table in public has row level security enabled'
);

------------------------------------------------------------------ what client roles may touch
select is_empty($$
  select c.relname, p.priv from pg_class c join pg_namespace n on n.oid = c.relnamespace,
    unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                 'TRIGGER']) p(priv)
  where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')
    and has_table_privilege('anon', c.oid, p.priv)
    and not (c.relname in ('plans', 'prices', 'token_packs') and p.priv = 'SELECT') $$,
  'anon holds no privilege on any public table but reading the catalog (plans, prices, packs)');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')
    and (has_table_privilege('authenticated', c.oid, 'TRUNCATE')
         or has_table_privilege('authenticated', c.oid, 'REFERENCES')
         or has_table_privilege('authenticated', c.oid, 'TRIGGER')) $$,
  'authenticated cannot truncate, reference or trigger on any public table');
select is_empty($$
  select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'private'
    and (has_function_privilege('anon', p.oid, 'EXECUTE')
         or has_function_privilege('authenticated', p.oid, 'EXECUTE')) $$,
  'no client role can execute a private function');
select is_empty($$
  select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'EXECUTE') $$,
  'anon can execute no function in public');
select is(
  (select string_agg(p.proname::text, ',' order by p.proname::text)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and has_function_privilege('authenticated', p.oid, 'EXECUTE')),
  'accept_company_invitation,begin_erasure,can_grant_workbench_role,can_manage_workbench,'
  'company_audit,company_member_list,'
  'company_role,company_visible,decline_company_invitation,has_workbench_role,invite_to_company,'
  'is_company_member,my_company_invitations,readable_workbench_ids,request_erasure,'
  'search_workbench_chunks,workbench_member_list,workbench_role,workbench_text_candidates',
  'authenticated can execute only the membership checks, invitation RPCs, the search, the '
  'company audit trail and the erasure requests in public');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private') and p.prosecdef
    and not coalesce(p.proconfig @> array['search_path=""'], false) $$,
  'every SECURITY DEFINER function sets search_path to empty');

-- The deploy step that sets the Vault secrets kick_worker reads: creates, then replaces, trimmed.
select private.set_worker_secrets('https://a.example.co', 'key-one');
select private.set_worker_secrets(' https://b.example.co/ ', ' key-two ');
select is((select array_agg(name || '=' || decrypted_secret order by name)
             from vault.decrypted_secrets where name in ('project_url', 'service_role_key')),
  array['project_url=https://b.example.co/', 'service_role_key=key-two'],
  'set_worker_secrets creates the two Vault secrets once and replaces them after');
select throws_ok($$ select private.set_worker_secrets('https://b.example.co', ' ') $$, '22023',
  'the service key is empty', 'set_worker_secrets refuses an empty key');
select ok(not has_function_privilege('service_role', 'private.set_worker_secrets(text, text)',
  'execute'), 'no API role may set the worker secrets');

-- pg_cron's run history: a daily job deletes runs older than cron_run_details_keep_days.
select isnt_empty($$ select 1 from cron.job where jobname = 'cron-run-details-prune'
  and command like '%private.prune_cron_run_details()%' $$,
  'a cron job prunes cron.job_run_details');
insert into cron.job_run_details (jobid, command, status, start_time, end_time) values
  (-1, 'old', 'succeeded', now() - interval '8 days', now() - interval '8 days'),
  (-1, 'never ended', 'failed', now() - interval '9 days', null),
  (-1, 'recent', 'succeeded', now() - interval '6 days', now() - interval '6 days');
select private.prune_cron_run_details();
select is((select array_agg(command order by command) from cron.job_run_details where jobid = -1),
  array['recent'], 'runs that ended (or started and never ended) over 7 days ago are deleted');
update private.settings set value = '3' where key = 'cron_run_details_keep_days';
select private.prune_cron_run_details();
select is_empty($$ select 1 from cron.job_run_details where jobid = -1 $$,
  'the days kept are the cron_run_details_keep_days setting');

select * from finish();
rollback;
