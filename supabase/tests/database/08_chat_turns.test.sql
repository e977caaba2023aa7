-- The chat's service-side steps (migration 20261126001100): start_chat_turn (rate limit, own
-- session, wallet, one answer at a time, question saved), finish_chat_turn (answer saved, counted
-- once, marker released), the marker's expiry and tokens; clients can call none of them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(24);

insert into auth.users (id, email) values
  ('08000000-0000-0000-0000-00000000000a', 'chat-a@example.com'),
  ('08000000-0000-0000-0000-00000000000b', 'chat-b@example.com');
insert into public.workbench (id, name, owner_user_id) values
  ('08e00000-0000-0000-0000-000000000001', 'Indexed', '08000000-0000-0000-0000-00000000000a'),
  ('08e00000-0000-0000-0000-000000000002', 'Empty', '08000000-0000-0000-0000-00000000000a');
insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status) values
  ('08e00000-0000-0000-0000-000000000001', 'pl.csv', 'csv', 1, 'h1', 'indexed');
insert into public.chat_session (id, workbench_id, user_id) values
  ('08500000-0000-0000-0000-000000000001', '08e00000-0000-0000-0000-000000000001',
   '08000000-0000-0000-0000-00000000000a'),
  ('08500000-0000-0000-0000-000000000002', '08e00000-0000-0000-0000-000000000002',
   '08000000-0000-0000-0000-00000000000a');

create temporary table t (name text primary key, r jsonb);
create function pg_temp.start(p_name text, p_user uuid, p_session uuid) returns jsonb
language sql as $$
  insert into t values (p_name, private.start_chat_turn(p_user, p_session, 'question?', '10.0.0.1'))
  on conflict (name) do update set r = excluded.r
  returning r
$$;

------------------------------------------------------------------ clients call none of it
select tests.authenticate_as('08000000-0000-0000-0000-00000000000a');
select throws_ok($$ select private.start_chat_turn(auth.uid(), '08500000-0000-0000-0000-000000000001',
  'x', '') $$, '42501', null, 'a user cannot start a turn directly');
select throws_ok($$ select private.finish_chat_turn(auth.uid(), '08500000-0000-0000-0000-000000000001',
  gen_random_uuid(), null, 'x', '[]', '[]', null, 0, 0) $$, '42501', null,
  'a user cannot save answers or count them');
select throws_ok($$ select private.begin_chat_answer('08500000-0000-0000-0000-000000000001', auth.uid()) $$,
  '42501', null, 'a user cannot take the answering marker');
select throws_ok($$ select * from private.chat_answering $$, '42501', null,
  'a user cannot read the markers');
reset role;

------------------------------------------------------------------ start
select is((pg_temp.start('a1', '08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'ok', 'the owner starts a turn');
select ok((select (r ->> 'token') is not null and (r ->> 'has_indexed')::boolean from t where name = 'a1'),
  'with a marker, on an indexed workbench');
select results_eq($$ select role, content from public.message
  where id = (select (r ->> 'user_message_id')::uuid from t where name = 'a1') $$,
  $$ values ('user', 'question?') $$, 'the question is saved');
select ok((select (r -> 'ms' ? 'rate_limit') and (r -> 'ms' ? 'metering') from t where name = 'a1'),
  'with phase timings');
select is((pg_temp.start('a2', '08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'answer_in_progress',
  'a second turn on the session waits for the first');
select is((select count(*)::int from public.message
  where session_id = '08500000-0000-0000-0000-000000000001'), 1,
  'and saves nothing');
select is((pg_temp.start('b1', '08000000-0000-0000-0000-00000000000b',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'not_found',
  'another user''s session is not found');
select is((pg_temp.start('e1', '08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000002')) ->> 'status', 'ok',
  'a workbench with nothing indexed still takes the question');
select ok((select r -> 'token' = 'null'::jsonb and not (r ->> 'has_indexed')::boolean
  from t where name = 'e1'), 'without a marker (nothing to answer or pay for)');

------------------------------------------------------------------ finish
select is(private.end_chat_answer('08500000-0000-0000-0000-000000000001', gen_random_uuid()), false,
  'a wrong token releases nothing');
select is((private.finish_chat_turn('08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000001', '08a00000-0000-0000-0000-000000000001',
  (select (r ->> 'token')::uuid from t where name = 'a1'), 'the answer [1]',
  '[{"number": 1}]', '[]', 'llama', 10, 5) -> 'wallet' ->> 'chat_inference_counter')::int, 1,
  'finishing counts the answer');
select results_eq($$ select role, content, sources, model, prompt_tokens, completion_tokens
  from public.message where id = '08a00000-0000-0000-0000-000000000001' $$,
  $$ values ('assistant', 'the answer [1]', '[{"number": 1}]'::jsonb, 'llama', 10, 5) $$,
  'the answer is saved with sources, model and usage');
select is_empty($$ select 1 from private.chat_answering
  where session_id = '08500000-0000-0000-0000-000000000001' $$, 'and the marker is released');
select is((pg_temp.start('a3', '08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'ok', 'the next turn may start');

------------------------------------------------------------------ expiry
update private.chat_answering set expires_at = now() - interval '1 second'
 where session_id = '08500000-0000-0000-0000-000000000001';
select is((pg_temp.start('a4', '08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'ok',
  'an expired marker (a function killed mid-answer) does not lock the session');
select isnt((select r ->> 'token' from t where name = 'a4'), (select r ->> 'token' from t where name = 'a3'),
  'a new token is issued');
select is(private.end_chat_answer('08500000-0000-0000-0000-000000000001',
  (select (r ->> 'token')::uuid from t where name = 'a3')), false,
  'the late first holder cannot release the new marker');
select ok(private.end_chat_answer('08500000-0000-0000-0000-000000000001',
  (select (r ->> 'token')::uuid from t where name = 'a4')), 'its holder can');

------------------------------------------------------------------ wallet and rate limit
select private.spend_credits('08000000-0000-0000-0000-00000000000a', 10, 'spend', 'drain-08');
update public.wallet_counters set chat_inference_counter = 9
 where user_id = '08000000-0000-0000-0000-00000000000a';
select is((pg_temp.start('a5', '08000000-0000-0000-0000-00000000000a',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'insufficient_credits',
  'no credit for the bundle this answer would complete: refused before any model call');
update private.settings set value = jsonb_set(value, '{chat}',
  '{"capacity": 1, "per_minute": 1, "ip_capacity": 100, "ip_per_minute": 100}')
 where key = 'rate_limits';
select pg_temp.start('x', '08000000-0000-0000-0000-00000000000b', '08500000-0000-0000-0000-000000000001');
select is((pg_temp.start('x', '08000000-0000-0000-0000-00000000000b',
  '08500000-0000-0000-0000-000000000001')) ->> 'status', 'rate_limited',
  'past the chat rate limit');

select * from finish();
rollback;
