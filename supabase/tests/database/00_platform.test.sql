-- Platform baseline: extensions, the private schema's privileges, auth helpers, worker queues,
-- and the rule that every table in public has row level security.
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);

select has_extension('vector', 'pgvector is installed');
select has_schema('private', 'the private schema exists');
select schema_privs_are('private', 'anon', array[]::text[], 'anon has no access to private');
select schema_privs_are('private', 'authenticated', array[]::text[],
  'authenticated has no access to private');
select ok(has_schema_privilege('service_role', 'private', 'usage'), 'service_role can use private');

set local request.jwt.claims = '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}';
select is(auth.uid(), '11111111-1111-1111-1111-111111111111'::uuid, 'auth.uid() reads the JWT sub');
select is(auth.role(), 'authenticated', 'auth.role() reads the JWT role');

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

select * from finish();
rollback;
