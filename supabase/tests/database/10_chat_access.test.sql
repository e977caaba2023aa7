-- The chat's service-side steps after 20261126001200: a member removed from a workbench can no
-- longer write to their old session (start answers not_found, begin/finish raise P0002, nothing
-- is saved or taken), and answers in flight on other sessions count against the wallet.
begin;
create extension if not exists pgtap with schema extensions;
select plan(17);

insert into auth.users (id, email) values
  ('10000000-0000-0000-0000-00000000000a', 'access-owner@example.com'),
  ('10000000-0000-0000-0000-00000000000b', 'access-member@example.com'),
  ('10000000-0000-0000-0000-00000000000c', 'access-payer@example.com');
insert into public.workbench (id, name, owner_user_id) values
  ('10e00000-0000-0000-0000-000000000001', 'Shared', '10000000-0000-0000-0000-00000000000a'),
  ('10e00000-0000-0000-0000-000000000002', 'C one', '10000000-0000-0000-0000-00000000000c'),
  ('10e00000-0000-0000-0000-000000000003', 'C two', '10000000-0000-0000-0000-00000000000c'),
  ('10e00000-0000-0000-0000-000000000004', 'C three', '10000000-0000-0000-0000-00000000000c');
insert into public.workbench_members (workbench_id, user_id, role) values
  ('10e00000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-00000000000b', 'viewer');
insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status)
select w, 'pl.csv', 'csv', 1, 'h' || w, 'indexed'
  from unnest(array['10e00000-0000-0000-0000-000000000001',
                    '10e00000-0000-0000-0000-000000000002',
                    '10e00000-0000-0000-0000-000000000003',
                    '10e00000-0000-0000-0000-000000000004']::uuid[]) w;
insert into public.chat_session (id, workbench_id, user_id) values
  ('10500000-0000-0000-0000-00000000000b', '10e00000-0000-0000-0000-000000000001',
   '10000000-0000-0000-0000-00000000000b'),
  ('10500000-0000-0000-0000-000000000001', '10e00000-0000-0000-0000-000000000002',
   '10000000-0000-0000-0000-00000000000c'),
  ('10500000-0000-0000-0000-000000000002', '10e00000-0000-0000-0000-000000000003',
   '10000000-0000-0000-0000-00000000000c'),
  ('10500000-0000-0000-0000-000000000003', '10e00000-0000-0000-0000-000000000004',
   '10000000-0000-0000-0000-00000000000c');

create temporary table t (name text primary key, r jsonb);
create function pg_temp.start(p_name text, p_user uuid, p_session uuid) returns text
language sql as $$
  insert into t values (p_name, private.start_chat_turn(p_user, p_session, 'question?', '10.0.0.10'))
  on conflict (name) do update set r = excluded.r
  returning r ->> 'status'
$$;
create function pg_temp.finish(p_name text, p_user uuid, p_session uuid) returns jsonb
language sql as $$
  select private.finish_chat_turn(p_user, p_session, gen_random_uuid(),
    (select (r ->> 'token')::uuid from t where name = p_name), 'answer', '[]', '[]', 'm', 1, 1)
$$;

------------------------------------------------------------------ a removed member
select is(pg_temp.start('b1', '10000000-0000-0000-0000-00000000000b',
  '10500000-0000-0000-0000-00000000000b'), 'ok', 'a member starts a turn on their session');
delete from public.workbench_members
 where workbench_id = '10e00000-0000-0000-0000-000000000001'
   and user_id = '10000000-0000-0000-0000-00000000000b';
select throws_ok($$ select pg_temp.finish('b1', '10000000-0000-0000-0000-00000000000b',
  '10500000-0000-0000-0000-00000000000b') $$, 'P0002', null,
  'removed mid-answer, their answer is not saved');
select is((select count(*)::int from public.message
  where session_id = '10500000-0000-0000-0000-00000000000b' and role = 'assistant'), 0,
  'no answer row');
select is((select coalesce(max(chat_inference_counter), 0) from public.wallet_counters
  where user_id = '10000000-0000-0000-0000-00000000000b'), 0, 'and nothing is counted');
select private.end_chat_answer('10500000-0000-0000-0000-00000000000b',
  (select (r ->> 'token')::uuid from t where name = 'b1'));
select is(pg_temp.start('b2', '10000000-0000-0000-0000-00000000000b',
  '10500000-0000-0000-0000-00000000000b'), 'not_found',
  'a removed member''s old session is not found');
select is((select count(*)::int from public.message
  where session_id = '10500000-0000-0000-0000-00000000000b'), 1,
  'their new question is not saved');
select is_empty($$ select 1 from private.chat_answering
  where session_id = '10500000-0000-0000-0000-00000000000b' $$, 'and no marker is taken');
select throws_ok($$ select private.begin_chat_answer('10500000-0000-0000-0000-00000000000b',
  '10000000-0000-0000-0000-00000000000b') $$, 'P0002', null,
  'begin_chat_answer refuses a removed member too');
insert into public.workbench_members (workbench_id, user_id, role) values
  ('10e00000-0000-0000-0000-000000000001', '10000000-0000-0000-0000-00000000000b', 'viewer');
select is(pg_temp.start('b3', '10000000-0000-0000-0000-00000000000b',
  '10500000-0000-0000-0000-00000000000b'), 'ok', 'added back, they may chat again');

------------------------------------------------------------------ answers in flight
-- C: no credits, 8 answers into the bundle: one more answer is free, a second would need a credit.
select private.spend_credits('10000000-0000-0000-0000-00000000000c', 10, 'spend', 'drain-10');
insert into public.wallet_counters (user_id, chat_inference_counter)
values ('10000000-0000-0000-0000-00000000000c', 8)
on conflict (user_id) do update set chat_inference_counter = 8;
select is(pg_temp.start('c1', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000001'), 'ok', 'the free 9th answer starts');
select is(pg_temp.start('c2', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000002'), 'insufficient_credits',
  'a second answer in parallel, on another workbench, would complete an unpaid bundle: refused');
select is((select count(*)::int from public.message
  where session_id = '10500000-0000-0000-0000-000000000002'), 0, 'and its question is not saved');
select is(pg_temp.start('c1b', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000001'), 'answer_in_progress',
  'the answering session itself still says 409, not 402');
update private.chat_answering set expires_at = now() - interval '1 second'
 where session_id = '10500000-0000-0000-0000-000000000001';
select is(pg_temp.start('c3', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000002'), 'ok', 'an expired marker is not an answer in flight');
select private.grant_credits('10000000-0000-0000-0000-00000000000c', 1, 'grant', 'grant-10');
select is(pg_temp.start('c4', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000003'), 'ok',
  'with a credit, two answers in flight (8 + 2 = the 10th) are covered');
select is(pg_temp.start('c5', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000001'), 'ok',
  'and so is a third (the 11th answer opens the next bundle)');
select is((pg_temp.finish('c3', '10000000-0000-0000-0000-00000000000c',
  '10500000-0000-0000-0000-000000000002') -> 'wallet' ->> 'chat_inference_counter')::int, 9,
  'finishing one counts it as before');

select * from finish();
rollback;
