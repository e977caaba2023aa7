-- Channels (issue 20): company admins create channels through the RPCs (members and other
-- tenants may not), the token goes to Vault with only its last four characters on the row, an
-- inbound message is stored once (ManyChat's id, or subscriber + text + minute) and queued once,
-- STOP / START opt out and back in, members read messages and masked phones only, clients call
-- no RPC, an answer's parts are recorded once and never sent twice, and the Vault token goes
-- with the channel.
begin;
create extension if not exists pgtap with schema extensions;
select plan(25);

-- olga owns Acme (an admin by ownership), max is a member, zed another tenant.
select tests.create_supabase_user(u) from unnest(array['olga', 'max', 'zed']) u;
insert into public.company (id, name, created_by)
values (tests.uuid_for('acme'), 'Acme', tests.get_supabase_uid('olga')),
       (tests.uuid_for('zco'), 'Zco', tests.get_supabase_uid('zed'));
insert into public.company_members (company_id, user_id, role)
values (tests.uuid_for('acme'), tests.get_supabase_uid('max'), 'member');
insert into public.workbench (id, name, owner_user_id, company_id) values
  (tests.uuid_for('acme-books'), 'Acme books', tests.get_supabase_uid('olga'),
   tests.uuid_for('acme')),
  (tests.uuid_for('zco-books'), 'Zco books', tests.get_supabase_uid('zed'),
   tests.uuid_for('zco'));

create temporary table t (channel_id uuid);
grant all on t to authenticated;

------------------------------------------------------------------ create
select is(private.create_channel(tests.get_supabase_uid('max'), tests.uuid_for('acme'),
  tests.uuid_for('acme-books'), 'WhatsApp', 'tok-secret-1234', sha256('s1'::bytea)), null,
  'a member cannot create a channel');
select is(private.create_channel(tests.get_supabase_uid('olga'), tests.uuid_for('acme'),
  tests.uuid_for('zco-books'), 'WhatsApp', 'tok-secret-1234', sha256('s1'::bytea)), null,
  'nor link another company''s workbench');
insert into t select private.create_channel(tests.get_supabase_uid('olga'),
  tests.uuid_for('acme'), tests.uuid_for('acme-books'), 'WhatsApp', 'tok-secret-1234',
  sha256('s1'::bytea), '{"opt_out_words": ["Arret"]}');
select isnt((select channel_id from t), null, 'the owner creates one');
select results_eq($$ select token_last4, ack_text, language, opt_out_words
                      from public.channels $$,
  $$ values ('1234'::text, 'OK, bien reçu'::text, 'fr'::text, array['arret']) $$,
  'last four characters kept, defaults set, opt-out words lower-cased');
select is(private.channel_token((select channel_id from t)), 'tok-secret-1234',
  'the token is read back from Vault');
select is((select count(*)::int from vault.secrets s
            where s.id = (select token_secret_id from public.channels)), 1,
  'one Vault secret holds it');

------------------------------------------------------------------ inbound, dedupe, queue
select is(private.receive_channel_message((select channel_id from t), 'sub-1', 'Bonjour ?',
  'm-1', '+33612345678', 'Léa') ->> 'status', 'queued', 'a new message is queued');
select is(private.receive_channel_message((select channel_id from t), 'sub-1', 'Bonjour ?',
  'm-1') ->> 'status', 'duplicate', 'the same ManyChat id again is a duplicate');
select is(private.receive_channel_message((select channel_id from t), 'sub-1', 'Sans id')
  ->> 'status', 'queued', 'a message without id is queued');
select is(private.receive_channel_message((select channel_id from t), 'sub-1', 'Sans id')
  ->> 'status', 'duplicate', 'and the same text in the same minute is a duplicate');
select is((select count(*)::int from pgmq.q_channel_inbound), 2, 'two messages queued, once each');

------------------------------------------------------------------ opt-out
select is(private.receive_channel_message((select channel_id from t), 'sub-1', ' ARRET ')
  ->> 'status', 'opted_out', 'a configured word opts out');
select is(private.receive_channel_message((select channel_id from t), 'sub-1', 'Une question')
  ->> 'status', 'ignored', 'an opted-out subscriber''s message is not queued');
select is(private.receive_channel_message((select channel_id from t), 'sub-1', 'START')
  ->> 'status', 'opted_in', 'START opts back in');
select is((select count(*)::int from pgmq.q_channel_inbound), 2, 'nothing more was queued');

------------------------------------------------------------------ answers: once, never resent
select is(jsonb_array_length(private.record_channel_answer(
  (select id from public.channel_messages where dedupe_key = 'mc:m-1'),
  array['part one', 'part two'], 'm', true)), 2, 'the intent holds both parts');
select is(jsonb_array_length(private.record_channel_answer(
  (select id from public.channel_messages where dedupe_key = 'mc:m-1'),
  array['other text'], 'm', true)), 2, 'a second attempt adds nothing');
select is((select chat_inference_counter from public.wallet_counters
            where user_id = tests.uuid_for('acme')), 1,
  'the answer is counted once against the company''s wallet');
select is(private.claim_channel_send((select id from public.channel_messages
  where part = 0)), true, 'the first claim may send');
select is(private.claim_channel_send((select id from public.channel_messages
  where part = 0)), false,
  'a claim after a send that was never recorded does not send again');

------------------------------------------------------------------ what members see
select tests.authenticate_as('max');
select results_eq($$ select phone_masked from public.channel_subscribers $$,
  array['••••••••5678'], 'a member sees the phone masked');
select throws_ok($$ select phone from public.channel_subscribers $$, '42501', null,
  'and cannot read the phone itself');
select throws_ok($$ select private.receive_channel_message(gen_random_uuid(), 's', 't') $$,
  '42501', null, 'nor call the channel RPCs');
reset role;

------------------------------------------------------------------ the token goes with the channel
select is(private.delete_channel(tests.get_supabase_uid('max'), (select channel_id from t)), false,
  'a member cannot delete the channel');
delete from public.workbench where id = tests.uuid_for('acme-books');
select is((select count(*)::int from vault.secrets s where s.name like 'channel_token_%'), 0,
  'deleting its workbench deletes the channel and its Vault token');

select * from finish();
rollback;
