-- Workbench roles only raise: the effective role is the highest of creator, explicit row and the
-- company-derived role, so a company owner or admin is never locked out of a company workbench.
-- Only workbench owners and company admins add, change or remove explicit rows, and only for
-- people they legitimately know (fellow company members).
begin;
create extension if not exists pgtap with schema extensions;
select plan(33);

-- o: company owner; a: company admin; m, n: plain members; x: outsider.
insert into auth.users (id, email) values
  ('0f000000-0000-0000-0000-00000000000a', 'o@example.com'),
  ('0f000000-0000-0000-0000-00000000000b', 'a@example.com'),
  ('0f000000-0000-0000-0000-00000000000c', 'm@example.com'),
  ('0f000000-0000-0000-0000-00000000000d', 'n@example.com'),
  ('0f000000-0000-0000-0000-00000000000e', 'x@example.com');
insert into public.company (id, name, created_by)
values ('0c100000-0000-0000-0000-000000000001', 'Acme', '0f000000-0000-0000-0000-00000000000a');
insert into public.company_members (company_id, user_id, role) values
  ('0c100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000b', 'admin'),
  ('0c100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000c', 'member'),
  ('0c100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000d', 'member');

------------------------------------------------------------------ the attack from issue 8
-- A plain member creates a company workbench and gives the company's owner an explicit viewer row.
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000c');
insert into public.workbench (id, name, company_id)
values ('0e100000-0000-0000-0000-000000000001', 'M''s trap', '0c100000-0000-0000-0000-000000000001');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000a', 'viewer'),
         ('0e100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000b', 'viewer') $$,
  'the creator may add explicit rows for fellow company members');

select tests.authenticate_as('0f000000-0000-0000-0000-00000000000a');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['editor'], 'an explicit viewer row does not lower the company owner');
select ok(public.can_manage_workbench('0e100000-0000-0000-0000-000000000001'),
  'the company owner manages the workbench');
select results_eq($$ with u as (update public.workbench_members set role = 'owner'
  where workbench_id = '0e100000-0000-0000-0000-000000000001' and user_id = auth.uid() returning 1)
  select count(*)::int from u $$, array[1], 'the company owner can change that row');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['owner'], 'an explicit row raises');
select results_eq($$ with d as (delete from public.workbench_members
  where workbench_id = '0e100000-0000-0000-0000-000000000001' returning 1) select count(*)::int from d $$,
  array[2], 'the company owner removes explicit rows');

select tests.authenticate_as('0f000000-0000-0000-0000-00000000000b');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['editor'], 'the company admin is an editor');
select ok(public.can_manage_workbench('0e100000-0000-0000-0000-000000000001'),
  'and manages it as well');

------------------------------------------------------------------ who may add and change rows
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000d');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['viewer'], 'a plain member is a viewer of a company workbench');
select ok(not public.can_manage_workbench('0e100000-0000-0000-0000-000000000001'),
  'and does not manage it');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000001', auth.uid(), 'owner') $$,
  '42501', null, 'a plain member cannot give themselves a role');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000a', 'viewer') $$,
  '42501', null, 'nor anyone else');
select is_empty($$ delete from public.workbench where id = '0e100000-0000-0000-0000-000000000001'
  returning 1 $$, 'nor delete the workbench');

select tests.authenticate_as('0f000000-0000-0000-0000-00000000000b');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000d', 'editor') $$,
  'a company admin adds an explicit row');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000001', '0f000000-0000-0000-0000-00000000000e', 'editor') $$,
  '42501', null, 'but not for someone outside the company');

select tests.authenticate_as('0f000000-0000-0000-0000-00000000000d');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['editor'], 'an explicit editor row raises a plain member');
select ok(not public.can_manage_workbench('0e100000-0000-0000-0000-000000000001'),
  'an editor does not manage the workbench');
select is_empty($$ update public.workbench_members set role = 'owner' where user_id = auth.uid()
  returning 1 $$, 'an editor cannot promote themselves');
select results_eq($$ with d as (delete from public.workbench_members where user_id = auth.uid()
  returning 1) select count(*)::int from d $$, array[1], 'but may drop their own row');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['viewer'], 'which falls back to the company-derived role, never below');

------------------------------------------------------------------ the creator and the company
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000c');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000001') $$,
  array['owner'], 'the creator owns it while a company member');
reset role;
delete from public.company_members where user_id = '0f000000-0000-0000-0000-00000000000c';
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000c');
select is(public.workbench_role('0e100000-0000-0000-0000-000000000001'), null,
  'and loses every role on it with their membership');
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000a');
select results_eq($$ select user_id, role, explicit_role, company_role, is_creator
  from public.workbench_member_list('0e100000-0000-0000-0000-000000000001') $$,
  $$ values ('0f000000-0000-0000-0000-00000000000b'::uuid, 'editor', null, 'admin', false),
            ('0f000000-0000-0000-0000-00000000000a'::uuid, 'editor', null, 'owner', false),
            ('0f000000-0000-0000-0000-00000000000d'::uuid, 'viewer', null, 'member', false) $$,
  'the member list shows everyone with access and why');
select results_eq($$ with d as (delete from public.workbench
  where id = '0e100000-0000-0000-0000-000000000001' returning 1) select count(*)::int from d $$,
  array[1], 'the company owner deletes a workbench whose creator left');

------------------------------------------------------------------ personal workbenches
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000d');
insert into public.workbench (id, name)
values ('0e100000-0000-0000-0000-000000000002', 'N personal');
select lives_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000002', '0f000000-0000-0000-0000-00000000000b', 'viewer') $$,
  'a personal workbench can be shared with someone from one''s company');
select throws_ok($$ insert into public.workbench_members (workbench_id, user_id, role)
  values ('0e100000-0000-0000-0000-000000000002', '0f000000-0000-0000-0000-00000000000e', 'viewer') $$,
  '42501', null, 'but not with a stranger (whose id one could only have guessed)');
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000a');
select is(public.workbench_role('0e100000-0000-0000-0000-000000000002'), null,
  'company roles give nothing on a member''s personal workbench');
select ok(not public.can_manage_workbench('0e100000-0000-0000-0000-000000000002'),
  'nor manage it');
select is_empty($$ select 1 from public.workbench_member_list('0e100000-0000-0000-0000-000000000002') $$,
  'nor show its members');
select tests.authenticate_as('0f000000-0000-0000-0000-00000000000b');
select results_eq($$ select public.workbench_role('0e100000-0000-0000-0000-000000000002') $$,
  array['viewer'], 'the explicit row gives the role');
select is_empty($$ delete from public.workbench where id = '0e100000-0000-0000-0000-000000000002'
  returning 1 $$, 'a viewer cannot delete a personal workbench');
select results_eq($$ with d as (delete from public.workbench_members where user_id = auth.uid()
  returning 1) select count(*)::int from d $$, array[1], 'and may leave it');
select is(public.workbench_role('0e100000-0000-0000-0000-000000000002'), null, 'which ends the role');

select * from finish();
rollback;
