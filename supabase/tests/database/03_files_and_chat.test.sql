-- Files and chat: the chat's service-side steps. Two scenarios in one transaction, each with its
-- own people and sessions (identifiers are unique in this file):
--   1. chat turns: start_chat_turn (deactivation and suspension, rate limit, own session,
--      wallet, one answer at a time, the preflight's reads, question saved),
--      chat_retrieve_as_caller (the caller's reads in one statement, as the caller), finish_chat_turn (answer saved, counted once, marker released), the
--      marker's expiry and tokens; clients can call none of them;
--   2. chat access: a member removed from a workbench can no longer write to their old session
--      (start answers not_found, begin/finish raise P0002, nothing is saved or taken), and answers
--      in flight on other sessions count against the wallet;
--   3. interrupted answers (saved as such, counted nowhere) and deleted files redacted from
--      stored answers (by the delete trigger, whoever deletes; by finish_chat_turn for a file
--      deleted while the answer was made).
-- The rate-limit check tightens the limits for everyone, so it comes last.
-- (Who may read and write files and chunks at all is in 01_tenancy.)
begin;
create extension if not exists pgtap with schema extensions;
select plan(72);

-- start_chat_turn for a test user on a session, its answer kept in t under p_name.
create temporary table t (name text primary key, r jsonb);
create function pg_temp.start(p_name text, p_user text, p_session text) returns jsonb
language sql as $$
  insert into t values (p_name, private.start_chat_turn(tests.get_supabase_uid(p_user),
    tests.uuid_for(p_session), 'question?', '10.0.0.1'))
  on conflict (name) do update set r = excluded.r
  returning r
$$;
-- finish_chat_turn with the marker token of the turn kept under p_name.
create function pg_temp.finish(p_name text, p_user text, p_session text) returns jsonb
language sql as $$
  select private.finish_chat_turn(tests.get_supabase_uid(p_user), tests.uuid_for(p_session),
    gen_random_uuid(), (select (r ->> 'token')::uuid from t where name = p_name), 'answer', '[]',
    '[]', 'm', 1, 1)
$$;

-- ================================================================== 1. chat turns
-- alice chats on an indexed and an empty workbench; bob is another user.
select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');
insert into public.workbench (id, name, owner_user_id) values
  (tests.uuid_for('alice-indexed'), 'Indexed', tests.get_supabase_uid('alice')),
  (tests.uuid_for('alice-empty'), 'Empty', tests.get_supabase_uid('alice'));
insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status) values
  (tests.uuid_for('alice-indexed'), 'pl.csv', 'csv', 1, 'h1', 'indexed');
insert into public.chat_session (id, workbench_id, user_id) values
  (tests.uuid_for('alice-chat'), tests.uuid_for('alice-indexed'), tests.get_supabase_uid('alice')),
  (tests.uuid_for('alice-empty-chat'), tests.uuid_for('alice-empty'),
   tests.get_supabase_uid('alice'));

------------------------------------------------------------------ clients call none of it
select tests.authenticate_as('alice');
select throws_ok($$ select private.start_chat_turn(auth.uid(), tests.uuid_for('alice-chat'),
  'x', '') $$, '42501', null, 'a user cannot start a turn directly');
select throws_ok($$ select private.finish_chat_turn(auth.uid(), tests.uuid_for('alice-chat'),
  gen_random_uuid(), null, 'x', '[]', '[]', null, 0, 0) $$, '42501', null,
  'a user cannot save answers or count them');
select throws_ok($$ select private.begin_chat_answer(tests.uuid_for('alice-chat'), auth.uid()) $$,
  '42501', null, 'a user cannot take the answering marker');
select throws_ok($$ select * from private.chat_answering $$, '42501', null,
  'a user cannot read the markers');
reset role;

------------------------------------------------------------------ start
select is(pg_temp.start('a1', 'alice', 'alice-chat') ->> 'status', 'ok', 'the owner starts a turn');
select ok((select (r ->> 'token') is not null and (r ->> 'has_indexed')::boolean
             from t where name = 'a1'),
  'with a marker, on an indexed workbench');
select results_eq($$ select role, content from public.message
  where id = (select (r ->> 'user_message_id')::uuid from t where name = 'a1') $$,
  $$ values ('user', 'question?') $$, 'the question is saved');
select ok((select (r -> 'ms' ? 'rate_limit') and (r -> 'ms' ? 'metering') from t where name = 'a1'),
  'with phase timings');
select is(pg_temp.start('a2', 'alice', 'alice-chat') ->> 'status', 'answer_in_progress',
  'a second turn on the session waits for the first');
select is((select count(*)::int from public.message
  where session_id = tests.uuid_for('alice-chat')), 1,
  'and saves nothing');
select is(pg_temp.start('b1', 'bob', 'alice-chat') ->> 'status', 'not_found',
  'another user''s session is not found');
select is(pg_temp.start('e1', 'alice', 'alice-empty-chat') ->> 'status', 'ok',
  'a workbench with nothing indexed still takes the question');
select ok((select r -> 'token' = 'null'::jsonb and not (r ->> 'has_indexed')::boolean
  from t where name = 'e1'), 'without a marker (nothing to answer or pay for)');
select is((select r ->> 'workbench_id' from t where name = 'a1'),
  tests.uuid_for('alice-indexed')::text, 'the preflight names the session''s workbench');
insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status) values
  (tests.uuid_for('alice-empty'), 'draft.pdf', 'pdf', 1, 'h-draft', 'pending');
select is((private.start_chat_turn(tests.get_supabase_uid('alice'),
  tests.uuid_for('alice-empty-chat'), 'in draft.pdf and q3_budget.xlsx?', '10.0.0.1',
  array['draft.pdf', 'q3_budget.xlsx'], array['% draft.pdf'])
  -> 'named') #>> '{0,file_name}', 'draft.pdf', 'and the files the question names');
-- sam is suspended, dora's erasure is pending: refused first (requireUser does not ask for them).
select tests.create_supabase_user(u) from unnest(array['sam', 'dora']) u;
insert into private.tenant_suspensions (tenant_id, tenant_kind, reason)
values (tests.get_supabase_uid('sam'), 'user', 'fraud');
insert into private.account_erasures (user_id, due_at, restore_token_hash)
values (tests.get_supabase_uid('dora'), now() + interval '30 days', 'h');
select is(pg_temp.start('s1', 'sam', 'alice-chat') ->> 'status', 'tenant_suspended',
  'a suspended account starts no turn');
select is(pg_temp.start('d1', 'dora', 'alice-chat') ->> 'status', 'account_deactivated',
  'nor does a deactivated one');

------------------------------------------------------------------ the caller's reads
insert into public.workbench_table_rows (workbench_id, file_id, sheet, row_number, header, cells)
select f.workbench_id, f.id, '', 1, '["a"]', '[]' from public.workbench_files f
 where f.workbench_id = tests.uuid_for('alice-indexed');
-- How many typed rows chat_retrieve_as_caller gives p_user (with p_role in the claims).
create function pg_temp.retrieve_as(p_user text, p_role text) returns integer
language sql as $$
  select count(*)::integer from private.chat_retrieve_as_caller(
    jsonb_build_object('sub', tests.get_supabase_uid(p_user), 'role', p_role), '{}',
    tests.uuid_for('alice-indexed'), null, null, 'revenue', 8, 20, 60, 1, 1, 400, 200, 100) r
   where r.chunk_id is null
$$;
select is(pg_temp.retrieve_as('alice', 'authenticated'), 1,
  'chat_retrieve_as_caller reads the typed rows the caller may read');
reset role;
select is(pg_temp.retrieve_as('bob', 'authenticated'), 0,
  'and none of a workbench they may not');
reset role;
select throws_ok($$ select pg_temp.retrieve_as('bob', 'service_role') $$, '42501', null,
  'it takes no claims but a signed-in user''s');
select tests.authenticate_as('alice');
select throws_ok($$ select pg_temp.retrieve_as('alice', 'authenticated') $$, '42501', null,
  'a user cannot call it');
reset role;
-- What it set lasts to the end of the transaction (here the whole file): cleared.
select set_config(c, '', true)
  from unnest(array['request.jwt.claims', 'request.jwt.claim.sub', 'request.jwt.claim.role',
                    'request.headers']) c;

------------------------------------------------------------------ finish
select is(private.end_chat_answer(tests.uuid_for('alice-chat'), gen_random_uuid()), false,
  'a wrong token releases nothing');
select is((private.finish_chat_turn(tests.get_supabase_uid('alice'), tests.uuid_for('alice-chat'),
  tests.uuid_for('alice-answer'), (select (r ->> 'token')::uuid from t where name = 'a1'),
  'the answer [1]', '[{"number": 1}]', '[]', 'llama', 10, 5)
  -> 'wallet' ->> 'chat_inference_counter')::int, 1,
  'finishing counts the answer');
select results_eq($$ select role, content, sources, model, prompt_tokens, completion_tokens
  from public.message where id = tests.uuid_for('alice-answer') $$,
  $$ values ('assistant', 'the answer [1]', '[{"number": 1}]'::jsonb, 'llama', 10, 5) $$,
  'the answer is saved with sources, model and usage');
select is_empty($$ select 1 from private.chat_answering
  where session_id = tests.uuid_for('alice-chat') $$, 'and the marker is released');
select is(pg_temp.start('a3', 'alice', 'alice-chat') ->> 'status', 'ok', 'the next turn may start');
select is(jsonb_array_length((select r -> 'history' from t where name = 'a3')), 2,
  'with the turns before its question as history');

------------------------------------------------------------------ expiry
update private.chat_answering set expires_at = now() - interval '1 second'
 where session_id = tests.uuid_for('alice-chat');
select is(pg_temp.start('a4', 'alice', 'alice-chat') ->> 'status', 'ok',
  'an expired marker (a function killed mid-answer) does not lock the session');
select isnt((select r ->> 'token' from t where name = 'a4'),
            (select r ->> 'token' from t where name = 'a3'),
  'a new token is issued');
select is(private.end_chat_answer(tests.uuid_for('alice-chat'),
  (select (r ->> 'token')::uuid from t where name = 'a3')), false,
  'the late first holder cannot release the new marker');
select ok(private.end_chat_answer(tests.uuid_for('alice-chat'),
  (select (r ->> 'token')::uuid from t where name = 'a4')), 'its holder can');

-- ================================================================== 2. chat access
-- olga shares a workbench with mike (a viewer); pam has three workbenches and no credits.
select tests.create_supabase_user(u) from unnest(array['olga', 'mike', 'pam']) u;
insert into public.workbench (id, name, owner_user_id) values
  (tests.uuid_for('olga-shared'), 'Shared', tests.get_supabase_uid('olga')),
  (tests.uuid_for('pam-one'), 'Pam one', tests.get_supabase_uid('pam')),
  (tests.uuid_for('pam-two'), 'Pam two', tests.get_supabase_uid('pam')),
  (tests.uuid_for('pam-three'), 'Pam three', tests.get_supabase_uid('pam'));
insert into public.workbench_members (workbench_id, user_id, role) values
  (tests.uuid_for('olga-shared'), tests.get_supabase_uid('mike'), 'viewer');
insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes, content_hash,
                                    status)
select tests.uuid_for(w), 'pl.csv', 'csv', 1, 'h-' || w, 'indexed'
  from unnest(array['olga-shared', 'pam-one', 'pam-two', 'pam-three']) w;
insert into public.chat_session (id, workbench_id, user_id) values
  (tests.uuid_for('mike-chat'), tests.uuid_for('olga-shared'), tests.get_supabase_uid('mike')),
  (tests.uuid_for('pam-chat-1'), tests.uuid_for('pam-one'), tests.get_supabase_uid('pam')),
  (tests.uuid_for('pam-chat-2'), tests.uuid_for('pam-two'), tests.get_supabase_uid('pam')),
  (tests.uuid_for('pam-chat-3'), tests.uuid_for('pam-three'), tests.get_supabase_uid('pam'));

------------------------------------------------------------------ a removed member
select is(pg_temp.start('m1', 'mike', 'mike-chat') ->> 'status', 'ok',
  'a member starts a turn on their session');
delete from public.workbench_members
 where workbench_id = tests.uuid_for('olga-shared') and user_id = tests.get_supabase_uid('mike');
select throws_ok($$ select pg_temp.finish('m1', 'mike', 'mike-chat') $$, 'P0002', null,
  'removed mid-answer, their answer is not saved');
select is((select count(*)::int from public.message
  where session_id = tests.uuid_for('mike-chat') and role = 'assistant'), 0,
  'no answer row');
select is((select coalesce(max(chat_inference_counter), 0) from public.wallet_counters
  where user_id = tests.get_supabase_uid('mike')), 0, 'and nothing is counted');
select private.end_chat_answer(tests.uuid_for('mike-chat'),
  (select (r ->> 'token')::uuid from t where name = 'm1'));
select is(pg_temp.start('m2', 'mike', 'mike-chat') ->> 'status', 'not_found',
  'a removed member''s old session is not found');
select is((select count(*)::int from public.message
  where session_id = tests.uuid_for('mike-chat')), 1,
  'their new question is not saved');
select is_empty($$ select 1 from private.chat_answering
  where session_id = tests.uuid_for('mike-chat') $$, 'and no marker is taken');
select throws_ok($$ select private.begin_chat_answer(tests.uuid_for('mike-chat'),
  tests.get_supabase_uid('mike')) $$, 'P0002', null,
  'begin_chat_answer refuses a removed member too');
insert into public.workbench_members (workbench_id, user_id, role) values
  (tests.uuid_for('olga-shared'), tests.get_supabase_uid('mike'), 'viewer');
select is(pg_temp.start('m3', 'mike', 'mike-chat') ->> 'status', 'ok',
  'added back, they may chat again');

------------------------------------------------------------------ answers in flight
-- pam: no credits, 8 answers into the bundle: one more answer is free, a second would need a
-- credit.
select private.spend_credits(tests.get_supabase_uid('pam'), 10, 'spend', 'drain-pam');
insert into public.wallet_counters (user_id, chat_inference_counter)
values (tests.get_supabase_uid('pam'), 8)
on conflict (user_id) do update set chat_inference_counter = 8;
select is(pg_temp.start('p1', 'pam', 'pam-chat-1') ->> 'status', 'ok',
  'the free 9th answer starts');
select is(pg_temp.start('p2', 'pam', 'pam-chat-2') ->> 'status', 'insufficient_credits',
  'a second answer in parallel, on another workbench, would complete an unpaid bundle: refused');
select is((select count(*)::int from public.message
  where session_id = tests.uuid_for('pam-chat-2')), 0, 'and its question is not saved');
select is(pg_temp.start('p1b', 'pam', 'pam-chat-1') ->> 'status', 'answer_in_progress',
  'the answering session itself still says 409, not 402');
update private.chat_answering set expires_at = now() - interval '1 second'
 where session_id = tests.uuid_for('pam-chat-1');
select is(pg_temp.start('p3', 'pam', 'pam-chat-2') ->> 'status', 'ok',
  'an expired marker is not an answer in flight');
select private.grant_credits(tests.get_supabase_uid('pam'), 1, 'grant', 'grant-pam');
select is(pg_temp.start('p4', 'pam', 'pam-chat-3') ->> 'status', 'ok',
  'with a credit, two answers in flight (8 + 2 = the 10th) are covered');
select is(pg_temp.start('p5', 'pam', 'pam-chat-1') ->> 'status', 'ok',
  'and so is a third (the 11th answer opens the next bundle)');
select is((pg_temp.finish('p3', 'pam', 'pam-chat-2') -> 'wallet' ->> 'chat_inference_counter')::int,
  9, 'finishing one counts it as before');

-- ================================================================== 3. interrupted and redacted
-- rita has a workbench with three indexed files and answers that cite them.
select tests.create_supabase_user('rita');
insert into public.workbench (id, name, owner_user_id) values
  (tests.uuid_for('rita-wb'), 'Rita', tests.get_supabase_uid('rita'));
insert into public.workbench_files (id, workbench_id, file_name, file_type, size_bytes,
                                    content_hash, status)
select tests.uuid_for('rita-' || f), tests.uuid_for('rita-wb'), n, 'txt', 1, 'h-rita-' || f,
       'indexed'
  from (values ('secret', 'secret-plan.pdf'), ('keep', 'keep.csv'), ('late', 'late-memo.txt'),
               ('indexing', 'indexing-notes.txt')) v(f, n);
insert into public.chat_session (id, workbench_id, user_id) values
  (tests.uuid_for('rita-chat'), tests.uuid_for('rita-wb'), tests.get_supabase_uid('rita'));
create function pg_temp.src(p_n integer, p_file text, p_name text, p_snippet text) returns jsonb
language sql as $$
  select jsonb_build_object('number', p_n, 'file_id', tests.uuid_for('rita-' || p_file),
    'file_name', p_name, 'chunk_id', gen_random_uuid(), 'snippet', p_snippet, 'page', 2)
$$;
insert into public.message (id, session_id, role, content, sources, warnings, model) values
  (tests.uuid_for('rita-extract'), tests.uuid_for('rita-chat'), 'assistant',
   E'Extract from your files:\n\n**secret-plan.pdf** (p. 2) [1]:\n> The merger price is 9 million.\n> Keep it quiet.\n\n**keep.csv** (rows 2–3) [2]:\n> Item | Amount\n> Rent | 1200',
   jsonb_build_array(pg_temp.src(1, 'secret', 'secret-plan.pdf', 'The merger price is 9 million.'),
                     pg_temp.src(2, 'keep', 'keep.csv', E'Item | Amount\nRent | 1200')),
   '[]', 'extractive'),
  (tests.uuid_for('rita-model'), tests.uuid_for('rita-chat'), 'assistant',
   'The merger price is 9 million [1], as secret-plan.pdf says.',
   jsonb_build_array(pg_temp.src(1, 'secret', 'secret-plan.pdf', 'The merger price')), '[]',
   'llama'),
  (tests.uuid_for('rita-warned'), tests.uuid_for('rita-chat'), 'assistant', 'Rent was 1200 [1].',
   jsonb_build_array(pg_temp.src(1, 'keep', 'keep.csv', 'Rent | 1200')),
   jsonb_build_array(jsonb_build_object('code', 'file_processing',
     'message', 'secret-plan.pdf is still being indexed; this answer cannot use it yet.',
     'file_id', tests.uuid_for('rita-secret'), 'file_name', 'secret-plan.pdf')), 'llama');

------------------------------------------------------------------ interrupted
select is(pg_temp.start('r1', 'rita', 'rita-chat') ->> 'status', 'ok', 'rita starts a turn');
select is(private.finish_chat_turn(tests.get_supabase_uid('rita'), tests.uuid_for('rita-chat'),
  tests.uuid_for('rita-cut'), (select (r ->> 'token')::uuid from t where name = 'r1'),
  'The merger pri', '[]', '[]', 'llama', 0, 0, p_interrupted => true) -> 'wallet' -> 'counted',
  'false'::jsonb, 'an interrupted answer is not counted');
select results_eq($$ select content, status from public.message
  where id = tests.uuid_for('rita-cut') $$, $$ values ('The merger pri', 'interrupted') $$,
  'it is saved with its partial text, marked interrupted');
select is((select coalesce(max(chat_inference_counter), 0) from public.wallet_counters
  where user_id = tests.get_supabase_uid('rita')), 0, 'the counter did not move');
select is_empty($$ select 1 from private.chat_answering
  where session_id = tests.uuid_for('rita-chat') $$, 'and the marker is released');

------------------------------------------------------------------ a file deleted by its owner
select tests.authenticate_as('rita');
delete from public.workbench_files where id = tests.uuid_for('rita-secret');
reset role;
select is((select sources from public.message where id = tests.uuid_for('rita-extract')) -> 0,
  '{"number": 1, "deleted": true}'::jsonb,
  'a source of the deleted file keeps only its number and a deleted marker');
select is((select sources -> 1 ->> 'file_name' from public.message
  where id = tests.uuid_for('rita-extract')), 'keep.csv', 'the other sources stay');
select is((select content from public.message where id = tests.uuid_for('rita-extract')),
  E'Extract from your files:\n\n[1] (quoted passage removed: its file was deleted)\n\n**keep.csv** (rows 2–3) [2]:\n> Item | Amount\n> Rent | 1200',
  'the extract loses the deleted file''s quoted passage and keeps the others');
select is((select content from public.message where id = tests.uuid_for('rita-model')),
  'The merger price is 9 million [1], as [deleted file] says.',
  'a model answer loses the file''s name');
select ok((select warnings @> '[{"code": "source_deleted"}]' from public.message
  where id = tests.uuid_for('rita-model')), 'and is flagged as relying on a deleted file');
select is((select warnings -> 0 from public.message where id = tests.uuid_for('rita-warned')),
  '{"code": "file_processing", "deleted": true, "message": "This warning was about a file that has since been deleted."}'::jsonb,
  'a warning that named the file loses its name and id');
select ok((select not (warnings @> '[{"code": "source_deleted"}]') from public.message
  where id = tests.uuid_for('rita-warned')), 'an answer that did not cite it is not flagged');
select is_empty($$ select 1 from public.message
  where session_id = tests.uuid_for('rita-chat')
    and (content like '%secret-plan%' or content like '%quiet%'
         or sources::text like '%' || tests.uuid_for('rita-secret') || '%'
         or warnings::text like '%' || tests.uuid_for('rita-secret') || '%'
         or sources::text like '%secret-plan%' or warnings::text like '%secret-plan%') $$,
  'nothing stored names, quotes or points at the deleted file');

------------------------------------------------------------------ a file deleted mid-answer
select is(pg_temp.start('r2', 'rita', 'rita-chat') ->> 'status', 'ok', 'another turn starts');
delete from public.workbench_files where id = tests.uuid_for('rita-late');
insert into t values ('r2-done', private.finish_chat_turn(tests.get_supabase_uid('rita'),
  tests.uuid_for('rita-chat'), tests.uuid_for('rita-late-answer'),
  (select (r ->> 'token')::uuid from t where name = 'r2'),
  'Per late-memo.txt, rent is 1200 [1][2].',
  jsonb_build_array(pg_temp.src(1, 'late', 'late-memo.txt', 'rent is 1200'),
                    pg_temp.src(2, 'keep', 'keep.csv', 'Rent | 1200')), '[]', 'llama', 5, 5));
select is((select r -> 'message' -> 'sources' -> 0 from t where name = 'r2-done'),
  '{"number": 1, "deleted": true}'::jsonb,
  'an answer citing a file deleted while it was made comes back without that citation');
select is((select r -> 'message' ->> 'content' from t where name = 'r2-done'),
  'Per [deleted file], rent is 1200 [1][2].', 'nor its name');
select results_eq($$ select sources -> 0, sources -> 1 ->> 'file_name', status from public.message
  where id = tests.uuid_for('rita-late-answer') $$,
  $$ values ('{"number": 1, "deleted": true}'::jsonb, 'keep.csv', 'complete') $$,
  'and is stored so; the other citation stays');
select is((select r -> 'wallet' -> 'counted' from t where name = 'r2-done'), 'true'::jsonb,
  'a complete answer is still counted');
select is(pg_temp.start('r3', 'rita', 'rita-chat') ->> 'status', 'ok', 'a third turn starts');
delete from public.workbench_files where id = tests.uuid_for('rita-indexing');
select private.finish_chat_turn(tests.get_supabase_uid('rita'), tests.uuid_for('rita-chat'),
  tests.uuid_for('rita-warned-answer'), (select (r ->> 'token')::uuid from t where name = 'r3'),
  'Rent is 1200 [1].', jsonb_build_array(pg_temp.src(1, 'keep', 'keep.csv', 'Rent | 1200')),
  jsonb_build_array(jsonb_build_object('code', 'file_not_ready',
    'file_id', tests.uuid_for('rita-indexing'), 'file_name', 'indexing-notes.txt',
    'message', 'indexing-notes.txt is still being indexed')), 'llama', 5, 5);
select ok((select warnings::text not like '%indexing-notes%' from public.message
            where id = tests.uuid_for('rita-warned-answer')),
  'a file named only in a warning and deleted mid-answer is not named in the stored answer');

------------------------------------------------------------------ a workbench deleted whole
select lives_ok($$ delete from public.workbench where id = tests.uuid_for('rita-wb') $$,
  'deleting a workbench with cited files (its files and messages cascade) works');
select is_empty($$ select 1 from public.message where session_id = tests.uuid_for('rita-chat') $$,
  'and its messages are gone');

-- ================================================================== 1. chat turns, continued
------------------------------------------------------------------ wallet and rate limit
select private.spend_credits(tests.get_supabase_uid('alice'), 10, 'spend', 'drain-alice');
update public.wallet_counters set chat_inference_counter = 9
 where user_id = tests.get_supabase_uid('alice');
select is(pg_temp.start('a5', 'alice', 'alice-chat') ->> 'status', 'insufficient_credits',
  'no credit for the bundle this answer would complete: refused before any model call');
update private.settings set value = jsonb_set(value, '{chat}',
  '{"capacity": 1, "per_minute": 1, "ip_capacity": 100, "ip_per_minute": 100}')
 where key = 'rate_limits';
select pg_temp.start('x', 'bob', 'alice-chat');
select is(pg_temp.start('x', 'bob', 'alice-chat') ->> 'status', 'rate_limited',
  'past the chat rate limit');

select * from finish();
rollback;
