-- Reports: charging, replay, refunds and the stored PDF. Two scenarios in one transaction, each
-- with its own people and workbenches (identifiers are unique in this file):
--   1. reports (issue 11): private.create_report charges once per Idempotency-Key and replays the
--      same report for the same body, refuses another body (PT409) and an empty wallet (PT402,
--      keeping nothing); private.fail_report refunds once; clients can neither call these nor
--      write reports; members read their workbench's reports, others see none; the reports
--      bucket is private; a deleted report's PDF is queued for collection;
--   2. reports deleted before they were made (issue 11 review): deleting a workbench refunds its
--      queued and processing reports once, leaves ready and failed ones (already paid for or
--      refunded) alone, still queues a deleted report's PDF for collection, and deleting a user
--      (whose wallet goes with it) is not blocked by the refund.
-- Scenario 1 runs first, so its unfiltered reads of public.reports see its own report only; each
-- scenario's PDFs live under its own prefix.
begin;
create extension if not exists pgtap with schema extensions;
select plan(25);

-- ================================================================== 1. reports
-- olive owns the Books workbench; sid is another tenant.
select tests.create_supabase_user('olive');
select tests.create_supabase_user('sid');
insert into public.workbench (id, name, owner_user_id)
values (tests.uuid_for('olive-books'), 'Books', tests.get_supabase_uid('olive'));

create temporary table t (report_id uuid);
grant all on t to authenticated;

------------------------------------------------------------------ create, replay, conflict
insert into t select (private.create_report(tests.get_supabase_uid('olive'),
  tests.uuid_for('olive-books'), 'financial_summary', 'H1', null, 'key-1', 'hash-1')
  ->> 'report_id')::uuid;
select results_eq($$ select status, stage, cost_credits from public.reports $$,
  $$ values ('queued'::text, 'kpis'::text, 1) $$, 'the report is queued at its first step');
select results_eq($$ select balance from public.wallet
  where user_id = tests.get_supabase_uid('olive') $$, array[9], 'one credit charged');
select is((private.create_report(tests.get_supabase_uid('olive'),
  tests.uuid_for('olive-books'), 'financial_summary', 'H1', null, 'key-1', 'hash-1')
  ->> 'report_id')::uuid, (select report_id from t), 'the same key and body replay the report');
select results_eq($$ select count(*)::int from public.reports $$, array[1], 'still one report');
select results_eq($$ select balance from public.wallet
  where user_id = tests.get_supabase_uid('olive') $$, array[9], 'and one charge');
select throws_ok($$ select private.create_report(tests.get_supabase_uid('olive'),
  tests.uuid_for('olive-books'), 'variance', 'Other', null, 'key-1', 'hash-2') $$,
  'PT409', null, 'the same key with another body is refused');
select results_eq($$ select count(*)::int from pgmq.q_report_jobs
  where message ->> 'report_id' = (select report_id::text from t) $$, array[1], 'queued once');

------------------------------------------------------------------ no credit
update public.wallet set balance = 0 where user_id = tests.get_supabase_uid('sid');
insert into public.workbench (id, name, owner_user_id)
values (tests.uuid_for('sid-other'), 'Other', tests.get_supabase_uid('sid'));
select throws_ok($$ select private.create_report(tests.get_supabase_uid('sid'),
  tests.uuid_for('sid-other'), 'cash_flow', 'Cash', null, 'poor', 'h') $$,
  'PT402', null, 'an empty wallet is refused');
select is_empty($$ select 1 from private.idempotency_keys where key = 'poor' $$,
  'nothing is kept for a refused key');

------------------------------------------------------------------ failure and refund
select ok(private.fail_report((select report_id from t), 'report failed after 3 attempts: x'),
  'fail_report marks the report failed');
select ok(not private.fail_report((select report_id from t), 'again'), 'only once');
select results_eq($$ select status, error_message from public.reports $$,
  $$ values ('failed'::text, 'report failed after 3 attempts: x'::text) $$, 'with the reason');
select results_eq($$ select reason, amount from public.wallet_usage
  where user_id = tests.get_supabase_uid('olive') and reason like 'report%' order by reason $$,
  $$ values ('report'::text, -1), ('report_refund'::text, 1) $$, 'charged once, refunded once');

------------------------------------------------------------------ clients
select tests.authenticate_as('olive');
select throws_ok($$ select private.create_report(tests.get_supabase_uid('olive'),
  tests.uuid_for('olive-books'), 'financial_summary', 'x', null, 'k', 'h') $$,
  '42501', null, 'clients cannot create reports directly');
select results_eq($$ select count(*)::int from public.reports $$, array[1],
  'a member reads the workbench''s reports');
select tests.authenticate_as('sid');
select is_empty($$ select 1 from public.reports $$, 'another tenant sees none');
reset role;

------------------------------------------------------------------ storage
update public.reports set storage_path = 'olive-books/r.pdf'
 where workbench_id = tests.uuid_for('olive-books');
delete from public.reports where workbench_id = tests.uuid_for('olive-books');
select results_eq($$ select message ->> 'bucket', message ->> 'path' from pgmq.q_storage_gc
  where message ->> 'bucket' = 'reports' and message ->> 'path' like 'olive-books/%' $$,
  $$ values ('reports'::text, 'olive-books/r.pdf'::text) $$,
  'a deleted report''s PDF is queued for collection');
select results_eq($$ select public from storage.buckets where id = 'reports' $$, array[false],
  'the reports bucket is private');

-- ================================================================== 2. deleted before made
-- ruth owns the Books workbench; lars leaves with a queued report.
select tests.create_supabase_user('ruth');
select tests.create_supabase_user('lars');
insert into public.workbench (id, name, owner_user_id) values
  (tests.uuid_for('ruth-books'), 'Books', tests.get_supabase_uid('ruth')),
  (tests.uuid_for('lars-wb'), 'Leaver', tests.get_supabase_uid('lars'));

-- Four reports of ruth's (10 credits → 6): queued, processing, ready (with a PDF), failed.
select private.create_report(tests.get_supabase_uid('ruth'),
  tests.uuid_for('ruth-books'), 'financial_summary', t, null, 'key-' || t, 'h')
  from unnest(array['queued', 'processing', 'ready', 'failed']) t;
update public.reports set status = 'processing'
 where workbench_id = tests.uuid_for('ruth-books') and title = 'processing';
update public.reports set status = 'ready', stage = 'done', storage_path = 'ruth-books/ready.pdf'
 where workbench_id = tests.uuid_for('ruth-books') and title = 'ready';
select private.fail_report((select id from public.reports
  where workbench_id = tests.uuid_for('ruth-books') and title = 'failed'), 'x');
select results_eq($$ select balance from public.wallet
  where user_id = tests.get_supabase_uid('ruth') $$, array[7],
  'four charged, the failed one refunded');

delete from public.workbench where id = tests.uuid_for('ruth-books');
select is_empty($$ select 1 from public.reports
  where workbench_id = tests.uuid_for('ruth-books') $$, 'the reports went with it');
select results_eq($$ select balance from public.wallet
  where user_id = tests.get_supabase_uid('ruth') $$, array[9],
  'the queued and processing reports are refunded, the ready one is not');
select results_eq($$ select reference_id, count(*)::int from public.wallet_usage
  where user_id = tests.get_supabase_uid('ruth') and reason = 'report_refund'
  group by reference_id order by reference_id $$,
  $$ values (tests.get_supabase_uid('ruth') || ':key-failed', 1),
            (tests.get_supabase_uid('ruth') || ':key-processing', 1),
            (tests.get_supabase_uid('ruth') || ':key-queued', 1) $$,
  'each refunded once (the failed one is not refunded twice)');
select results_eq($$ select message ->> 'path' from pgmq.q_storage_gc
  where message ->> 'bucket' = 'reports' and message ->> 'path' like 'ruth-books/%' $$,
  array['ruth-books/ready.pdf'::text],
  'the ready report''s PDF is still queued for collection');

-- A user with a queued report leaves: the cascade is not blocked by a refund to a gone wallet.
select private.create_report(tests.get_supabase_uid('lars'),
  tests.uuid_for('lars-wb'), 'cash_flow', 'Cash', null, 'key-l', 'h');
create temp table lars on commit drop as select tests.get_supabase_uid('lars') as id;
select lives_ok($$ delete from auth.users where id = (select id from lars) $$,
  'deleting a user with a queued report works');
select is_empty($$ select 1 from public.reports where user_id = (select id from lars) $$,
  'and the report is gone');

select * from finish();
rollback;
