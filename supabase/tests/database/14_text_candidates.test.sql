-- Full-text candidates through the index (public.workbench_text_candidates, SECURITY DEFINER):
-- it answers only for a workbench the caller can read (the read policies' own set), returns ids
-- and ranks only, never chunks of another workbench, and public.search_workbench_chunks (still
-- SECURITY INVOKER) finds rare words through it. Vectors are stored in the row (MAIN).
begin;
create extension if not exists pgtap with schema extensions;
select plan(19);

-- An authenticated session whose claims say service_role (only arbitrary SQL could make one).
create function tests.authenticate_with_service_claims(p_user_id uuid) returns void
language sql
as $$
  select set_config('role', 'authenticated', true),
         set_config('request.jwt.claims',
                    json_build_object('sub', p_user_id, 'role', 'service_role')::text, true)
$$;
grant execute on function tests.authenticate_with_service_claims(uuid) to authenticated;
-- Candidate ids of a workbench for a query and the given files, as the current caller, in rank
-- order (the file ids are passed as they are: a caller may know ids they can no longer read).
create function tests.candidates(p_workbench_id uuid, p_query text, p_files uuid[],
                                 p_scan integer default 200)
returns uuid[]
language sql
as $$
  select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}')
    from public.workbench_text_candidates(
      p_workbench_id, websearch_to_tsquery('english', p_query), p_files, p_scan, 20) t
$$;
grant execute on function tests.candidates(uuid, text, uuid[], integer) to authenticated;
-- A's two files and B's file.
create function tests.files_of(p_which text) returns uuid[]
language sql
as $$
  select case p_which
    when 'A' then array['14f00000-0000-0000-0000-00000000000a',
                        '14f00000-0000-0000-0000-0000000000a2']::uuid[]
    else array['14f00000-0000-0000-0000-00000000000b']::uuid[] end
$$;
grant execute on function tests.files_of(text) to authenticated, service_role;

-- a: owner of workbench A (two files); b: owner of workbench B; v: viewer on A; x: outsider.
insert into auth.users (id, email) values
  ('14000000-0000-0000-0000-00000000000a', 'a@example.com'),
  ('14000000-0000-0000-0000-00000000000b', 'b@example.com'),
  ('14000000-0000-0000-0000-00000000000c', 'v@example.com'),
  ('14000000-0000-0000-0000-00000000000d', 'x@example.com');
insert into public.workbench (id, name, owner_user_id) values
  ('14e00000-0000-0000-0000-00000000000a', 'A', '14000000-0000-0000-0000-00000000000a'),
  ('14e00000-0000-0000-0000-00000000000b', 'B', '14000000-0000-0000-0000-00000000000b');
insert into public.workbench_members (workbench_id, user_id, role) values
  ('14e00000-0000-0000-0000-00000000000a', '14000000-0000-0000-0000-00000000000c', 'viewer');
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status) values
  ('14f00000-0000-0000-0000-00000000000a', '14e00000-0000-0000-0000-00000000000a', 'a.txt', 'txt',
   1, 'ha', 'indexed'),
  ('14f00000-0000-0000-0000-0000000000a2', '14e00000-0000-0000-0000-00000000000a', 'a2.txt', 'txt',
   1, 'ha2', 'indexed'),
  ('14f00000-0000-0000-0000-00000000000b', '14e00000-0000-0000-0000-00000000000b', 'b.txt', 'txt',
   1, 'hb', 'indexed');
-- Many chunks mentioning revenue, one naming the rare word "zorblatt" (in both workbenches).
insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content)
select '14e00000-0000-0000-0000-00000000000a', '14f00000-0000-0000-0000-00000000000a', g,
       'Revenue line ' || g
  from generate_series(1, 300) g;
insert into public.workbench_chunks (id, workbench_id, file_id, chunk_index, content) values
  ('14c00000-0000-0000-0000-00000000000a', '14e00000-0000-0000-0000-00000000000a',
   '14f00000-0000-0000-0000-0000000000a2', 0, 'The zorblatt contract renews in March'),
  ('14c00000-0000-0000-0000-00000000000b', '14e00000-0000-0000-0000-00000000000b',
   '14f00000-0000-0000-0000-00000000000b', 0, 'Zorblatt revenue in B');

------------------------------------------------------------------ grants and shape
select ok(has_function_privilege('authenticated',
  'public.workbench_text_candidates(uuid, tsquery, uuid[], integer, integer, text[])', 'execute'),
  'authenticated may call it');
select ok(not has_function_privilege('anon',
  'public.workbench_text_candidates(uuid, tsquery, uuid[], integer, integer, text[])', 'execute'),
  'anon may not');
select ok(not has_function_privilege('authenticated',
  'private.rank_text_matches(uuid, tsquery, uuid[], integer, integer, text[])', 'execute'),
  'clients cannot call the ranking that checks nothing');
select is((select prosecdef from pg_proc where proname = 'workbench_text_candidates'), true,
  'it is SECURITY DEFINER (so the GIN index can serve it)');
select ok((select 'search_path=""' = any (proconfig) from pg_proc
             where proname = 'workbench_text_candidates'), 'with an empty search_path');
select is((select array_agg(a order by a) from pg_proc p, unnest(p.proargnames) a
            where p.proname = 'workbench_text_candidates' and a not like 'p\_%'),
  array['chunk_id', 'rank'], 'it returns ids and ranks only, no content');
select is((select prosecdef from pg_proc where proname = 'search_workbench_chunks'), false,
  'the search itself stays SECURITY INVOKER');
select is((select attstorage from pg_attribute
            where attrelid = 'public.workbench_chunks'::regclass and attname = 'embedding'),
  'm'::"char", 'vectors are stored in the row (MAIN)');

------------------------------------------------------------------ who gets candidates
select tests.authenticate_as('14000000-0000-0000-0000-00000000000a');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'zorblatt', tests.files_of('A')),
  array['14c00000-0000-0000-0000-00000000000a'::uuid], 'the owner finds the rare word in A');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000b', 'zorblatt', tests.files_of('B')),
  '{}'::uuid[], 'but nothing in B, which they cannot read, even with B''s file ids');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'zorblatt', tests.files_of('B')),
  '{}'::uuid[], 'and asking A with B''s file ids brings nothing of B');
select is(cardinality(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'revenue',
                                       tests.files_of('A'), 5)), 5,
  'a common word: only p_scan matching rows are ranked');

select tests.authenticate_as('14000000-0000-0000-0000-00000000000c');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'zorblatt', tests.files_of('A')),
  array['14c00000-0000-0000-0000-00000000000a'::uuid], 'a viewer finds it too');

select tests.authenticate_as('14000000-0000-0000-0000-00000000000d');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'zorblatt', tests.files_of('A')),
  '{}'::uuid[], 'an outsider who knows A''s file ids gets nothing');
select tests.authenticate_with_service_claims('14000000-0000-0000-0000-00000000000d');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'zorblatt', tests.files_of('A')),
  '{}'::uuid[], 'nor with claims that say service_role: the check is the read policies'' own');

reset role;
delete from public.workbench_members where user_id = '14000000-0000-0000-0000-00000000000c';
select tests.authenticate_as('14000000-0000-0000-0000-00000000000c');
select is(tests.candidates('14e00000-0000-0000-0000-00000000000a', 'zorblatt', tests.files_of('A')),
  '{}'::uuid[], 'a removed viewer gets nothing any more');

------------------------------------------------------------------ through the search
reset role;
select tests.authenticate_as('14000000-0000-0000-0000-00000000000a');
select results_eq($$ select chunk_id, file_name, text_rank from public.search_workbench_chunks(
    '14e00000-0000-0000-0000-00000000000a', null, null, 'when does the zorblatt contract renew') $$,
  $$ values ('14c00000-0000-0000-0000-00000000000a'::uuid, 'a2.txt', 1) $$,
  'the search finds the rare word among 300 other chunks, as the caller');
select tests.authenticate_as('14000000-0000-0000-0000-00000000000d');
select is_empty($$ select 1 from public.search_workbench_chunks(
    '14e00000-0000-0000-0000-00000000000a', null, null, 'zorblatt') $$,
  'an outsider''s search finds nothing');

reset role;
set local role service_role;
select results_eq($$ select chunk_id, text_rank from public.search_workbench_chunks(
    '14e00000-0000-0000-0000-00000000000b', null, null, 'zorblatt') $$,
  $$ values ('14c00000-0000-0000-0000-00000000000b'::uuid, 1) $$,
  'the service role (RLS does not apply to it) finds text matches in any workbench');
reset role;

select * from finish();
rollback;
