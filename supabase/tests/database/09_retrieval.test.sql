-- Retrieval under the caller's rights: public.search_workbench_chunks runs as the caller
-- (SECURITY INVOKER), members find their workbench's chunks, non-members find nothing, anon cannot
-- call it; the chunk read policy (public.readable_workbench_ids) agrees with
-- public.workbench_role for every user and workbench here; the vector index helpers are for the
-- service role only.
begin;
create extension if not exists pgtap with schema extensions;
select plan(21);

-- A unit vector along dimension p_i (1-based).
create function tests.axis(p_i integer) returns extensions.vector
language sql
as $$
  select ('[' || array_to_string(array(select case when g = p_i then 1 else 0 end
                                        from generate_series(1, 384) g), ',') || ']')::extensions.vector
$$;
grant execute on function tests.axis(integer) to authenticated, anon;

-- o: company owner; m: company member; p: personal workbench owner; e: explicit row on p's
-- workbench; x: outsider.
insert into auth.users (id, email) values
  ('07000000-0000-0000-0000-00000000000a', 'o@example.com'),
  ('07000000-0000-0000-0000-00000000000b', 'm@example.com'),
  ('07000000-0000-0000-0000-00000000000c', 'p@example.com'),
  ('07000000-0000-0000-0000-00000000000d', 'e@example.com'),
  ('07000000-0000-0000-0000-00000000000e', 'x@example.com');
insert into public.company (id, name, created_by)
values ('07c00000-0000-0000-0000-000000000001', 'Acme', '07000000-0000-0000-0000-00000000000a');
insert into public.company_members (company_id, user_id, role) values
  ('07c00000-0000-0000-0000-000000000001', '07000000-0000-0000-0000-00000000000b', 'member');
insert into public.workbench (id, name, owner_user_id, company_id) values
  ('07e00000-0000-0000-0000-000000000001', 'Company WB', '07000000-0000-0000-0000-00000000000b',
   '07c00000-0000-0000-0000-000000000001'),
  ('07e00000-0000-0000-0000-000000000002', 'Personal WB', '07000000-0000-0000-0000-00000000000c',
   null),
  ('07e00000-0000-0000-0000-000000000003', 'Shared personal WB',
   '07000000-0000-0000-0000-00000000000c', null);
insert into public.workbench_members (workbench_id, user_id, role) values
  ('07e00000-0000-0000-0000-000000000003', '07000000-0000-0000-0000-00000000000d', 'viewer');
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status) values
  ('07f00000-0000-0000-0000-000000000001', '07e00000-0000-0000-0000-000000000001', 'pl.csv', 'csv',
   1, 'h1', 'indexed'),
  ('07f00000-0000-0000-0000-000000000002', '07e00000-0000-0000-0000-000000000002', 'p.txt', 'txt',
   1, 'h2', 'indexed'),
  ('07f00000-0000-0000-0000-000000000003', '07e00000-0000-0000-0000-000000000003', 's.txt', 'txt',
   1, 'h3', 'indexed'),
  ('07f00000-0000-0000-0000-000000000004', '07e00000-0000-0000-0000-000000000001', 'wip.txt', 'txt',
   1, 'h4', 'processing');
insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content, embedding,
                                     embedding_model) values
  ('07e00000-0000-0000-0000-000000000001', '07f00000-0000-0000-0000-000000000001', 0,
   'Year | Revenue\n2025 | 1,500,000', tests.axis(1), 'test/model'),
  ('07e00000-0000-0000-0000-000000000001', '07f00000-0000-0000-0000-000000000001', 1,
   'Headcount is 42', tests.axis(2), 'test/model'),
  ('07e00000-0000-0000-0000-000000000001', '07f00000-0000-0000-0000-000000000004', 0,
   'Revenue draft 2025', tests.axis(1), 'test/model'),
  ('07e00000-0000-0000-0000-000000000002', '07f00000-0000-0000-0000-000000000002', 0,
   'Personal revenue notes 2025', tests.axis(1), 'test/model'),
  ('07e00000-0000-0000-0000-000000000003', '07f00000-0000-0000-0000-000000000003', 0,
   'Shared revenue notes 2025', tests.axis(1), 'test/model');

------------------------------------------------------------------ grants
select ok(has_function_privilege('authenticated',
  'public.search_workbench_chunks(uuid, extensions.vector, text, text, integer, integer, integer, double precision, double precision, integer, integer)',
  'execute'), 'authenticated may call the search');
select ok(not has_function_privilege('anon',
  'public.search_workbench_chunks(uuid, extensions.vector, text, text, integer, integer, integer, double precision, double precision, integer, integer)',
  'execute'), 'anon may not');
select is((select prosecdef from pg_proc where proname = 'search_workbench_chunks'), false,
  'the search is SECURITY INVOKER: RLS applies');
select ok(not has_function_privilege('authenticated',
  'private.ensure_workbench_vector_index(uuid, integer)', 'execute'),
  'clients cannot build vector indexes');
select ok(has_function_privilege('service_role',
  'private.ensure_workbench_vector_index(uuid, integer)', 'execute'),
  'the service role can');
select ok(not has_function_privilege('authenticated',
  'private.ensure_workbench_vector_indexes(integer)', 'execute'),
  'clients cannot run the index job');

set local role anon;
select throws_ok($$ select * from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', null, null, 'revenue') $$,
  '42501', null, 'anon calling the search is refused');
reset role;

------------------------------------------------------------------ members and non-members
select tests.authenticate_as('07000000-0000-0000-0000-00000000000b');
select results_eq($$ select distinct file_name from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', tests.axis(1), 'test/model', 'revenue 2025') $$,
  array['pl.csv'], 'a company member finds the indexed file''s chunks, not the one being indexed');
select results_eq($$ select vector_rank, text_rank from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', tests.axis(1), 'test/model', 'revenue 2025', 1) $$,
  $$ values (1, 1) $$, 'ranked first by vector and by text');
select results_eq($$ select count(*)::int from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', tests.axis(1), 'another/model', 'headcount') $$,
  array[1], 'with another model the vectors are not compared: only the text match comes back');
select is_empty($$ select 1 from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000002', tests.axis(1), 'test/model', 'revenue') $$,
  'a company member finds nothing in a personal workbench of someone else');

select tests.authenticate_as('07000000-0000-0000-0000-00000000000a');
select results_eq($$ select distinct file_name from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', tests.axis(1), 'test/model', 'revenue') $$,
  array['pl.csv'], 'the company owner finds them (derived role)');

select tests.authenticate_as('07000000-0000-0000-0000-00000000000d');
select results_eq($$ select file_name from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000003', tests.axis(1), 'test/model', 'revenue') $$,
  array['s.txt'], 'an explicit viewer finds the shared workbench''s chunk');
select is_empty($$ select 1 from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000002', tests.axis(1), 'test/model', 'revenue') $$,
  'but nothing in the owner''s other workbench');

select tests.authenticate_as('07000000-0000-0000-0000-00000000000e');
select is_empty($$ select 1 from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', tests.axis(1), 'test/model', 'revenue') $$,
  'an outsider finds nothing in the company workbench');
select is_empty($$ select 1 from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000003', tests.axis(1), 'test/model', 'revenue') $$,
  'nor in a personal one');
select is_empty($$ select 1 from public.workbench_chunks $$, 'and reads no chunk directly');

------------------------------------------------------------------ the read policy agrees with roles
-- For every user and workbench: readable_workbench_ids() holds it iff workbench_role() is not null.
reset role;
create temporary table role_check (user_id uuid, mismatches integer);
grant insert, select on role_check to authenticated;
do $$
declare
  v_users uuid[] := array(select id from auth.users where email like '_@example.com');
  v_workbenches uuid[] := array(select id from public.workbench where id::text like '07e00000%');
  u uuid;
begin
  foreach u in array v_users loop
    perform tests.authenticate_as(u);
    insert into role_check
    select u, count(*)::int from unnest(v_workbenches) w(id)
     where (w.id in (select public.readable_workbench_ids()))
           is distinct from (public.workbench_role(w.id) is not null);
    reset role;
  end loop;
end;
$$;
select results_eq($$ select count(*)::int from role_check $$, array[5], 'five users checked');
select is_empty($$ select 1 from role_check where mismatches <> 0 $$,
  'readable_workbench_ids() agrees with workbench_role() for every user and workbench');

-- Dropping a company membership takes the company workbench out of the member's readable set.
delete from public.company_members where user_id = '07000000-0000-0000-0000-00000000000b';
select tests.authenticate_as('07000000-0000-0000-0000-00000000000b');
select is_empty($$ select 1 from public.search_workbench_chunks(
    '07e00000-0000-0000-0000-000000000001', tests.axis(1), 'test/model', 'revenue') $$,
  'a former company member finds nothing');
select is_empty($$ select 1 from public.readable_workbench_ids() $$,
  'and has no readable workbench left');
reset role;

select * from finish();
rollback;
