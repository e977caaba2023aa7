-- Reports (issue 11): private.create_report charges once per Idempotency-Key and replays the same
-- report for the same body, refuses another body (PT409) and an empty wallet (PT402, keeping
-- nothing); private.fail_report refunds once; clients can neither call these nor write reports;
-- members read their workbench's reports, others see none; the reports bucket is private; a
-- deleted report's PDF is queued for collection.
begin;
create extension if not exists pgtap with schema extensions;
select plan(18);

insert into auth.users (id, email) values
  ('0b110000-0000-0000-0000-00000000000a', 'owner@example.com'),
  ('0b110000-0000-0000-0000-00000000000b', 'stranger@example.com');
insert into public.workbench (id, name, owner_user_id)
values ('0e110000-0000-0000-0000-000000000001', 'Books', '0b110000-0000-0000-0000-00000000000a');

create temporary table t (report_id uuid);
grant all on t to authenticated;

------------------------------------------------------------------ create, replay, conflict
insert into t select (private.create_report('0b110000-0000-0000-0000-00000000000a',
  '0e110000-0000-0000-0000-000000000001', 'financial_summary', 'H1', null, 'key-1', 'hash-1')
  ->> 'report_id')::uuid;
select results_eq($$ select status, stage, cost_credits from public.reports $$,
  $$ values ('queued'::text, 'kpis'::text, 1) $$, 'the report is queued at its first step');
select results_eq($$ select balance from public.wallet
  where user_id = '0b110000-0000-0000-0000-00000000000a' $$, array[9], 'one credit charged');
select is((private.create_report('0b110000-0000-0000-0000-00000000000a',
  '0e110000-0000-0000-0000-000000000001', 'financial_summary', 'H1', null, 'key-1', 'hash-1')
  ->> 'report_id')::uuid, (select report_id from t), 'the same key and body replay the report');
select results_eq($$ select count(*)::int from public.reports $$, array[1], 'still one report');
select results_eq($$ select balance from public.wallet
  where user_id = '0b110000-0000-0000-0000-00000000000a' $$, array[9], 'and one charge');
select throws_ok($$ select private.create_report('0b110000-0000-0000-0000-00000000000a',
  '0e110000-0000-0000-0000-000000000001', 'variance', 'Other', null, 'key-1', 'hash-2') $$,
  'PT409', null, 'the same key with another body is refused');
select results_eq($$ select count(*)::int from pgmq.q_report_jobs
  where message ->> 'report_id' = (select report_id::text from t) $$, array[1], 'queued once');

------------------------------------------------------------------ no credit
update public.wallet set balance = 0 where user_id = '0b110000-0000-0000-0000-00000000000b';
insert into public.workbench (id, name, owner_user_id)
values ('0e110000-0000-0000-0000-000000000002', 'Other', '0b110000-0000-0000-0000-00000000000b');
select throws_ok($$ select private.create_report('0b110000-0000-0000-0000-00000000000b',
  '0e110000-0000-0000-0000-000000000002', 'cash_flow', 'Cash', null, 'poor', 'h') $$,
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
  where user_id = '0b110000-0000-0000-0000-00000000000a' and reason like 'report%' order by reason $$,
  $$ values ('report'::text, -1), ('report_refund'::text, 1) $$, 'charged once, refunded once');

------------------------------------------------------------------ clients
select tests.authenticate_as('0b110000-0000-0000-0000-00000000000a');
select throws_ok($$ select private.create_report('0b110000-0000-0000-0000-00000000000a',
  '0e110000-0000-0000-0000-000000000001', 'financial_summary', 'x', null, 'k', 'h') $$,
  '42501', null, 'clients cannot create reports directly');
select results_eq($$ select count(*)::int from public.reports $$, array[1],
  'a member reads the workbench''s reports');
select tests.authenticate_as('0b110000-0000-0000-0000-00000000000b');
select is_empty($$ select 1 from public.reports $$, 'another tenant sees none');
reset role;

------------------------------------------------------------------ storage
update public.reports set storage_path = 'w/r.pdf';
delete from public.reports;
select results_eq($$ select message ->> 'bucket', message ->> 'path' from pgmq.q_storage_gc
  where message ->> 'bucket' = 'reports' $$, $$ values ('reports'::text, 'w/r.pdf'::text) $$,
  'a deleted report''s PDF is queued for collection');
select results_eq($$ select public from storage.buckets where id = 'reports' $$, array[false],
  'the reports bucket is private');

select * from finish();
rollback;
