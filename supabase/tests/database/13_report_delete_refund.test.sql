-- Reports deleted before they were made (issue 11 review): deleting a workbench refunds its queued
-- and processing reports once, leaves ready and failed ones (already paid for or refunded) alone,
-- still queues a deleted report's PDF for collection, and deleting a user (whose wallet goes with
-- it) is not blocked by the refund.
begin;
create extension if not exists pgtap with schema extensions;
select plan(7);

insert into auth.users (id, email) values
  ('0b120000-0000-0000-0000-00000000000a', 'owner@example.com'),
  ('0b120000-0000-0000-0000-00000000000b', 'leaver@example.com');
insert into public.workbench (id, name, owner_user_id) values
  ('0e120000-0000-0000-0000-000000000001', 'Books', '0b120000-0000-0000-0000-00000000000a'),
  ('0e120000-0000-0000-0000-000000000002', 'Leaver', '0b120000-0000-0000-0000-00000000000b');

-- Four reports of the owner (10 credits → 6): queued, processing, ready (with a PDF), failed.
select private.create_report('0b120000-0000-0000-0000-00000000000a',
  '0e120000-0000-0000-0000-000000000001', 'financial_summary', t, null, 'key-' || t, 'h')
  from unnest(array['queued', 'processing', 'ready', 'failed']) t;
update public.reports set status = 'processing' where title = 'processing';
update public.reports set status = 'ready', stage = 'done', storage_path = 'w/ready.pdf'
 where title = 'ready';
select private.fail_report((select id from public.reports where title = 'failed'), 'x');
select results_eq($$ select balance from public.wallet
  where user_id = '0b120000-0000-0000-0000-00000000000a' $$, array[7],
  'four charged, the failed one refunded');

delete from public.workbench where id = '0e120000-0000-0000-0000-000000000001';
select is_empty($$ select 1 from public.reports
  where workbench_id = '0e120000-0000-0000-0000-000000000001' $$, 'the reports went with it');
select results_eq($$ select balance from public.wallet
  where user_id = '0b120000-0000-0000-0000-00000000000a' $$, array[9],
  'the queued and processing reports are refunded, the ready one is not');
select results_eq($$ select reference_id, count(*)::int from public.wallet_usage
  where user_id = '0b120000-0000-0000-0000-00000000000a' and reason = 'report_refund'
  group by reference_id order by reference_id $$,
  $$ values ('0b120000-0000-0000-0000-00000000000a:key-failed'::text, 1),
            ('0b120000-0000-0000-0000-00000000000a:key-processing'::text, 1),
            ('0b120000-0000-0000-0000-00000000000a:key-queued'::text, 1) $$,
  'each refunded once (the failed one is not refunded twice)');
select results_eq($$ select message ->> 'path' from pgmq.q_storage_gc
  where message ->> 'bucket' = 'reports' $$, array['w/ready.pdf'::text],
  'the ready report''s PDF is still queued for collection');

-- A user with a queued report leaves: the cascade is not blocked by a refund to a gone wallet.
select private.create_report('0b120000-0000-0000-0000-00000000000b',
  '0e120000-0000-0000-0000-000000000002', 'cash_flow', 'Cash', null, 'key-l', 'h');
select lives_ok($$ delete from auth.users where id = '0b120000-0000-0000-0000-00000000000b' $$,
  'deleting a user with a queued report works');
select is_empty($$ select 1 from public.reports
  where user_id = '0b120000-0000-0000-0000-00000000000b' $$, 'and the report is gone');

select * from finish();
rollback;
