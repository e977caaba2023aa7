-- Search: retrieval under the caller's rights, full-text candidates through the index, and the
-- any-word ranking. Three scenarios in one transaction, each with its own people and workbenches
-- (identifiers are unique in this file):
--   1. retrieval: public.search_workbench_chunks runs as the caller (SECURITY INVOKER), members
--      find their workbench's chunks, non-members find nothing, anon cannot call it; the chunk
--      read policy (public.readable_workbench_ids) agrees with public.workbench_role for every
--      user and workbench here; the vector index helpers are for the service role only;
--   2. text candidates: public.workbench_text_candidates (SECURITY DEFINER) answers only for a
--      workbench the caller can read (the read policies' own set), returns ids and ranks only,
--      never chunks of another workbench, and the search (still SECURITY INVOKER) finds rare
--      words through it; vectors are stored in the row (MAIN);
--   3. any word (BM25): the chunks that have any word of the query come back, the ones with more
--      of the words first, whether or not a chunk has them all; as a user (through the
--      candidates) and as the service role (directly), never for an outsider.
begin;
create extension if not exists pgtap with schema extensions;
select plan(50);

-- A unit vector along dimension p_i (1-based).
create function tests.axis(p_i integer) returns extensions.vector
language sql
as $$
  select ('[' || array_to_string(array(select case when g = p_i then 1 else 0 end
                                        from generate_series(1, 384) g), ',')
          || ']')::extensions.vector
$$;
grant execute on function tests.axis(integer) to authenticated, anon;

-- ================================================================== 1. retrieval
-- oscar owns Acme, mia is a member; paul has a personal and a shared personal workbench, eve an
-- explicit row on the shared one; xena is an outsider.
select tests.create_supabase_user(u) from unnest(array['oscar', 'mia', 'paul', 'eve', 'xena']) u;
insert into public.company (id, name, created_by)
values (tests.uuid_for('acme'), 'Acme', tests.get_supabase_uid('oscar'));
insert into public.company_members (company_id, user_id, role) values
  (tests.uuid_for('acme'), tests.get_supabase_uid('mia'), 'member');
insert into public.workbench (id, name, owner_user_id, company_id) values
  (tests.uuid_for('acme-wb'), 'Company WB', tests.get_supabase_uid('mia'), tests.uuid_for('acme')),
  (tests.uuid_for('paul-personal'), 'Personal WB', tests.get_supabase_uid('paul'), null),
  (tests.uuid_for('paul-shared'), 'Shared personal WB', tests.get_supabase_uid('paul'), null);
insert into public.workbench_members (workbench_id, user_id, role) values
  (tests.uuid_for('paul-shared'), tests.get_supabase_uid('eve'), 'viewer');
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes,
                                    content_hash, status) values
  (tests.uuid_for('acme-pl'), tests.uuid_for('acme-wb'), 'pl.csv', 'csv', 1, 'h1', 'indexed'),
  (tests.uuid_for('paul-p'), tests.uuid_for('paul-personal'), 'p.txt', 'txt', 1, 'h2', 'indexed'),
  (tests.uuid_for('paul-s'), tests.uuid_for('paul-shared'), 's.txt', 'txt', 1, 'h3', 'indexed'),
  (tests.uuid_for('acme-wip'), tests.uuid_for('acme-wb'), 'wip.txt', 'txt', 1, 'h4', 'processing');
insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content, embedding,
                                     embedding_model) values
  (tests.uuid_for('acme-wb'), tests.uuid_for('acme-pl'), 0, 'Year | Revenue\n2025 | 1,500,000',
   tests.axis(1), 'test/model'),
  (tests.uuid_for('acme-wb'), tests.uuid_for('acme-pl'), 1, 'Headcount is 42', tests.axis(2),
   'test/model'),
  (tests.uuid_for('acme-wb'), tests.uuid_for('acme-wip'), 0, 'Revenue draft 2025', tests.axis(1),
   'test/model'),
  (tests.uuid_for('paul-personal'), tests.uuid_for('paul-p'), 0, 'Personal revenue notes 2025',
   tests.axis(1), 'test/model'),
  (tests.uuid_for('paul-shared'), tests.uuid_for('paul-s'), 0, 'Shared revenue notes 2025',
   tests.axis(1), 'test/model');

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
  'private.claim_workbench_vector_index(uuid, integer)', 'execute'),
  'clients cannot claim vector index builds');
select ok(has_function_privilege('service_role',
  'private.claim_workbench_vector_index(uuid, integer)', 'execute'),
  'the service role can');
select ok(not has_function_privilege('authenticated',
  'private.finish_workbench_vector_index(uuid)', 'execute'),
  'clients cannot register vector indexes');
select ok(not has_function_privilege('authenticated',
  'private.kick_workbench_vector_index_build()', 'execute'),
  'clients cannot run the index job');

set local role anon;
select throws_ok($$ select * from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), null, null, 'revenue') $$,
  '42501', null, 'anon calling the search is refused');
reset role;

------------------------------------------------------------------ members and non-members
select tests.authenticate_as('mia');
select results_eq($$ select distinct file_name from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), tests.axis(1), 'test/model', 'revenue 2025') $$,
  array['pl.csv'], 'a company member finds the indexed file''s chunks, not the one being indexed');
select results_eq($$ select vector_rank, text_rank from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), tests.axis(1), 'test/model', 'revenue 2025', 1) $$,
  $$ values (1, 1) $$, 'ranked first by vector and by text');
select results_eq($$ select count(*)::int from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), tests.axis(1), 'another/model', 'headcount') $$,
  array[1], 'with another model the vectors are not compared: only the text match comes back');
select is_empty($$ select 1 from public.search_workbench_chunks(
    tests.uuid_for('paul-personal'), tests.axis(1), 'test/model', 'revenue') $$,
  'a company member finds nothing in a personal workbench of someone else');

select tests.authenticate_as('oscar');
select results_eq($$ select distinct file_name from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), tests.axis(1), 'test/model', 'revenue') $$,
  array['pl.csv'], 'the company owner finds them (derived role)');

select tests.authenticate_as('eve');
select results_eq($$ select file_name from public.search_workbench_chunks(
    tests.uuid_for('paul-shared'), tests.axis(1), 'test/model', 'revenue') $$,
  array['s.txt'], 'an explicit viewer finds the shared workbench''s chunk');
select is_empty($$ select 1 from public.search_workbench_chunks(
    tests.uuid_for('paul-personal'), tests.axis(1), 'test/model', 'revenue') $$,
  'but nothing in the owner''s other workbench');

select tests.authenticate_as('xena');
select is_empty($$ select 1 from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), tests.axis(1), 'test/model', 'revenue') $$,
  'an outsider finds nothing in the company workbench');
select is_empty($$ select 1 from public.search_workbench_chunks(
    tests.uuid_for('paul-shared'), tests.axis(1), 'test/model', 'revenue') $$,
  'nor in a personal one');
select is_empty($$ select 1 from public.workbench_chunks $$, 'and reads no chunk directly');

------------------------------------------------------------------ the read policy agrees with roles
-- For every user and workbench: readable_workbench_ids() holds it iff workbench_role() is not null.
reset role;
create temporary table role_check (user_id uuid, mismatches integer);
grant insert, select on role_check to authenticated;
do $$
declare
  v_users text[] := array['oscar', 'mia', 'paul', 'eve', 'xena'];
  v_workbenches uuid[] := array[tests.uuid_for('acme-wb'), tests.uuid_for('paul-personal'),
                                tests.uuid_for('paul-shared')];
  u text;
begin
  foreach u in array v_users loop
    perform tests.authenticate_as(u);
    insert into role_check
    select auth.uid(), count(*)::int from unnest(v_workbenches) w(id)
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
delete from public.company_members where user_id = tests.get_supabase_uid('mia');
select tests.authenticate_as('mia');
select is_empty($$ select 1 from public.search_workbench_chunks(
    tests.uuid_for('acme-wb'), tests.axis(1), 'test/model', 'revenue') $$,
  'a former company member finds nothing');
select is_empty($$ select 1 from public.readable_workbench_ids() $$,
  'and has no readable workbench left');
reset role;

-- ================================================================== 2. text candidates
-- An authenticated session whose claims say service_role (only arbitrary SQL could make one).
create function tests.authenticate_with_service_claims(identifier text) returns void
language sql
as $$
  select set_config('role', 'authenticated', true),
         set_config('request.jwt.claims',
                    json_build_object('sub', tests.get_supabase_uid(identifier),
                                      'role', 'service_role')::text, true)
$$;
grant execute on function tests.authenticate_with_service_claims(text) to authenticated;
-- Candidate ids of a workbench for a query and the given files, as the current caller, in rank
-- order (the file ids are passed as they are: a caller may know ids they can no longer read).
create function tests.candidates(p_workbench text, p_query text, p_files uuid[],
                                 p_scan integer default 200)
returns uuid[]
language sql
as $$
  select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}')
    from public.workbench_text_candidates(
      tests.uuid_for(p_workbench), websearch_to_tsquery('english', p_query), p_files, p_scan, 20) t
$$;
grant execute on function tests.candidates(text, text, uuid[], integer) to authenticated;
-- The files of workbench A (two) or B (one).
create function tests.files_of(p_which text) returns uuid[]
language sql
as $$
  select case p_which
    when 'A' then array[tests.uuid_for('a-file'), tests.uuid_for('a2-file')]
    else array[tests.uuid_for('b-file')] end
$$;
grant execute on function tests.files_of(text) to authenticated, service_role;

-- alice owns workbench A (two files), bob workbench B; vic is a viewer on A; xavier an outsider.
select tests.create_supabase_user(u) from unnest(array['alice', 'bob', 'vic', 'xavier']) u;
insert into public.workbench (id, name, owner_user_id) values
  (tests.uuid_for('wb-a'), 'A', tests.get_supabase_uid('alice')),
  (tests.uuid_for('wb-b'), 'B', tests.get_supabase_uid('bob'));
insert into public.workbench_members (workbench_id, user_id, role) values
  (tests.uuid_for('wb-a'), tests.get_supabase_uid('vic'), 'viewer');
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes,
                                    content_hash, status) values
  (tests.uuid_for('a-file'), tests.uuid_for('wb-a'), 'a.txt', 'txt', 1, 'ha', 'indexed'),
  (tests.uuid_for('a2-file'), tests.uuid_for('wb-a'), 'a2.txt', 'txt', 1, 'ha2', 'indexed'),
  (tests.uuid_for('b-file'), tests.uuid_for('wb-b'), 'b.txt', 'txt', 1, 'hb', 'indexed');
-- Many chunks mentioning revenue, one naming the rare word "zorblatt" (in both workbenches).
insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content)
select tests.uuid_for('wb-a'), tests.uuid_for('a-file'), g, 'Revenue line ' || g
  from generate_series(1, 300) g;
insert into public.workbench_chunks (id, workbench_id, file_id, chunk_index, content) values
  (tests.uuid_for('a-zorblatt'), tests.uuid_for('wb-a'), tests.uuid_for('a2-file'), 0,
   'The zorblatt contract renews in March'),
  (tests.uuid_for('b-zorblatt'), tests.uuid_for('wb-b'), tests.uuid_for('b-file'), 0,
   'Zorblatt revenue in B');

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
select tests.authenticate_as('alice');
select is(tests.candidates('wb-a', 'zorblatt', tests.files_of('A')),
  array[tests.uuid_for('a-zorblatt')], 'the owner finds the rare word in A');
select is(tests.candidates('wb-b', 'zorblatt', tests.files_of('B')),
  '{}'::uuid[], 'but nothing in B, which they cannot read, even with B''s file ids');
select is(tests.candidates('wb-a', 'zorblatt', tests.files_of('B')),
  '{}'::uuid[], 'and asking A with B''s file ids brings nothing of B');
select is(cardinality(tests.candidates('wb-a', 'revenue', tests.files_of('A'), 5)), 5,
  'a common word: only p_scan matching rows are ranked');

select tests.authenticate_as('vic');
select is(tests.candidates('wb-a', 'zorblatt', tests.files_of('A')),
  array[tests.uuid_for('a-zorblatt')], 'a viewer finds it too');

select tests.authenticate_as('xavier');
select is(tests.candidates('wb-a', 'zorblatt', tests.files_of('A')),
  '{}'::uuid[], 'an outsider who knows A''s file ids gets nothing');
select tests.authenticate_with_service_claims('xavier');
select is(tests.candidates('wb-a', 'zorblatt', tests.files_of('A')),
  '{}'::uuid[], 'nor with claims that say service_role: the check is the read policies'' own');

reset role;
delete from public.workbench_members where user_id = tests.get_supabase_uid('vic');
select tests.authenticate_as('vic');
select is(tests.candidates('wb-a', 'zorblatt', tests.files_of('A')),
  '{}'::uuid[], 'a removed viewer gets nothing any more');

------------------------------------------------------------------ through the search
reset role;
select tests.authenticate_as('alice');
select results_eq($$ select chunk_id, file_name, text_rank from public.search_workbench_chunks(
    tests.uuid_for('wb-a'), null, null, 'when does the zorblatt contract renew') $$,
  $$ values (tests.uuid_for('a-zorblatt'), 'a2.txt', 1) $$,
  'the search finds the rare word among 300 other chunks, as the caller');
select tests.authenticate_as('xavier');
select is_empty($$ select 1 from public.search_workbench_chunks(
    tests.uuid_for('wb-a'), null, null, 'zorblatt') $$,
  'an outsider''s search finds nothing');

reset role;
set local role service_role;
select results_eq($$ select chunk_id, text_rank from public.search_workbench_chunks(
    tests.uuid_for('wb-b'), null, null, 'zorblatt') $$,
  $$ values (tests.uuid_for('b-zorblatt'), 1) $$,
  'the service role (RLS does not apply to it) finds text matches in any workbench');
reset role;

-- ================================================================== 3. any word (BM25)
-- The chunks a text-only search of wendy's workbench returns, with their full-text rank.
create function tests.text_hits(p_query text) returns table (chunk_id uuid, text_rank integer)
language sql
as $$
  select s.chunk_id, s.text_rank
    from public.search_workbench_chunks(tests.uuid_for('wendy-wb'), null, null, p_query) s
   order by s.text_rank
$$;
grant execute on function tests.text_hits(text) to authenticated, service_role;

-- wendy owns the workbench; zoe is an outsider.
select tests.create_supabase_user('wendy');
select tests.create_supabase_user('zoe');
insert into public.workbench (id, name, owner_user_id) values
  (tests.uuid_for('wendy-wb'), 'W', tests.get_supabase_uid('wendy'));
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes,
                                    content_hash, status) values
  (tests.uuid_for('wendy-file'), tests.uuid_for('wendy-wb'), 'w.txt', 'txt', 1, 'hw', 'indexed');
-- c1 has two of the query's words, c2 one, c3 none.
insert into public.workbench_chunks (id, workbench_id, file_id, chunk_index, content) values
  (tests.uuid_for('wendy-c1'), tests.uuid_for('wendy-wb'), tests.uuid_for('wendy-file'), 0,
   'The zorblatt contract with Acme'),
  (tests.uuid_for('wendy-c2'), tests.uuid_for('wendy-wb'), tests.uuid_for('wendy-file'), 1,
   'A zorblatt invoice'),
  (tests.uuid_for('wendy-c3'), tests.uuid_for('wendy-wb'), tests.uuid_for('wendy-file'), 2,
   'An unrelated cash note');

select tests.authenticate_as('wendy');
select results_eq($$ select * from tests.text_hits('zorblatt contract quixotic') $$,
  $$ values (tests.uuid_for('wendy-c1'), 1), (tests.uuid_for('wendy-c2'), 2) $$,
  'no chunk has every word: the owner gets the chunks with any, more of the words first');
select results_eq($$ select * from tests.text_hits('zorblatt contract') $$,
  $$ values (tests.uuid_for('wendy-c1'), 1), (tests.uuid_for('wendy-c2'), 2) $$,
  'a chunk has every word: it comes first, the chunks with some of them after (BM25)');
select results_eq($$ select * from tests.text_hits('"contract zorblatt"') $$,
  $$ values (tests.uuid_for('wendy-c1'), 1), (tests.uuid_for('wendy-c2'), 2) $$,
  'a phrase in another order matches no chunk: its words are looked up one by one');
select is_empty($$ select * from tests.text_hits('the and of') $$,
  'stop words only: no full-text query, nothing');
select is_empty($$ select * from tests.text_hits('quixotic') $$,
  'one word that no chunk has: nothing');

select tests.authenticate_as('zoe');
select is_empty($$ select * from tests.text_hits('zorblatt contract quixotic') $$,
  'an outsider gets nothing from the search');
select is(
  (select count(*)::integer from public.workbench_text_candidates(
     tests.uuid_for('wendy-wb'),
     to_tsquery('simple', 'zorblatt | contract | quixot'),
     array[tests.uuid_for('wendy-file')], 200, 20,
     array['zorblatt', 'contract', 'quixot'])),
  0, 'nor from the any-word candidates, even with the file ids');

reset role;
set local role service_role;
select results_eq($$ select * from tests.text_hits('zorblatt contract quixotic') $$,
  $$ values (tests.uuid_for('wendy-c1'), 1), (tests.uuid_for('wendy-c2'), 2) $$,
  'the service role (RLS does not apply to it) gets the same any-word ranking');
select results_eq($$ select * from tests.text_hits('zorblatt contract') $$,
  $$ values (tests.uuid_for('wendy-c1'), 1), (tests.uuid_for('wendy-c2'), 2) $$,
  'and the same ranking when a chunk has every word');
reset role;

select * from finish();
rollback;
