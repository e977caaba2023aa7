-- Full text in public.search_workbench_chunks when no chunk has every word of the query: the
-- chunks that have any come back, the ones with more of the words first; as a user (through
-- public.workbench_text_candidates) and as the service role (directly), never for an outsider.
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);

-- The chunks a text-only search returns, with their full-text rank.
create function tests.text_hits(p_query text) returns table (chunk_id uuid, text_rank integer)
language sql
as $$
  select s.chunk_id, s.text_rank
    from public.search_workbench_chunks('15e00000-0000-0000-0000-00000000000a', null, null,
                                        p_query) s
   order by s.text_rank
$$;
grant execute on function tests.text_hits(text) to authenticated, service_role;

-- o: owner of the workbench; x: outsider.
insert into auth.users (id, email) values
  ('15000000-0000-0000-0000-00000000000a', 'o@example.com'),
  ('15000000-0000-0000-0000-00000000000b', 'x@example.com');
insert into public.workbench (id, name, owner_user_id) values
  ('15e00000-0000-0000-0000-00000000000a', 'W', '15000000-0000-0000-0000-00000000000a');
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status) values
  ('15f00000-0000-0000-0000-00000000000a', '15e00000-0000-0000-0000-00000000000a', 'w.txt', 'txt',
   1, 'hw', 'indexed');
-- c1 has two of the query's words, c2 one, c3 none.
insert into public.workbench_chunks (id, workbench_id, file_id, chunk_index, content) values
  ('15c00000-0000-0000-0000-000000000001', '15e00000-0000-0000-0000-00000000000a',
   '15f00000-0000-0000-0000-00000000000a', 0, 'The zorblatt contract with Acme'),
  ('15c00000-0000-0000-0000-000000000002', '15e00000-0000-0000-0000-00000000000a',
   '15f00000-0000-0000-0000-00000000000a', 1, 'A zorblatt invoice'),
  ('15c00000-0000-0000-0000-000000000003', '15e00000-0000-0000-0000-00000000000a',
   '15f00000-0000-0000-0000-00000000000a', 2, 'An unrelated cash note');

select tests.authenticate_as('15000000-0000-0000-0000-00000000000a');
select results_eq($$ select * from tests.text_hits('zorblatt contract quixotic') $$,
  $$ values ('15c00000-0000-0000-0000-000000000001'::uuid, 1),
            ('15c00000-0000-0000-0000-000000000002'::uuid, 2) $$,
  'no chunk has every word: the owner gets the chunks with any, more of the words first');
select results_eq($$ select * from tests.text_hits('zorblatt contract') $$,
  $$ values ('15c00000-0000-0000-0000-000000000001'::uuid, 1) $$,
  'a chunk has every word: only such chunks come back, no fallback');
select results_eq($$ select * from tests.text_hits('"contract zorblatt"') $$,
  $$ values ('15c00000-0000-0000-0000-000000000001'::uuid, 1),
            ('15c00000-0000-0000-0000-000000000002'::uuid, 2) $$,
  'a phrase in another order matches no chunk: its words are looked up one by one');
select is_empty($$ select * from tests.text_hits('the and of') $$,
  'stop words only: no full-text query, nothing');
select is_empty($$ select * from tests.text_hits('quixotic') $$,
  'one word that no chunk has: nothing');

select tests.authenticate_as('15000000-0000-0000-0000-00000000000b');
select is_empty($$ select * from tests.text_hits('zorblatt contract quixotic') $$,
  'an outsider gets nothing from the search');
select is(
  (select count(*)::integer from public.workbench_text_candidates(
     '15e00000-0000-0000-0000-00000000000a',
     to_tsquery('simple', 'zorblatt | contract | quixot'),
     array['15f00000-0000-0000-0000-00000000000a']::uuid[], 200, 20,
     array['zorblatt', 'contract', 'quixot'])),
  0, 'nor from the any-word candidates, even with the file ids');

reset role;
set local role service_role;
select results_eq($$ select * from tests.text_hits('zorblatt contract quixotic') $$,
  $$ values ('15c00000-0000-0000-0000-000000000001'::uuid, 1),
            ('15c00000-0000-0000-0000-000000000002'::uuid, 2) $$,
  'the service role (RLS does not apply to it) gets the same fallback');
select results_eq($$ select * from tests.text_hits('zorblatt contract') $$,
  $$ values ('15c00000-0000-0000-0000-000000000001'::uuid, 1) $$,
  'and the same every-word pass');
reset role;

select * from finish();
rollback;
