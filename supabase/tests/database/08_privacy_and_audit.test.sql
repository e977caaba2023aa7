-- Privacy and audit (issue 23): the audit trail's triggers record actor and request id for each
-- change, company admins read only their company's rows, nobody updates or deletes a row but the
-- retention job (and only rows past the window); the API sign-in is recorded once per session;
-- an erasure deactivates at once (requests and debits refused), is undone by a restore within
-- the window, and after it is carried out in steps that resume: personal data gone, company data
-- kept, the ledger kept without the person's email.
begin;
create extension if not exists pgtap with schema extensions;
select plan(36);

select tests.create_supabase_user('pam');
select tests.create_supabase_user('quinn');
select tests.create_supabase_user('rex');

-- ================================================================== audit rows from triggers
select set_config('request.headers',
  '{"x-request-id": "req-audit-1", "x-forwarded-for": "203.0.113.7, 10.0.0.1"}', true);
select tests.authenticate_as('pam');
insert into public.company (id, name) values (tests.uuid_for('pam-co'), 'Pam Co');
insert into public.workbench (id, name, company_id)
values (tests.uuid_for('pam-co-wb'), 'Shared', tests.uuid_for('pam-co'));
reset role;
-- quinn joins pam's company (as an accepted invitation would add her), then is promoted.
insert into public.company_members (company_id, user_id, role)
values (tests.uuid_for('pam-co'), tests.get_supabase_uid('quinn'), 'member');
select tests.authenticate_as('pam');
update public.company_members set role = 'admin'
 where company_id = tests.uuid_for('pam-co') and user_id = tests.get_supabase_uid('quinn');
reset role;

select results_eq($$ select actor, request_id, ip from private.audit_log
  where action = 'company.created' and entity_id = tests.uuid_for('pam-co')::text $$,
  $$ values (tests.get_supabase_uid('pam')::text, 'req-audit-1'::text, '203.0.113.7'::text) $$,
  'creating a company writes one row with actor, request id and client IP');
select results_eq($$ select company_id from private.audit_log
  where action = 'workbench.created' and entity_id = tests.uuid_for('pam-co-wb')::text $$,
  $$ values (tests.uuid_for('pam-co')) $$, 'a company workbench''s row carries the company');
select results_eq($$ select details ->> 'from', details ->> 'to', actor from private.audit_log
  where action = 'company_member.role_changed' $$,
  $$ values ('member'::text, 'admin'::text, tests.get_supabase_uid('pam')::text) $$,
  'a role change records the old and new role and who changed it');
select is((select count(*)::int from private.audit_log where action = 'company_member.created'
  and company_id = tests.uuid_for('pam-co')), 2, 'the owner row and the new member are recorded');

-- Invitations, workbench renames and reports, each with its row.
select set_config('request.headers', '{"x-request-id": "req-audit-2"}', true);
select tests.authenticate_as('pam');
update public.workbench set name = 'Shared books' where id = tests.uuid_for('pam-co-wb');
reset role;
insert into public.company_invitations (id, company_id, email, invited_by, expires_at)
values (tests.uuid_for('pam-invite'), tests.uuid_for('pam-co'), 'someone@example.com',
        tests.get_supabase_uid('pam'), now() + interval '1 day');
delete from public.company_invitations where id = tests.uuid_for('pam-invite');
insert into public.reports (id, workbench_id, user_id, report_type, title, idempotency_key)
values (tests.uuid_for('pam-report'), tests.uuid_for('pam-co-wb'), tests.get_supabase_uid('pam'),
        'financial_summary', 'Q1', 'k-audit');
select results_eq($$ select action, details, request_id from private.audit_log
  where request_id = 'req-audit-2' and action like 'workbench.%' $$,
  $$ values ('workbench.updated'::text, '{"changed": ["name"]}'::jsonb, 'req-audit-2'::text) $$,
  'a rename records the changed column, not its value');
select results_eq($$ select action from private.audit_log
  where entity_id in (tests.uuid_for('pam-invite')::text, tests.uuid_for('pam-report')::text)
  order by id $$,
  $$ values ('invitation.created'::text), ('invitation.deleted'), ('report.created') $$,
  'invitations and reports are recorded');

-- ================================================================== reading the audit trail
select tests.authenticate_as('quinn');
select ok((select count(*) from public.company_audit(tests.uuid_for('pam-co'))) >= 4,
  'a company admin reads the company''s rows');
select is((select count(*)::int from public.company_audit(tests.uuid_for('pam-co'),
  p_action => 'company_member.role_changed')), 1, 'the action filter applies');
select is((select count(*)::int from public.company_audit(tests.uuid_for('pam-co'),
  p_actor => tests.get_supabase_uid('quinn')::text)), 0, 'the actor filter applies');
reset role;
select tests.authenticate_as('rex');
select throws_ok($$ select * from public.company_audit(tests.uuid_for('pam-co')) $$, '42501',
  null, 'a user of another tenant cannot read the company''s rows');
select throws_ok($$ select * from private.audit_log $$, '42501', null,
  'no client reads the table directly');
reset role;
-- A plain member (not an admin) cannot either.
update public.company_members set role = 'member'
 where company_id = tests.uuid_for('pam-co') and user_id = tests.get_supabase_uid('quinn');
select tests.authenticate_as('quinn');
select throws_ok($$ select * from public.company_audit(tests.uuid_for('pam-co')) $$, '42501',
  null, 'a plain member cannot read the company''s rows');
reset role;

-- ================================================================== append-only
select tests.authenticate_as_service_role();
select throws_ok($$ update private.audit_log set action = 'x' $$, '42501', null,
  'the service role cannot update audit rows');
select throws_ok($$ delete from private.audit_log $$, '42501', null,
  'the service role cannot delete audit rows');
reset role;
select throws_ok($$ update private.audit_log set action = 'x' $$, '42501', null,
  'not even the owner can update audit rows');
select throws_ok($$ delete from private.audit_log $$, '42501', null,
  'not even the owner can delete audit rows outside the retention job');
select set_config('private.audit_prune', 'on', true);
select throws_ok($$ delete from private.audit_log $$, '42501', null,
  'the prune switch alone does not delete rows inside the window');
select set_config('private.audit_prune', 'off', true);
insert into private.audit_log (action, entity, created_at)
values ('old.thing', 'test', now() - interval '400 days');
select is(private.prune_audit_log(), 1, 'the retention job removes the row past the window');
select is((select count(*)::int from private.audit_log where action = 'old.thing'), 0,
  'the old row is gone');
select ok((select count(*) from private.audit_log) > 0, 'the rows inside the window stay');

-- ================================================================== API sign-in
select private.open_request(jsonb_build_object('role', 'authenticated', 'exp', 1,
  'sub', tests.get_supabase_uid('rex'), 'session_id', tests.uuid_for('rex-session')));
select private.open_request(jsonb_build_object('role', 'authenticated', 'exp', 1,
  'sub', tests.get_supabase_uid('rex'), 'session_id', tests.uuid_for('rex-session')));
select private.open_request(jsonb_build_object('role', 'authenticated',
  'sub', tests.get_supabase_uid('rex')));
select is((select count(*)::int from private.audit_log where action = 'auth.sign_in'
  and entity_id = tests.get_supabase_uid('rex')::text), 1,
  'the API sign-in is recorded once per session and window (claims without expiry: none)');

-- ================================================================== erasure
-- pam is the only owner of Pam Co: erasure is refused.
select tests.authenticate_as('pam');
select throws_ok($$ select public.begin_erasure(repeat('a', 64)) $$, '23514', null,
  'the last owner of a company cannot start an erasure');
reset role;

-- rex has a personal workbench with a file and a chat, a file in pam's company workbench, and a
-- ledger.
insert into public.company_members (company_id, user_id, role)
values (tests.uuid_for('pam-co'), tests.get_supabase_uid('rex'), 'member');
insert into public.workbench (id, name, owner_user_id)
values (tests.uuid_for('rex-wb'), 'Mine', tests.get_supabase_uid('rex'));
insert into public.workbench_files (id, workbench_id, uploaded_by, file_name, file_type,
  size_bytes, content_hash, storage_path, status)
values (tests.uuid_for('rex-file'), tests.uuid_for('rex-wb'), tests.get_supabase_uid('rex'),
        'a.txt', 'txt', 1, 'h1', 'rex-object-path', 'indexed'),
       (tests.uuid_for('rex-co-file'), tests.uuid_for('pam-co-wb'), tests.get_supabase_uid('rex'),
        'b.txt', 'txt', 1, 'h2', 'company-object-path', 'indexed');
insert into public.chat_session (id, workbench_id, user_id)
values (tests.uuid_for('rex-chat'), tests.uuid_for('rex-wb'), tests.get_supabase_uid('rex'));
insert into public.message (session_id, role, content)
values (tests.uuid_for('rex-chat'), 'user', 'hello');
select is((select count(*)::int from private.audit_log where action = 'file.created'
  and company_id = tests.uuid_for('pam-co')), 1, 'a file in a company workbench is recorded');

select tests.authenticate_as('rex');
select ok(public.begin_erasure(repeat('b', 64)) > now(), 'the confirmation token is kept');
select throws_ok($$ select public.request_erasure(repeat('c', 64), repeat('d', 64)) $$, '22023',
  null, 'a wrong confirmation token is refused');
select ok(public.request_erasure(repeat('b', 64), repeat('d', 64)) > now() + interval '29 days',
  'the right token deactivates; erasure is due after the window');
reset role;
select throws_ok($$ select private.open_request(jsonb_build_object('role', 'authenticated',
  'sub', tests.get_supabase_uid('rex'))) $$, 'PT401', null,
  'a deactivated account''s requests are refused');
select throws_ok($$ insert into public.wallet_usage (user_id, amount, balance_after, reason,
  reference_id) values (tests.get_supabase_uid('rex'), -1, 0, 'spend', 'after-erase') $$,
  'PT401', null, 'no debit reaches a deactivated account');
select ok((select banned_until > now() from auth.users where id = tests.get_supabase_uid('rex')),
  'Auth refuses the sign-in (banned)');

-- Restore within the window, then ask again.
select is(private.restore_account(repeat('d', 64)), tests.get_supabase_uid('rex'),
  'the restore token undoes the erasure');
select lives_ok($$ select private.open_request(jsonb_build_object('role', 'authenticated',
  'sub', tests.get_supabase_uid('rex'))) $$, 'the restored account is served again');
select tests.authenticate_as('rex');
select public.begin_erasure(repeat('e', 64));
select public.request_erasure(repeat('e', 64), repeat('f', 64));
reset role;
update private.account_erasures set due_at = now() - interval '1 second'
 where user_id = tests.get_supabase_uid('rex');
select is(private.restore_account(repeat('f', 64)), null, 'no restore after the window');

-- A run that stops half way (one step), then the job finishes. (Erasure scrubs the metadata that
-- tests.get_supabase_uid reads, so rex's id is kept aside.)
create temporary table rex as select tests.get_supabase_uid('rex') as id;
select is(private.erase_account_step(tests.get_supabase_uid('rex'), 1), false,
  'one step leaves work to do');
select ok(private.run_due_erasures() >= 1, 'the job carries on');
select results_eq($$ select state from private.account_erasures
  where user_id = (select id from rex) $$, array['erased'], 'the erasure is done');
select results_eq($$ select
  (select count(*)::int from public.workbench where id = tests.uuid_for('rex-wb')),
  (select count(*)::int from public.chat_session where id = tests.uuid_for('rex-chat')),
  (select count(*)::int from public.workbench_files where id = tests.uuid_for('rex-co-file')),
  (select count(*)::int from public.company_members where user_id = (select id from rex)),
  (select count(*)::int from public.wallet_usage where user_id = (select id from rex)) > 0,
  (select email from auth.users where id = (select id from rex)) is null,
  (select count(*)::int from pgmq.q_storage_gc where message ->> 'path' = 'rex-object-path') $$,
  $$ values (0, 0, 1, 0, true, true, 1) $$,
  'personal data gone, company file kept, ledger kept without the email, object queued');

select * from finish();
rollback;
