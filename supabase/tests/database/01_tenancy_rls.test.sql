-- Row level security across tenants: another tenant cannot read or write A's rows, viewers cannot
-- write, anon sees nothing, company members see company workbenches until they are removed.
begin;
create extension if not exists pgtap with schema extensions;
select plan(72);

-- Users: A owns things, B is another tenant, C is a viewer on A's workbench, D a company member.
insert into auth.users (id, email) values
  ('aaaaaaaa-0000-0000-0000-000000000001', 'a@example.com'),
  ('bbbbbbbb-0000-0000-0000-000000000002', 'b@example.com'),
  ('cccccccc-0000-0000-0000-000000000003', 'c@example.com'),
  ('dddddddd-0000-0000-0000-000000000004', 'd@example.com'),
  ('eeeeeeee-0000-0000-0000-000000000005', 'e@example.com'),
  ('ffffffff-0000-0000-0000-000000000006', 'f@example.com'),
  ('99999999-0000-0000-0000-000000000009', 'owner2@example.com');

insert into public.company (id, name, created_by)
values ('c0000000-0000-0000-0000-00000000000a', 'Acme', 'aaaaaaaa-0000-0000-0000-000000000001');
insert into public.company_members (company_id, user_id, role) values
  ('c0000000-0000-0000-0000-00000000000a', 'dddddddd-0000-0000-0000-000000000004', 'member'),
  ('c0000000-0000-0000-0000-00000000000a', 'eeeeeeee-0000-0000-0000-000000000005', 'admin'),
  ('c0000000-0000-0000-0000-00000000000a', 'ffffffff-0000-0000-0000-000000000006', 'member'),
  ('c0000000-0000-0000-0000-00000000000a', '99999999-0000-0000-0000-000000000009', 'owner');
insert into public.workbench (id, name, owner_user_id, company_id) values
  ('10000000-0000-0000-0000-0000000000a1', 'A personal', 'aaaaaaaa-0000-0000-0000-000000000001', null),
  ('10000000-0000-0000-0000-0000000000a2', 'Acme books', 'aaaaaaaa-0000-0000-0000-000000000001',
   'c0000000-0000-0000-0000-00000000000a'),
  ('10000000-0000-0000-0000-0000000000b1', 'B personal', 'bbbbbbbb-0000-0000-0000-000000000002', null);
insert into public.workbench_members (workbench_id, user_id, role)
values ('10000000-0000-0000-0000-0000000000a1', 'cccccccc-0000-0000-0000-000000000003', 'viewer');
insert into public.workbench_files (id, workbench_id, uploaded_by, file_name, file_type, size_bytes, content_hash)
values ('f0000000-0000-0000-0000-0000000000a1', '10000000-0000-0000-0000-0000000000a1',
        'aaaaaaaa-0000-0000-0000-000000000001', 'pnl.csv', 'csv', 10, 'hash-a');
insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content)
values ('10000000-0000-0000-0000-0000000000a1', 'f0000000-0000-0000-0000-0000000000a1', 0, 'revenue 100');
insert into public.chat_session (id, workbench_id, user_id)
values ('50000000-0000-0000-0000-0000000000a1', '10000000-0000-0000-0000-0000000000a1',
        'aaaaaaaa-0000-0000-0000-000000000001');
insert into public.message (session_id, role, content)
values ('50000000-0000-0000-0000-0000000000a1', 'user', 'What is revenue?');
insert into public.reports (workbench_id, user_id, report_type, title, idempotency_key)
values ('10000000-0000-0000-0000-0000000000a1', 'aaaaaaaa-0000-0000-0000-000000000001', 'pnl', 'P&L', 'k1');
insert into public.plans (id, name, price_paise, credits) values ('test-plan', 'Test', 100, 1)
on conflict do nothing;
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise)
values ('aaaaaaaa-0000-0000-0000-000000000001', 'test-plan', 'order_rls_a', 100);

------------------------------------------------------------------ tenant B reads nothing of A's
select tests.authenticate_as('bbbbbbbb-0000-0000-0000-000000000002');

select is_empty($$ select 1 from public.company $$, 'B sees no company of A');
select is_empty($$ select 1 from public.company_members $$, 'B sees no company members');
select results_eq($$ select name from public.workbench $$, array['B personal'],
  'B sees only their own workbench');
select is_empty($$ select 1 from public.workbench_members $$, 'B sees no workbench members of A');
select is_empty($$ select 1 from public.workbench_files $$, 'B sees no files of A');
select is_empty($$ select 1 from public.workbench_chunks $$, 'B sees no chunks of A');
select is_empty($$ select 1 from public.chat_session $$, 'B sees no chat sessions of A');
select is_empty($$ select 1 from public.message $$, 'B sees no messages of A');
select is_empty($$ select 1 from public.reports $$, 'B sees no reports of A');
select results_eq($$ select email from public.profiles $$, array['b@example.com'],
  'B sees only their own profile');
select results_eq($$ select user_id from public.wallet $$,
  array['bbbbbbbb-0000-0000-0000-000000000002'::uuid], 'B sees only their own wallet');
select is_empty($$ select 1 from public.wallet_usage where user_id <> auth.uid() $$,
  'B sees no ledger rows of others');
select is_empty($$ select 1 from public.wallet_counters where user_id <> auth.uid() $$,
  'B sees no counters of others');
select is_empty($$ select 1 from public.payments $$, 'B sees no payments of A');

------------------------------------------------------------------ tenant B writes nothing of A's
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('10000000-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000002', 'owner') $$,
  '42501', null, 'B cannot make themselves a member of A''s workbench');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values ('c0000000-0000-0000-0000-00000000000a', 'bbbbbbbb-0000-0000-0000-000000000002', 'member') $$,
  '42501', null, 'B cannot join A''s company');
select throws_ok($$ insert into public.workbench (name, owner_user_id, company_id)
  values ('sneaky', 'bbbbbbbb-0000-0000-0000-000000000002', 'c0000000-0000-0000-0000-00000000000a') $$,
  '42501', null, 'B cannot create a workbench in A''s company');
select throws_ok($$ insert into public.workbench (name, owner_user_id)
  values ('impostor', 'aaaaaaaa-0000-0000-0000-000000000001') $$,
  '42501', null, 'B cannot create a workbench owned by A');
select throws_ok($$ insert into public.chat_session (workbench_id, user_id)
  values ('10000000-0000-0000-0000-0000000000a1', 'bbbbbbbb-0000-0000-0000-000000000002') $$,
  '42501', null, 'B cannot start a chat on A''s workbench');
select throws_ok($$ insert into public.workbench_files (workbench_id, file_name, file_type, size_bytes, content_hash)
  values ('10000000-0000-0000-0000-0000000000b1', 'x.txt', 'txt', 1, 'h') $$,
  '42501', null, 'clients cannot insert file rows, even into their own workbench');
select is_empty($$ update public.workbench set name = 'pwned'
  where id = '10000000-0000-0000-0000-0000000000a1' returning 1 $$, 'B cannot rename A''s workbench');
select is_empty($$ update public.company set name = 'pwned' returning 1 $$, 'B cannot rename A''s company');
select is_empty($$ delete from public.workbench where id = '10000000-0000-0000-0000-0000000000a1' returning 1 $$,
  'B cannot delete A''s workbench');
select is_empty($$ delete from public.workbench_files returning 1 $$, 'B cannot delete A''s files');
select is_empty($$ delete from public.company_members returning 1 $$, 'B cannot remove A''s members');
select is_empty($$ update public.chat_session set title = 'x' returning 1 $$,
  'B cannot change A''s chat sessions');
select throws_ok($$ insert into public.workbench_chunks (workbench_id, file_id, chunk_index, content)
  values ('10000000-0000-0000-0000-0000000000a1', 'f0000000-0000-0000-0000-0000000000a1', 9, 'x') $$,
  '42501', null, 'B cannot add chunks to A''s file');
select throws_ok($$ insert into public.message (session_id, role, content)
  values ('50000000-0000-0000-0000-0000000000a1', 'assistant', 'x') $$,
  '42501', null, 'B cannot write into A''s chat');
select throws_ok($$ insert into public.reports (workbench_id, user_id, report_type, title, idempotency_key)
  values ('10000000-0000-0000-0000-0000000000a1', auth.uid(), 't', 't', 'k') $$,
  '42501', null, 'B cannot create reports');
select throws_ok($$ delete from public.chat_session $$, '42501', null, 'clients cannot delete chat sessions');
select is_empty($$ update public.profiles set full_name = 'pwned'
  where id = 'aaaaaaaa-0000-0000-0000-000000000001' returning 1 $$, 'B cannot edit A''s profile');
select is_empty($$ update public.workbench_members set role = 'owner' returning 1 $$,
  'B cannot change roles on A''s workbench');
select lives_ok($$ insert into public.company (name) values ('B Corp') returning id, name $$,
  'B can create a company and read it back in the same statement');
select lives_ok($$ insert into public.workbench (name) values ('B second') returning id, name $$,
  'B can create their own workbench (owner defaults to the caller)');

------------------------------------------------------------------ viewer C on A's workbench
select tests.authenticate_as('cccccccc-0000-0000-0000-000000000003');
select results_eq($$ select public.workbench_role('10000000-0000-0000-0000-0000000000a1') $$,
  array['viewer'], 'C is a viewer');
select isnt_empty($$ select 1 from public.workbench_files $$, 'a viewer reads files');
select isnt_empty($$ select 1 from public.workbench_chunks $$, 'a viewer reads chunks');
select is_empty($$ update public.workbench set name = 'renamed' returning 1 $$, 'a viewer cannot rename');
select is_empty($$ delete from public.workbench_files returning 1 $$, 'a viewer cannot delete files');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('10000000-0000-0000-0000-0000000000a1', 'dddddddd-0000-0000-0000-000000000004', 'viewer') $$,
  '42501', null, 'a viewer cannot add members');
select is_empty($$ update public.workbench_members set role = 'owner' returning 1 $$,
  'a viewer cannot promote themselves');

------------------------------------------------------------------ anon
select tests.authenticate_as_anon();
select throws_ok($$ select 1 from public.workbench $$, '42501', null, 'anon cannot read workbenches');
select throws_ok($$ select 1 from public.wallet $$, '42501', null, 'anon cannot read wallets');
select throws_ok($$ select 1 from public.workbench_chunks $$, '42501', null, 'anon cannot read chunks');
select results_eq($$ select count(*)::int from public.plans where id in ('lite', 'pro', 'enterprise') $$,
  array[3], 'anon can read the plans');

select is_empty($$
  select c.relname, p.priv from pg_class c join pg_namespace n on n.oid = c.relnamespace,
    unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
  where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')
    and has_table_privilege('anon', c.oid, p.priv)
    and not (c.relname = 'plans' and p.priv = 'SELECT') $$,
  'anon holds no privilege on any public table but reading plans');
select is_empty($$
  select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')
    and (has_table_privilege('authenticated', c.oid, 'TRUNCATE')
         or has_table_privilege('authenticated', c.oid, 'REFERENCES')
         or has_table_privilege('authenticated', c.oid, 'TRIGGER')) $$,
  'authenticated cannot truncate, reference or trigger on any public table');
select is_empty($$
  select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'private'
    and (has_function_privilege('anon', p.oid, 'EXECUTE')
         or has_function_privilege('authenticated', p.oid, 'EXECUTE')) $$,
  'no client role can execute a private function');

------------------------------------------------------------------ company member D
select tests.authenticate_as('dddddddd-0000-0000-0000-000000000004');
select results_eq($$ select name from public.workbench $$, array['Acme books'],
  'a company member sees the company workbench and nothing else');
select results_eq($$ select public.workbench_role('10000000-0000-0000-0000-0000000000a2') $$,
  array['viewer'], 'a plain company member is a viewer');
select is_empty($$ update public.workbench set name = 'x' returning 1 $$,
  'a plain company member cannot rename the workbench');

-- A gives D an explicit editor role on the company workbench, then removes D from the company.
select tests.authenticate_as('aaaaaaaa-0000-0000-0000-000000000001');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('10000000-0000-0000-0000-0000000000a2', 'dddddddd-0000-0000-0000-000000000004', 'editor') $$,
  'the owner grants an explicit editor role');
select tests.authenticate_as('dddddddd-0000-0000-0000-000000000004');
select results_eq($$ select public.workbench_role('10000000-0000-0000-0000-0000000000a2') $$,
  array['editor'], 'the explicit role overrides the company default');
select tests.authenticate_as('aaaaaaaa-0000-0000-0000-000000000001');
select results_eq($$ with d as (delete from public.company_members
  where user_id = 'dddddddd-0000-0000-0000-000000000004' returning 1) select count(*)::int from d $$,
  array[1], 'an owner removes a member');
select throws_ok($$ delete from public.company_members where role = 'owner' $$,
  '23514', null, 'the last owner cannot be removed');
select tests.authenticate_as('dddddddd-0000-0000-0000-000000000004');
select is_empty($$ select 1 from public.workbench $$, 'a removed member loses access to company workbenches');
select is_empty($$ select 1 from public.company $$, 'a removed member no longer sees the company');

------------------------------------------------------------------ company admin E
select tests.authenticate_as('eeeeeeee-0000-0000-0000-000000000005');
select throws_ok($$ update public.company_members set role = 'owner'
  where user_id = 'eeeeeeee-0000-0000-0000-000000000005' $$, '42501', null,
  'an admin cannot promote themselves to owner');
select is_empty($$ update public.company_members set role = 'member'
  where user_id = '99999999-0000-0000-0000-000000000009' returning 1 $$, 'an admin cannot demote an owner');
select is_empty($$ delete from public.company_members
  where user_id = '99999999-0000-0000-0000-000000000009' returning 1 $$, 'an admin cannot remove an owner');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values ('c0000000-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-000000000003', 'owner') $$,
  '42501', null, 'an admin cannot add an owner');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values ('c0000000-0000-0000-0000-00000000000a', 'cccccccc-0000-0000-0000-000000000003', 'member') $$,
  '42501', null, 'an admin cannot add a member directly: membership comes by invitation');
select results_eq($$ select public.workbench_role('10000000-0000-0000-0000-0000000000a2') $$,
  array['editor'], 'a company admin edits company workbenches');
select ok(public.can_manage_workbench('10000000-0000-0000-0000-0000000000a2'),
  'a company admin manages company workbenches');

-- The owner gives the admin an explicit viewer row: roles only raise, so the admin stays editor.
select tests.authenticate_as('aaaaaaaa-0000-0000-0000-000000000001');
insert into public.workbench_members (workbench_id, user_id, role)
values ('10000000-0000-0000-0000-0000000000a2', 'eeeeeeee-0000-0000-0000-000000000005', 'viewer');
select tests.authenticate_as('eeeeeeee-0000-0000-0000-000000000005');
select results_eq($$ select public.workbench_role('10000000-0000-0000-0000-0000000000a2') $$,
  array['editor'], 'an explicit viewer row does not lower a company admin');
select results_eq($$ with d as (delete from public.workbench_members where user_id = auth.uid()
  returning 1) select count(*)::int from d $$, array[1], 'anyone may drop their own explicit row');

-- F (a member) creates a company workbench, then is removed from the company.
select tests.authenticate_as('ffffffff-0000-0000-0000-000000000006');
insert into public.workbench (id, name, company_id)
values ('10000000-0000-0000-0000-0000000000f1', 'F notes', 'c0000000-0000-0000-0000-00000000000a');
select results_eq($$ select public.workbench_role('10000000-0000-0000-0000-0000000000f1') $$,
  array['owner'], 'the creator owns a company workbench while a member');
select tests.authenticate_as('eeeeeeee-0000-0000-0000-000000000005');
delete from public.company_members where user_id = 'ffffffff-0000-0000-0000-000000000006';
select tests.authenticate_as('ffffffff-0000-0000-0000-000000000006');
select is_empty($$ select 1 from public.workbench $$,
  'a removed member loses even the company workbenches they created');
select is_empty($$ select 1 from public.company $$, 'and no longer sees the company');

reset role;
select is_empty($$
  select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'EXECUTE') $$,
  'anon can execute no function in public');
select is(
  (select string_agg(p.proname::text, ',' order by p.proname::text)
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and has_function_privilege('authenticated', p.oid, 'EXECUTE')),
  'accept_company_invitation,can_grant_workbench_role,can_manage_workbench,company_member_list,'
  'company_role,company_visible,decline_company_invitation,has_workbench_role,invite_to_company,'
  'is_company_member,my_company_invitations,readable_workbench_ids,search_workbench_chunks,'
  'workbench_member_list,workbench_role,workbench_text_candidates',
  'authenticated can execute only the membership checks, invitation RPCs and the search in public');
select results_eq($$ select name from public.workbench where id = '10000000-0000-0000-0000-0000000000a1' $$,
  array['A personal'], 'A''s workbench is unchanged');

select * from finish();
rollback;
