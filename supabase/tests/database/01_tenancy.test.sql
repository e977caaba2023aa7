-- Tenancy: who sees and changes what. Four scenarios in one transaction, each with its own people
-- and objects (identifiers are unique in this file):
--   1. row level security across tenants: another tenant cannot read or write alice's rows,
--      viewers cannot write, anon sees nothing, company members see company workbenches until
--      they are removed;
--   2. company membership by invitation: admins invite an email (with or without an account, the
--      same answer), only the holder of that verified email sees it and only with the
--      invitation's token answers it (a confirmed email alone is not enough), an invitation
--      expires and is used once, nobody joins without accepting, and owners come only from an
--      owner promoting a member;
--   3. ownership that holds: deleting a user always works; a sole owner's companies and personal
--      workbenches pass on or are deleted, and the last-owner rule still holds for everyone else;
--   4. workbench roles only raise: the effective role is the highest of creator, explicit row and
--      company-derived role; only workbench owners and company admins manage explicit rows, and
--      only for fellow company members.
begin;
create extension if not exists pgtap with schema extensions;
select plan(188);

-- ================================================================== 1. RLS across tenants
-- alice owns things, bob is another tenant, carol a viewer on alice's workbench, dave a company
-- member, erin a company admin, frank a member who creates a company workbench, grace a second
-- owner of alice's company.
select tests.create_supabase_user(u)
  from unnest(array['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace']) u;

insert into public.company (id, name, created_by)
values (tests.uuid_for('acme'), 'Acme', tests.get_supabase_uid('alice'));
insert into public.company_members (company_id, user_id, role) values
  (tests.uuid_for('acme'), tests.get_supabase_uid('dave'), 'member'),
  (tests.uuid_for('acme'), tests.get_supabase_uid('erin'), 'admin'),
  (tests.uuid_for('acme'), tests.get_supabase_uid('frank'), 'member'),
  (tests.uuid_for('acme'), tests.get_supabase_uid('grace'), 'owner');
insert into public.workbench (id, name, owner_user_id, company_id) values
  (tests.uuid_for('alice-personal'), 'Alice personal', tests.get_supabase_uid('alice'), null),
  (tests.uuid_for('acme-books'), 'Acme books', tests.get_supabase_uid('alice'),
   tests.uuid_for('acme')),
  (tests.uuid_for('bob-personal'), 'Bob personal', tests.get_supabase_uid('bob'), null);
insert into public.workbench_members (workbench_id, user_id, role)
values (tests.uuid_for('alice-personal'), tests.get_supabase_uid('carol'), 'viewer');
insert into public.workbench_files (id, workbench_id, uploaded_by, file_name, file_type, size_bytes,
                                    content_hash)
values (tests.uuid_for('alice-pnl'), tests.uuid_for('alice-personal'),
        tests.get_supabase_uid('alice'), 'pnl.csv', 'csv', 10, 'hash-a');
insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content)
values (tests.uuid_for('alice-personal'), tests.uuid_for('alice-pnl'), 0, 'revenue 100');
insert into public.workbench_table_rows (workbench_id, file_id, row_number, header, cells)
values (tests.uuid_for('alice-personal'), tests.uuid_for('alice-pnl'), 2, '["item", "amount"]',
        '[{"v": "revenue", "t": "text"}, {"v": "100", "t": "number", "n": 100}]');
insert into public.chat_session (id, workbench_id, user_id)
values (tests.uuid_for('alice-chat'), tests.uuid_for('alice-personal'),
        tests.get_supabase_uid('alice'));
insert into public.message (session_id, role, content)
values (tests.uuid_for('alice-chat'), 'user', 'What is revenue?');
insert into public.reports (workbench_id, user_id, report_type, title, idempotency_key)
values (tests.uuid_for('alice-personal'), tests.get_supabase_uid('alice'), 'pnl', 'P&L', 'k1');
insert into public.plans (id, name, price_paise, credits) values ('test-plan', 'Test', 100, 1)
on conflict do nothing;
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise)
values (tests.get_supabase_uid('alice'), 'test-plan', 'order_rls_a', 100);

------------------------------------------------------------ tenant bob reads nothing of alice's
select tests.authenticate_as('bob');

select is_empty($$ select 1 from public.company $$, 'bob sees no company of alice');
select is_empty($$ select 1 from public.company_members $$, 'bob sees no company members');
select results_eq($$ select name::text from public.workbench $$, array['Bob personal'],
  'bob sees only his own workbench');
select is_empty($$ select 1 from public.workbench_members $$,
  'bob sees no workbench members of alice');
select is_empty($$ select 1 from public.workbench_files $$, 'bob sees no files of alice');
select is_empty($$ select 1 from public.workbench_chunks $$, 'bob sees no chunks of alice');
select is_empty($$ select 1 from public.workbench_table_rows $$,
  'bob sees no typed table rows of alice');
select is_empty($$ select 1 from public.chat_session $$, 'bob sees no chat sessions of alice');
select is_empty($$ select 1 from public.message $$, 'bob sees no messages of alice');
select is_empty($$ select 1 from public.reports $$, 'bob sees no reports of alice');
select results_eq($$ select email from public.profiles $$, array['bob@test.local'],
  'bob sees only his own profile');
select results_eq($$ select user_id from public.wallet $$,
  array[tests.get_supabase_uid('bob')], 'bob sees only his own wallet');
select is_empty($$ select 1 from public.wallet_usage where user_id <> auth.uid() $$,
  'bob sees no ledger rows of others');
select is_empty($$ select 1 from public.wallet_counters where user_id <> auth.uid() $$,
  'bob sees no counters of others');
select is_empty($$ select 1 from public.payments $$, 'bob sees no payments of alice');

----------------------------------------------------------- tenant bob writes nothing of alice's
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('alice-personal'), tests.get_supabase_uid('bob'), 'owner') $$,
  '42501', null, 'bob cannot make himself a member of alice''s workbench');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values (tests.uuid_for('acme'), tests.get_supabase_uid('bob'), 'member') $$,
  '42501', null, 'bob cannot join alice''s company');
select throws_ok($$ insert into public.workbench (name, owner_user_id, company_id)
  values ('sneaky', tests.get_supabase_uid('bob'), tests.uuid_for('acme')) $$,
  '42501', null, 'bob cannot create a workbench in alice''s company');
select throws_ok($$ insert into public.workbench (name, owner_user_id)
  values ('impostor', tests.get_supabase_uid('alice')) $$,
  '42501', null, 'bob cannot create a workbench owned by alice');
select throws_ok($$ insert into public.chat_session (workbench_id, user_id)
  values (tests.uuid_for('alice-personal'), tests.get_supabase_uid('bob')) $$,
  '42501', null, 'bob cannot start a chat on alice''s workbench');
select throws_ok($$ insert into public.workbench_files (workbench_id, file_name, file_type,
    size_bytes, content_hash)
  values (tests.uuid_for('bob-personal'), 'x.txt', 'txt', 1, 'h') $$,
  '42501', null, 'clients cannot insert file rows, even into their own workbench');
select is_empty($$ update public.workbench set name = 'pwned'
  where id = tests.uuid_for('alice-personal') returning 1 $$,
  'bob cannot rename alice''s workbench');
select is_empty($$ update public.company set name = 'pwned' returning 1 $$,
  'bob cannot rename alice''s company');
select is_empty($$ delete from public.workbench where id = tests.uuid_for('alice-personal')
  returning 1 $$, 'bob cannot delete alice''s workbench');
select is_empty($$ delete from public.workbench_files returning 1 $$,
  'bob cannot delete alice''s files');
select is_empty($$ delete from public.company_members returning 1 $$,
  'bob cannot remove alice''s members');
select is_empty($$ update public.chat_session set title = 'x' returning 1 $$,
  'bob cannot change alice''s chat sessions');
select throws_ok($$ insert into public.workbench_chunks (workbench_id, file_id, chunk_index,
    content)
  values (tests.uuid_for('alice-personal'), tests.uuid_for('alice-pnl'), 9, 'x') $$,
  '42501', null, 'bob cannot add chunks to alice''s file');
select throws_ok($$ insert into public.workbench_table_rows (workbench_id, file_id, row_number,
    header, cells)
  values (tests.uuid_for('alice-personal'), tests.uuid_for('alice-pnl'), 9, '[]', '[]') $$,
  '42501', null, 'bob cannot add typed rows to alice''s file');
select throws_ok($$ insert into public.message (session_id, role, content)
  values (tests.uuid_for('alice-chat'), 'assistant', 'x') $$,
  '42501', null, 'bob cannot write into alice''s chat');
select throws_ok($$ insert into public.reports (workbench_id, user_id, report_type, title,
    idempotency_key)
  values (tests.uuid_for('alice-personal'), auth.uid(), 't', 't', 'k') $$,
  '42501', null, 'bob cannot create reports');
select throws_ok($$ delete from public.chat_session $$, '42501', null,
  'clients cannot delete chat sessions');
select is_empty($$ update public.profiles set full_name = 'pwned'
  where id = tests.get_supabase_uid('alice') returning 1 $$, 'bob cannot edit alice''s profile');
select is_empty($$ update public.workbench_members set role = 'owner' returning 1 $$,
  'bob cannot change roles on alice''s workbench');
select lives_ok($$ insert into public.company (name) values ('Bob Corp') returning id, name $$,
  'bob can create a company and read it back in the same statement');
select lives_ok($$ insert into public.workbench (name) values ('Bob second') returning id, name $$,
  'bob can create his own workbench (owner defaults to the caller)');
-- Writes through the Data API obey the functions' rules (the name checks, rate limits, grants).
select throws_ok($$ insert into public.company (name) values (E'Bob\u0007Corp') $$,
  '23514', null, 'a company name with a control character is refused');
select throws_ok($$ insert into public.workbench (name) values (E'\u200b ') $$,
  '23514', null, 'a workbench name with nothing visible is refused');
select throws_ok($$ insert into public.workbench (name) values (E'\U0001D173\U000110BD') $$,
  '23514', null, 'so is one of format characters outside the BMP (as the functions refuse it)');
select throws_ok($$ insert into public.company (name, created_by)
  values ('Forged', tests.get_supabase_uid('alice')) $$,
  '42501', null, 'the creator of a company is never the client''s to say');
select throws_ok($$ insert into public.chat_session (workbench_id, status)
  values (tests.uuid_for('bob-personal'), 'archived') $$,
  '42501', null, 'a client starts sessions active only (one per workbench)');
select throws_ok($$ insert into public.company (name) select 'Co ' || g
  from generate_series(1, 50) g $$,
  'PT429', null, '50 companies in one statement take more tokens than the bucket holds');

------------------------------------------------------------ carol, viewer on alice's workbench
select tests.authenticate_as('carol');
select results_eq($$ select public.workbench_role(tests.uuid_for('alice-personal')) $$,
  array['viewer'], 'carol is a viewer');
select isnt_empty($$ select 1 from public.workbench_files $$, 'a viewer reads files');
select isnt_empty($$ select 1 from public.workbench_chunks $$, 'a viewer reads chunks');
select results_eq($$ select (cells -> 1 ->> 'n')::int from public.workbench_table_rows $$,
  array[100], 'a viewer reads the typed rows');
select is_empty($$ update public.workbench set name = 'renamed' returning 1 $$,
  'a viewer cannot rename');
select is_empty($$ delete from public.workbench_files returning 1 $$,
  'a viewer cannot delete files');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('alice-personal'), tests.get_supabase_uid('dave'), 'viewer') $$,
  '42501', null, 'a viewer cannot add members');
select is_empty($$ update public.workbench_members set role = 'owner' returning 1 $$,
  'a viewer cannot promote themselves');

------------------------------------------------------------------ anon
select tests.authenticate_as_anon();
select throws_ok($$ select 1 from public.workbench $$, '42501', null,
  'anon cannot read workbenches');
select throws_ok($$ select 1 from public.wallet $$, '42501', null, 'anon cannot read wallets');
select throws_ok($$ select 1 from public.workbench_chunks $$, '42501', null,
  'anon cannot read chunks');
select throws_ok($$ select 1 from public.workbench_table_rows $$, '42501', null,
  'anon cannot read typed table rows');
select results_eq($$ select count(*)::int from public.plans
  where id in ('lite', 'pro', 'enterprise') $$, array[3], 'anon can read the plans');

------------------------------------------------------------------ dave, company member
select tests.authenticate_as('dave');
select results_eq($$ select name::text from public.workbench $$, array['Acme books'],
  'a company member sees the company workbench and nothing else');
select results_eq($$ select public.workbench_role(tests.uuid_for('acme-books')) $$,
  array['viewer'], 'a plain company member is a viewer');
select is_empty($$ update public.workbench set name = 'x' returning 1 $$,
  'a plain company member cannot rename the workbench');

-- alice gives dave an explicit editor role on the company workbench, then removes him from the
-- company.
select tests.authenticate_as('alice');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('acme-books'), tests.get_supabase_uid('dave'), 'editor') $$,
  'the owner grants an explicit editor role');
select tests.authenticate_as('dave');
select results_eq($$ select public.workbench_role(tests.uuid_for('acme-books')) $$,
  array['editor'], 'the explicit role overrides the company default');
select tests.authenticate_as('alice');
select results_eq($$ with d as (delete from public.company_members
  where user_id = tests.get_supabase_uid('dave') returning 1) select count(*)::int from d $$,
  array[1], 'an owner removes a member');
select throws_ok($$ delete from public.company_members where role = 'owner' $$,
  '23514', null, 'the last owner cannot be removed');
select tests.authenticate_as('dave');
select is_empty($$ select 1 from public.workbench $$,
  'a removed member loses access to company workbenches');
select is_empty($$ select 1 from public.company $$, 'a removed member no longer sees the company');

------------------------------------------------------------------ erin, company admin
select tests.authenticate_as('erin');
select throws_ok($$ update public.company_members set role = 'owner'
  where user_id = tests.get_supabase_uid('erin') $$, '42501', null,
  'an admin cannot promote themselves to owner');
select is_empty($$ update public.company_members set role = 'member'
  where user_id = tests.get_supabase_uid('grace') returning 1 $$,
  'an admin cannot demote an owner');
select is_empty($$ delete from public.company_members
  where user_id = tests.get_supabase_uid('grace') returning 1 $$,
  'an admin cannot remove an owner');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values (tests.uuid_for('acme'), tests.get_supabase_uid('carol'), 'owner') $$,
  '42501', null, 'an admin cannot add an owner');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values (tests.uuid_for('acme'), tests.get_supabase_uid('carol'), 'member') $$,
  '42501', null, 'an admin cannot add a member directly: membership comes by invitation');
select results_eq($$ select public.workbench_role(tests.uuid_for('acme-books')) $$,
  array['editor'], 'a company admin edits company workbenches');
select ok(public.can_manage_workbench(tests.uuid_for('acme-books')),
  'a company admin manages company workbenches');

-- alice gives erin an explicit viewer row: roles only raise, so the admin stays editor.
select tests.authenticate_as('alice');
insert into public.workbench_members (workbench_id, user_id, role)
values (tests.uuid_for('acme-books'), tests.get_supabase_uid('erin'), 'viewer');
select tests.authenticate_as('erin');
select results_eq($$ select public.workbench_role(tests.uuid_for('acme-books')) $$,
  array['editor'], 'an explicit viewer row does not lower a company admin');
select results_eq($$ with d as (delete from public.workbench_members where user_id = auth.uid()
  returning 1) select count(*)::int from d $$, array[1], 'anyone may drop their own explicit row');

-- frank (a member) creates a company workbench, then is removed from the company.
select tests.authenticate_as('frank');
insert into public.workbench (id, name, company_id)
values (tests.uuid_for('frank-notes'), 'Frank notes', tests.uuid_for('acme'));
select results_eq($$ select public.workbench_role(tests.uuid_for('frank-notes')) $$,
  array['owner'], 'the creator owns a company workbench while a member');
select tests.authenticate_as('erin');
delete from public.company_members where user_id = tests.get_supabase_uid('frank');
select tests.authenticate_as('frank');
select is_empty($$ select 1 from public.workbench $$,
  'a removed member loses even the company workbenches they created');
select is_empty($$ select 1 from public.company $$, 'and no longer sees the company');

reset role;
select results_eq($$ select name::text from public.workbench
  where id = tests.uuid_for('alice-personal') $$,
  array['Alice personal'], 'alice''s workbench is unchanged');

-- ================================================================== 2. invitations
-- olivia owns Globex, adam is its admin, mia a member; ivy is invited (her address in mixed
-- case), sam a stranger, luke's invitation expires, dora declines, uma never confirmed her email.
select tests.create_supabase_user(u, email_confirmed => true)
  from unnest(array['olivia', 'adam', 'mia', 'sam', 'luke', 'dora']) u;
select tests.create_supabase_user('ivy', 'Ivy@Test.Local', email_confirmed => true);
select tests.create_supabase_user('uma');
insert into public.company (id, name, created_by)
values (tests.uuid_for('globex'), 'Globex', tests.get_supabase_uid('olivia'));
insert into public.company_members (company_id, user_id, role) values
  (tests.uuid_for('globex'), tests.get_supabase_uid('adam'), 'admin'),
  (tests.uuid_for('globex'), tests.get_supabase_uid('mia'), 'member');

------------------------------------------------------------------ inviting
select tests.authenticate_as('adam');
create temp table invited on commit drop as
  select * from public.invite_to_company(tests.uuid_for('globex'), '  IVY@test.local ', 'member',
                                       sha256('ivy-token-1'::bytea));
create temp table invited_nobody on commit drop as
  select * from public.invite_to_company(tests.uuid_for('globex'), 'nobody@test.local', 'member',
                                       sha256('nobody-token'::bytea));
select results_eq($$ select email, role, status, expires_at from invited $$,
  $$ values ('ivy@test.local', 'member', 'pending', now() + interval '7 days') $$,
  'an admin invites an email with an account: normalised, pending, expires in 7 days');
select results_eq(
  $$ select role, status, expires_at, invited_by, responded_at from invited_nobody $$,
  $$ select role, status, expires_at, invited_by, responded_at from invited $$,
  'inviting an email without an account gives the same answer');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'someone@test.local', 'owner') $$, '22023', null, 'nobody is invited as owner');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'MIA@test.local', 'admin') $$, '23505', null,
  'an email that is already a member''s is refused (the admin sees the members anyway)');
select results_eq($$ select id, role, (select count(*)::int from public.company_invitations
    where email = 'ivy@test.local')
  from public.invite_to_company(tests.uuid_for('globex'), 'ivy@test.local', 'admin',
                                sha256('ivy-token'::bytea)) $$,
  $$ select id, 'admin', 1 from invited $$,
  'inviting again refreshes the open invitation (one per email)');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'someone@test.local', 'member') $$, '22023', null, 'an invitation needs its token''s hash');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'someone@test.local', 'member', '\x00'::bytea) $$, '22023', null,
  'and the hash is a SHA-256 (32 bytes)');
select throws_ok($$ select * from private.company_invitation_tokens $$, '42501', null,
  'no API role reads the token hashes');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values (tests.uuid_for('globex'), tests.get_supabase_uid('sam'), 'member') $$,
  '42501', null, 'an admin cannot add a member without their consent');
select throws_ok($$ insert into public.company_invitations (company_id, email, role, expires_at)
  values (tests.uuid_for('globex'), 'x@test.local', 'member', now()) $$,
  '42501', null, 'invitations are written only through the RPCs');
select results_eq($$ select email from public.company_invitations order by email $$,
  array['ivy@test.local', 'nobody@test.local'], 'admins see their company''s invitations');

select tests.authenticate_as('mia');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'friend@test.local', 'member') $$, '42501', null, 'a plain member cannot invite');
select is_empty($$ select 1 from public.company_invitations $$,
  'a plain member does not see the invitations');
select is_empty($$ delete from public.company_invitations returning 1 $$,
  'a plain member cannot revoke invitations');

select tests.authenticate_as('sam');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'friend@test.local', 'member') $$, '42501', null, 'another tenant cannot invite');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values (tests.uuid_for('globex'), auth.uid(), 'member') $$,
  '42501', null, 'nobody joins a company by inserting themselves');

------------------------------------------------------------------ the invitee's side
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'a stranger has no invitations');
select is_empty($$ select 1 from public.company_invitations $$,
  'a stranger sees nobody else''s invitations');
select throws_ok($$ select public.accept_company_invitation((select id from invited),
  'ivy-token') $$,
  'PT404', null, 'a stranger cannot accept someone else''s invitation (not found), token or not');
select throws_ok($$ select public.decline_company_invitation((select id from invited),
  'ivy-token') $$, 'PT404', null, 'nor decline it');

select tests.authenticate_as('ivy');
select results_eq($$ select id, company_name, role, expires_at
  from public.my_company_invitations() $$,
  $$ select id, 'Globex', 'admin', now() + interval '7 days' from invited $$,
  'the invitee lists their invitation with the company''s name (matched case-insensitively)');
select is_empty($$ select 1 from public.company_invitations $$,
  'the invitee reads the table through nothing but my_company_invitations() (no inviter id)');
select is_empty($$ select 1 from public.company $$, 'the invitee does not see the company yet');
select throws_ok($$ select public.accept_company_invitation((select id from invited), null) $$,
  'PT403', null, 'the confirmed email alone does not accept: the token is needed');
select throws_ok($$ select public.accept_company_invitation((select id from invited),
  'guessed-token') $$, 'PT403', null, 'a wrong token is refused');
select throws_ok($$ select public.accept_company_invitation((select id from invited),
  'ivy-token-1') $$, 'PT403', null, 'the token of the refreshed invitation no longer works');
select throws_ok($$ select public.decline_company_invitation((select id from invited),
  'guessed-token') $$, 'PT403', null, 'nor is it declined with a wrong token');
select results_eq($$ select public.company_role(tests.uuid_for('globex')) $$,
  array[null::text], 'the refused attempts gave no membership');
select results_eq($$ select public.accept_company_invitation((select id from invited),
  'ivy-token') $$,
  $$ values (jsonb_build_object('company_id', tests.uuid_for('globex'), 'role', 'admin')) $$,
  'the invitee accepts and joins with the invited role');
select results_eq($$ select public.company_role(tests.uuid_for('globex')) $$,
  array['admin'], 'the invitee is a member now');
select results_eq($$ select status, responded_at from public.company_invitations
  where id = (select id from invited) $$, $$ values ('accepted', now()) $$,
  'the invitation is used up');
select throws_ok($$ select public.accept_company_invitation((select id from invited),
  'ivy-token') $$, 'PT409', null, 'an invitation is single use');
select throws_ok($$ select public.decline_company_invitation((select id from invited),
  'ivy-token') $$, 'PT409', null, 'a used invitation cannot be declined');
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'a used invitation is no longer listed');

-- Expired.
reset role;
select tests.authenticate_as('adam');
create temp table late on commit drop as
  select * from public.invite_to_company(tests.uuid_for('globex'), 'luke@test.local', 'member',
                                         sha256('luke-token'::bytea));
reset role;
update public.company_invitations set expires_at = now() - interval '1 second'
 where id = (select id from late);
select tests.authenticate_as('luke');
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'an expired invitation is not listed');
select throws_ok($$ select public.accept_company_invitation((select id from late),
  'luke-token') $$, 'PT410', null, 'an expired invitation cannot be accepted, even with its token');
select is(public.company_role(tests.uuid_for('globex')), null, 'and gives no membership');

-- Declined.
reset role;
select tests.authenticate_as('adam');
create temp table declined on commit drop as
  select * from public.invite_to_company(tests.uuid_for('globex'), 'dora@test.local', 'member',
                                         sha256('dora-token'::bytea));
select tests.authenticate_as('dora');
select lives_ok($$ select public.decline_company_invitation((select id from declined),
  'dora-token') $$, 'the invitee declines');
select throws_ok($$ select public.accept_company_invitation((select id from declined),
  'dora-token') $$,
  'PT409', null, 'a declined invitation cannot be accepted afterwards');
select is(public.company_role(tests.uuid_for('globex')), null, 'declining gives no membership');

-- An unverified email does not match.
reset role;
select tests.authenticate_as('adam');
create temp table unverified on commit drop as
  select * from public.invite_to_company(tests.uuid_for('globex'), 'uma@test.local', 'member',
                                         sha256('uma-token'::bytea));
select tests.authenticate_as('uma');
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'an account whose email is not confirmed sees no invitation');
select throws_ok($$ select public.accept_company_invitation((select id from unverified),
  'uma-token') $$, 'PT404', null, 'and cannot accept it, even with the token');

-- The expiry is a setting; revoking deletes.
reset role;
select isnt_empty($$ select 1 from private.audit_log where action = 'company.invite' $$,
  'invitations are audited');
update private.settings set value = '2' where key = 'invitation_ttl_days';
select tests.authenticate_as('adam');
select results_eq($$ select expires_at from public.invite_to_company(
  tests.uuid_for('globex'), 'short@test.local', 'member', sha256('short-token'::bytea)) $$,
  $$ values (now() + interval '2 days') $$, 'the expiry comes from private.settings');
select results_eq($$ with d as (delete from public.company_invitations
  where email = 'short@test.local' returning 1) select count(*)::int from d $$, array[1],
  'an admin revokes an invitation');

------------------------------------------------------------------ members and roles
-- All four joined in this transaction (one now()), so the list's order is the ids' order: compare
-- as a bag.
select tests.authenticate_as('mia');
select bag_eq($$ select email, role from public.company_member_list(tests.uuid_for('globex')) $$,
  $$ values ('olivia@test.local', 'owner'), ('adam@test.local', 'admin'),
            ('mia@test.local', 'member'), ('Ivy@Test.Local', 'admin') $$,
  'members see who their fellow members are');
select tests.authenticate_as('sam');
select is_empty($$ select 1 from public.company_member_list(tests.uuid_for('globex')) $$,
  'another tenant sees no member list');

select tests.authenticate_as('adam');
select throws_ok($$ update public.company_members set role = 'owner'
  where user_id = tests.get_supabase_uid('mia') $$, '42501', null,
  'an admin cannot make an owner');
select results_eq($$ with u as (update public.company_members set role = 'admin'
  where user_id = tests.get_supabase_uid('mia') returning 1) select count(*)::int from u $$,
  array[1], 'an admin promotes a member to admin');
select tests.authenticate_as('olivia');
select results_eq($$ with u as (update public.company_members set role = 'owner'
  where user_id = tests.get_supabase_uid('mia') returning 1) select count(*)::int from u $$,
  array[1], 'an owner promotes an existing member to owner');
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'future-owner@test.local', 'owner') $$, '22023', null, 'not even an owner invites an owner');

select tests.authenticate_as_anon();
select throws_ok($$ select public.invite_to_company(tests.uuid_for('globex'),
  'x@test.local', 'member') $$, '42501', null, 'anon cannot invite');
select throws_ok($$ select public.my_company_invitations() $$, '42501', null,
  'anon has no invitations to list');
reset role;

-- ================================================================== 3. ownership on deletion
-- lena leaves; mo is an old member, ada an old admin, nina a newer admin, cole a co-owner, eddie
-- an editor and vera a viewer of lena's shared personal workbench.
select tests.create_supabase_user(u, email_confirmed => true)
  from unnest(array['lena', 'mo', 'ada', 'nina', 'cole', 'eddie', 'vera']) u;

-- lena owns four companies and is a member of a fifth:
--   with-admins:  with an old member, an old admin and a newer admin -> the old admin inherits;
--   members-only: with members only -> the longest-standing member inherits;
--   alone:        alone, with a workbench holding a stored file -> deleted with it;
--   co-owned:     with a co-owner -> nothing to hand over;
--   not-mine:     cole's; lena is only a member there.
insert into public.company (id, name, created_by) values
  (tests.uuid_for('with-admins'), 'With admins', tests.get_supabase_uid('lena')),
  (tests.uuid_for('members-only'), 'Members only', tests.get_supabase_uid('lena')),
  (tests.uuid_for('alone'), 'Alone', tests.get_supabase_uid('lena')),
  (tests.uuid_for('co-owned'), 'Co-owned', tests.get_supabase_uid('lena')),
  (tests.uuid_for('not-mine'), 'Not mine', tests.get_supabase_uid('cole'));
insert into public.company_members (company_id, user_id, role, created_at) values
  (tests.uuid_for('with-admins'), tests.get_supabase_uid('mo'), 'member',
   now() - interval '3 days'),
  (tests.uuid_for('with-admins'), tests.get_supabase_uid('ada'), 'admin',
   now() - interval '2 days'),
  (tests.uuid_for('with-admins'), tests.get_supabase_uid('nina'), 'admin',
   now() - interval '1 day'),
  (tests.uuid_for('members-only'), tests.get_supabase_uid('nina'), 'member',
   now() - interval '1 day'),
  (tests.uuid_for('members-only'), tests.get_supabase_uid('mo'), 'member',
   now() - interval '2 days'),
  (tests.uuid_for('co-owned'), tests.get_supabase_uid('cole'), 'owner', now()),
  (tests.uuid_for('not-mine'), tests.get_supabase_uid('lena'), 'member', now());

insert into public.workbench (id, name, owner_user_id, company_id) values
  (tests.uuid_for('alone-books'), 'Alone books', tests.get_supabase_uid('lena'),
   tests.uuid_for('alone')),
  (tests.uuid_for('with-admins-books'), 'With admins books', tests.get_supabase_uid('lena'),
   tests.uuid_for('with-admins')),
  (tests.uuid_for('lena-shared'), 'Shared personal', tests.get_supabase_uid('lena'), null),
  (tests.uuid_for('lena-private'), 'Private personal', tests.get_supabase_uid('lena'), null);
insert into public.workbench_members (workbench_id, user_id, role, created_at) values
  (tests.uuid_for('lena-shared'), tests.get_supabase_uid('vera'), 'viewer',
   now() - interval '2 days'),
  (tests.uuid_for('lena-shared'), tests.get_supabase_uid('eddie'), 'editor',
   now() - interval '1 day');
insert into public.workbench_files (workbench_id, uploaded_by, file_name, file_type, size_bytes,
                                    content_hash, storage_path) values
  (tests.uuid_for('alone-books'), tests.get_supabase_uid('lena'), 'alone.csv', 'csv', 1, 'h-alone',
   'workbench/' || tests.uuid_for('alone-books') || '/alone.csv'),
  (tests.uuid_for('lena-private'), tests.get_supabase_uid('lena'), 'mine.csv', 'csv', 1, 'h-mine',
   'workbench/' || tests.uuid_for('lena-private') || '/mine.csv');
-- An open invitation to lena, and one lena sent.
insert into public.company_invitations (company_id, email, role, invited_by, expires_at) values
  (tests.uuid_for('co-owned'), 'lena@test.local', 'member', tests.get_supabase_uid('cole'),
   now() + interval '1 day'),
  (tests.uuid_for('with-admins'), 'lenas-friend@test.local', 'member',
   tests.get_supabase_uid('lena'),   now() + interval '1 day');

------------------------------------------------------------------ the last-owner rule still holds
select tests.authenticate_as('lena');
select throws_ok($$ delete from public.company_members
  where company_id = tests.uuid_for('with-admins') and user_id = auth.uid() $$,
  '23514', null, 'a sole owner cannot leave their company');
select throws_ok($$ update public.company_members set role = 'admin'
  where company_id = tests.uuid_for('with-admins') and user_id = auth.uid() $$,
  '23514', null, 'nor demote themselves');
reset role;

------------------------------------------------------------------ deleting the user
-- lena's id, for the checks once she is gone (tests.get_supabase_uid finds existing users only).
create temp table lena on commit drop as select tests.get_supabase_uid('lena') as id;
select lives_ok($$ delete from auth.users where id = tests.get_supabase_uid('lena') $$,
  'deleting a user who is the sole owner of companies works');

select results_eq($$ select user_id, role from public.company_members
  where company_id = tests.uuid_for('with-admins') order by created_at $$,
  $$ values (tests.get_supabase_uid('mo'), 'member'),
            (tests.get_supabase_uid('ada'), 'owner'),
            (tests.get_supabase_uid('nina'), 'admin') $$,
  'the longest-standing admin inherits, before an older plain member');
select results_eq($$ select user_id, role from public.company_members
  where company_id = tests.uuid_for('members-only') order by created_at $$,
  $$ values (tests.get_supabase_uid('mo'), 'owner'),
            (tests.get_supabase_uid('nina'), 'member') $$,
  'without admins, the longest-standing member inherits');
select is_empty($$ select 1 from public.company where id = tests.uuid_for('alone') $$,
  'a company with no other member is deleted');
select is_empty($$ select 1 from public.workbench where id = tests.uuid_for('alone-books') $$,
  'with its workbenches');
select is_empty($$ select 1 from public.workbench_files where content_hash = 'h-alone' $$,
  'and their files');
select results_eq($$ select count(*)::int from pgmq.q_storage_gc
  where message ->> 'path' = 'workbench/' || tests.uuid_for('alone-books') || '/alone.csv' $$,
  array[1], 'whose stored object is queued for collection');
select results_eq($$ select user_id, role from public.company_members
  where company_id = tests.uuid_for('co-owned') $$,
  $$ values (tests.get_supabase_uid('cole'), 'owner') $$,
  'a company with another owner keeps it, and nobody is promoted');
select is_empty($$ select 1 from public.company_members where user_id = (select id from lena) $$,
  'the user is in no company any more');
select is_empty($$ select 1 from public.company_members m
  where not exists (select 1 from public.company_members o
                     where o.company_id = m.company_id and o.role = 'owner') $$,
  'every company with members has an owner');
select results_eq($$ select owner_user_id, company_id from public.workbench
  where id = tests.uuid_for('with-admins-books') $$,
  $$ values (null::uuid, tests.uuid_for('with-admins')) $$,
  'a company workbench the user created stays with the company');

select results_eq($$ select owner_user_id from public.workbench
  where id = tests.uuid_for('lena-shared') $$,
  array[tests.get_supabase_uid('eddie')],
  'a shared personal workbench passes to its highest, longest-standing explicit member');
select results_eq($$ select user_id, role from public.workbench_members
  where workbench_id = tests.uuid_for('lena-shared') $$,
  $$ values (tests.get_supabase_uid('vera'), 'viewer') $$,
  'the heir''s explicit row is folded into ownership; others keep theirs');
select is_empty($$ select 1 from public.workbench where id = tests.uuid_for('lena-private') $$,
  'a personal workbench nobody else has is deleted');
select results_eq($$ select count(*)::int from pgmq.q_storage_gc
  where message ->> 'path' = 'workbench/' || tests.uuid_for('lena-private') || '/mine.csv' $$,
  array[1], 'and its stored object is queued for collection');

select is_empty($$ select 1 from public.company_invitations where email = 'lena@test.local' $$,
  'open invitations to the user''s email are erased');
select results_eq($$ select invited_by from public.company_invitations
  where email = 'lenas-friend@test.local' $$, array[null::uuid],
  'invitations the user sent stay valid without naming them');
select is_empty($$ select 1 from public.profiles where id = (select id from lena) $$,
  'the profile is gone');
select results_eq($$ select action from private.audit_log
  where action in ('company.ownership_transferred', 'company.deleted_with_last_member')
  order by action $$,
  array['company.deleted_with_last_member', 'company.ownership_transferred',
        'company.ownership_transferred'],
  'transfers and deletions are audited');

------------------------------------------------------------------ the heir is bound by the rule
select tests.authenticate_as('ada');
select throws_ok($$ delete from public.company_members
  where company_id = tests.uuid_for('with-admins') and user_id = auth.uid() $$,
  '23514', null, 'the new sole owner cannot leave either');
select results_eq($$ select public.company_role(tests.uuid_for('with-admins')) $$,
  array['owner'], 'and manages the company');
reset role;

-- Deleting the last member of a company (who is then its sole owner) deletes it too.
select lives_ok($$ delete from auth.users where id = tests.get_supabase_uid('cole') $$,
  'deleting a co-owner who became sole owner works');
select is_empty($$ select 1 from public.company
  where id in (tests.uuid_for('co-owned'), tests.uuid_for('not-mine')) $$,
  'and their companies without other members go');

-- ================================================================== 4. workbench roles only raise
-- oscar owns Initech, amy is its admin, max and nora plain members; xena is an outsider.
select tests.create_supabase_user(u) from unnest(array['oscar', 'amy', 'max', 'nora', 'xena']) u;
insert into public.company (id, name, created_by)
values (tests.uuid_for('initech'), 'Initech', tests.get_supabase_uid('oscar'));
insert into public.company_members (company_id, user_id, role) values
  (tests.uuid_for('initech'), tests.get_supabase_uid('amy'), 'admin'),
  (tests.uuid_for('initech'), tests.get_supabase_uid('max'), 'member'),
  (tests.uuid_for('initech'), tests.get_supabase_uid('nora'), 'member');

------------------------------------------------------------------ the attack from issue 8
-- A plain member creates a company workbench and gives the company's owner an explicit viewer row.
select tests.authenticate_as('max');
insert into public.workbench (id, name, company_id)
values (tests.uuid_for('max-trap'), 'Max''s trap', tests.uuid_for('initech'));
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('max-trap'), tests.get_supabase_uid('oscar'), 'viewer'),
         (tests.uuid_for('max-trap'), tests.get_supabase_uid('amy'), 'viewer') $$,
  'the creator may add explicit rows for fellow company members');

select tests.authenticate_as('oscar');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['editor'], 'an explicit viewer row does not lower the company owner');
select ok(public.can_manage_workbench(tests.uuid_for('max-trap')),
  'the company owner manages the workbench');
select results_eq($$ with u as (update public.workbench_members set role = 'owner'
  where workbench_id = tests.uuid_for('max-trap') and user_id = auth.uid() returning 1)
  select count(*)::int from u $$, array[1], 'the company owner can change that row');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['owner'], 'an explicit row raises');
select results_eq($$ with d as (delete from public.workbench_members
  where workbench_id = tests.uuid_for('max-trap') returning 1) select count(*)::int from d $$,
  array[2], 'the company owner removes explicit rows');

select tests.authenticate_as('amy');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['editor'], 'the company admin is an editor');
select ok(public.can_manage_workbench(tests.uuid_for('max-trap')), 'and manages it as well');

------------------------------------------------------------------ who may add and change rows
select tests.authenticate_as('nora');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['viewer'], 'a plain member is a viewer of a company workbench');
select ok(not public.can_manage_workbench(tests.uuid_for('max-trap')), 'and does not manage it');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('max-trap'), auth.uid(), 'owner') $$,
  '42501', null, 'a plain member cannot give themselves a role');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('max-trap'), tests.get_supabase_uid('oscar'), 'viewer') $$,
  '42501', null, 'nor anyone else');
select is_empty($$ delete from public.workbench where id = tests.uuid_for('max-trap')
  returning 1 $$, 'nor delete the workbench');

select tests.authenticate_as('amy');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('max-trap'), tests.get_supabase_uid('nora'), 'editor') $$,
  'a company admin adds an explicit row');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('max-trap'), tests.get_supabase_uid('xena'), 'editor') $$,
  '42501', null, 'but not for someone outside the company');

select tests.authenticate_as('nora');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['editor'], 'an explicit editor row raises a plain member');
select ok(not public.can_manage_workbench(tests.uuid_for('max-trap')),
  'an editor does not manage the workbench');
select is_empty($$ update public.workbench_members set role = 'owner' where user_id = auth.uid()
  returning 1 $$, 'an editor cannot promote themselves');
select results_eq($$ with d as (delete from public.workbench_members where user_id = auth.uid()
  returning 1) select count(*)::int from d $$, array[1], 'but may drop their own row');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['viewer'], 'which falls back to the company-derived role, never below');

------------------------------------------------------------------ the creator and the company
select tests.authenticate_as('max');
select results_eq($$ select public.workbench_role(tests.uuid_for('max-trap')) $$,
  array['owner'], 'the creator owns it while a company member');
reset role;
delete from public.company_members where user_id = tests.get_supabase_uid('max');
select tests.authenticate_as('max');
select is(public.workbench_role(tests.uuid_for('max-trap')), null,
  'and loses every role on it with their membership');
select tests.authenticate_as('oscar');
select results_eq($$ select user_id, role, explicit_role, company_role, is_creator
  from public.workbench_member_list(tests.uuid_for('max-trap')) $$,
  $$ values (tests.get_supabase_uid('amy'), 'editor', null, 'admin', false),
            (tests.get_supabase_uid('oscar'), 'editor', null, 'owner', false),
            (tests.get_supabase_uid('nora'), 'viewer', null, 'member', false) $$,
  'the member list shows everyone with access and why');
select results_eq($$ with d as (delete from public.workbench
  where id = tests.uuid_for('max-trap') returning 1) select count(*)::int from d $$,
  array[1], 'the company owner deletes a workbench whose creator left');

------------------------------------------------------------------ personal workbenches
select tests.authenticate_as('nora');
insert into public.workbench (id, name) values (tests.uuid_for('nora-personal'), 'Nora personal');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('nora-personal'), tests.get_supabase_uid('amy'), 'viewer') $$,
  'a personal workbench can be shared with someone from one''s company');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values (tests.uuid_for('nora-personal'), tests.get_supabase_uid('xena'), 'viewer') $$,
  '42501', null, 'but not with a stranger (whose id one could only have guessed)');
select tests.authenticate_as('oscar');
select is(public.workbench_role(tests.uuid_for('nora-personal')), null,
  'company roles give nothing on a member''s personal workbench');
select ok(not public.can_manage_workbench(tests.uuid_for('nora-personal')), 'nor manage it');
select is_empty($$ select 1 from public.workbench_member_list(tests.uuid_for('nora-personal')) $$,
  'nor show its members');
select tests.authenticate_as('amy');
select results_eq($$ select public.workbench_role(tests.uuid_for('nora-personal')) $$,
  array['viewer'], 'the explicit row gives the role');
select is_empty($$ delete from public.workbench where id = tests.uuid_for('nora-personal')
  returning 1 $$, 'a viewer cannot delete a personal workbench');
select results_eq($$ with d as (delete from public.workbench_members where user_id = auth.uid()
  returning 1) select count(*)::int from d $$, array[1], 'and may leave it');
select is(public.workbench_role(tests.uuid_for('nora-personal')), null, 'which ends the role');

select * from finish();
rollback;
