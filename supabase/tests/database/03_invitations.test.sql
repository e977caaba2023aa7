-- Company membership by invitation: admins invite an email (with or without an account, the same
-- answer), only the holder of that verified email sees and answers it, an invitation expires and
-- is used once, nobody joins without accepting, and owners come only from an owner promoting a
-- member.
begin;
create extension if not exists pgtap with schema extensions;
select plan(45);

insert into auth.users (id, email, email_confirmed_at) values
  ('0a000000-0000-0000-0000-000000000001', 'owner@example.com', now()),
  ('0a000000-0000-0000-0000-000000000002', 'admin@example.com', now()),
  ('0a000000-0000-0000-0000-000000000003', 'member@example.com', now()),
  ('0a000000-0000-0000-0000-000000000004', 'Invitee@Example.com', now()),
  ('0a000000-0000-0000-0000-000000000005', 'stranger@example.com', now()),
  ('0a000000-0000-0000-0000-000000000006', 'late@example.com', now()),
  ('0a000000-0000-0000-0000-000000000007', 'decliner@example.com', now()),
  ('0a000000-0000-0000-0000-000000000008', 'unverified@example.com', null);
insert into public.company (id, name, created_by)
values ('0c000000-0000-0000-0000-000000000001', 'Acme', '0a000000-0000-0000-0000-000000000001');
insert into public.company_members (company_id, user_id, role) values
  ('0c000000-0000-0000-0000-000000000001', '0a000000-0000-0000-0000-000000000002', 'admin'),
  ('0c000000-0000-0000-0000-000000000001', '0a000000-0000-0000-0000-000000000003', 'member');

------------------------------------------------------------------ inviting
select tests.authenticate_as('0a000000-0000-0000-0000-000000000002');
create temp table invited on commit drop as
  select * from public.invite_to_company('0c000000-0000-0000-0000-000000000001',
                                         '  INVITEE@example.com ', 'member');
create temp table invited_nobody on commit drop as
  select * from public.invite_to_company('0c000000-0000-0000-0000-000000000001',
                                         'nobody@example.com', 'member');
select results_eq($$ select email, role, status, expires_at from invited $$,
  $$ values ('invitee@example.com', 'member', 'pending', now() + interval '7 days') $$,
  'an admin invites an email with an account: normalised, pending, expires in 7 days');
select results_eq(
  $$ select role, status, expires_at, invited_by, responded_at from invited_nobody $$,
  $$ select role, status, expires_at, invited_by, responded_at from invited $$,
  'inviting an email without an account gives the same answer');
select throws_ok($$ select public.invite_to_company('0c000000-0000-0000-0000-000000000001',
  'someone@example.com', 'owner') $$, '22023', null, 'nobody is invited as owner');
select throws_ok($$ select public.invite_to_company('0c000000-0000-0000-0000-000000000001',
  'MEMBER@example.com', 'admin') $$, '23505', null,
  'an email that is already a member''s is refused (the admin sees the members anyway)');
select results_eq($$ select id, role, (select count(*)::int from public.company_invitations
    where email = 'invitee@example.com')
  from public.invite_to_company('0c000000-0000-0000-0000-000000000001', 'invitee@example.com', 'admin') $$,
  $$ select id, 'admin', 1 from invited $$,
  'inviting again refreshes the open invitation (one per email)');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values ('0c000000-0000-0000-0000-000000000001', '0a000000-0000-0000-0000-000000000005', 'member') $$,
  '42501', null, 'an admin cannot add a member without their consent');
select throws_ok($$ insert into public.company_invitations (company_id, email, role, expires_at)
  values ('0c000000-0000-0000-0000-000000000001', 'x@example.com', 'member', now()) $$,
  '42501', null, 'invitations are written only through the RPCs');
select results_eq($$ select email from public.company_invitations order by email $$,
  array['invitee@example.com', 'nobody@example.com'], 'admins see their company''s invitations');

select tests.authenticate_as('0a000000-0000-0000-0000-000000000003');
select throws_ok($$ select public.invite_to_company('0c000000-0000-0000-0000-000000000001',
  'friend@example.com', 'member') $$, '42501', null, 'a plain member cannot invite');
select is_empty($$ select 1 from public.company_invitations $$,
  'a plain member does not see the invitations');
select is_empty($$ delete from public.company_invitations returning 1 $$,
  'a plain member cannot revoke invitations');

select tests.authenticate_as('0a000000-0000-0000-0000-000000000005');
select throws_ok($$ select public.invite_to_company('0c000000-0000-0000-0000-000000000001',
  'friend@example.com', 'member') $$, '42501', null, 'another tenant cannot invite');
select throws_ok($$ insert into public.company_members (company_id, user_id, role)
  values ('0c000000-0000-0000-0000-000000000001', auth.uid(), 'member') $$,
  '42501', null, 'nobody joins a company by inserting themselves');

------------------------------------------------------------------ the invitee's side
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'a stranger has no invitations');
select is_empty($$ select 1 from public.company_invitations $$,
  'a stranger sees nobody else''s invitations');
select throws_ok($$ select public.accept_company_invitation((select id from invited)) $$,
  'PT404', null, 'a stranger cannot accept someone else''s invitation (not found)');
select throws_ok($$ select public.decline_company_invitation((select id from invited)) $$,
  'PT404', null, 'nor decline it');

select tests.authenticate_as('0a000000-0000-0000-0000-000000000004');
select results_eq($$ select id, company_name, role, expires_at from public.my_company_invitations() $$,
  $$ select id, 'Acme', 'admin', now() + interval '7 days' from invited $$,
  'the invitee lists their invitation with the company''s name (matched case-insensitively)');
select is_empty($$ select 1 from public.company_invitations $$,
  'the invitee reads the table through nothing but my_company_invitations() (no inviter id)');
select is_empty($$ select 1 from public.company $$, 'the invitee does not see the company yet');
select results_eq($$ select public.accept_company_invitation((select id from invited)) $$,
  $$ values ('{"company_id": "0c000000-0000-0000-0000-000000000001", "role": "admin"}'::jsonb) $$,
  'the invitee accepts and joins with the invited role');
select results_eq($$ select public.company_role('0c000000-0000-0000-0000-000000000001') $$,
  array['admin'], 'the invitee is a member now');
select results_eq($$ select status, responded_at from public.company_invitations
  where id = (select id from invited) $$, $$ values ('accepted', now()) $$,
  'the invitation is used up');
select throws_ok($$ select public.accept_company_invitation((select id from invited)) $$,
  'PT409', null, 'an invitation is single use');
select throws_ok($$ select public.decline_company_invitation((select id from invited)) $$,
  'PT409', null, 'a used invitation cannot be declined');
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'a used invitation is no longer listed');

-- Expired.
reset role;
select tests.authenticate_as('0a000000-0000-0000-0000-000000000002');
create temp table late on commit drop as
  select * from public.invite_to_company('0c000000-0000-0000-0000-000000000001',
                                         'late@example.com', 'member');
reset role;
update public.company_invitations set expires_at = now() - interval '1 second'
 where id = (select id from late);
select tests.authenticate_as('0a000000-0000-0000-0000-000000000006');
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'an expired invitation is not listed');
select throws_ok($$ select public.accept_company_invitation((select id from late)) $$,
  'PT410', null, 'an expired invitation cannot be accepted');
select is(public.company_role('0c000000-0000-0000-0000-000000000001'), null,
  'and gives no membership');

-- Declined.
reset role;
select tests.authenticate_as('0a000000-0000-0000-0000-000000000002');
create temp table declined on commit drop as
  select * from public.invite_to_company('0c000000-0000-0000-0000-000000000001',
                                         'decliner@example.com', 'member');
select tests.authenticate_as('0a000000-0000-0000-0000-000000000007');
select lives_ok($$ select public.decline_company_invitation((select id from declined)) $$,
  'the invitee declines');
select throws_ok($$ select public.accept_company_invitation((select id from declined)) $$,
  'PT409', null, 'a declined invitation cannot be accepted afterwards');
select is(public.company_role('0c000000-0000-0000-0000-000000000001'), null,
  'declining gives no membership');

-- An unverified email does not match.
reset role;
select tests.authenticate_as('0a000000-0000-0000-0000-000000000002');
create temp table unverified on commit drop as
  select * from public.invite_to_company('0c000000-0000-0000-0000-000000000001',
                                         'unverified@example.com', 'member');
select tests.authenticate_as('0a000000-0000-0000-0000-000000000008');
select is_empty($$ select 1 from public.my_company_invitations() $$,
  'an account whose email is not confirmed sees no invitation');
select throws_ok($$ select public.accept_company_invitation((select id from unverified)) $$,
  'PT404', null, 'and cannot accept it');

-- The expiry is a setting; revoking deletes.
reset role;
select isnt_empty($$ select 1 from private.audit_log where action = 'company.invite' $$,
  'invitations are audited');
update private.settings set value = '2' where key = 'invitation_ttl_days';
select tests.authenticate_as('0a000000-0000-0000-0000-000000000002');
select results_eq($$ select expires_at from public.invite_to_company(
  '0c000000-0000-0000-0000-000000000001', 'short@example.com', 'member') $$,
  $$ values (now() + interval '2 days') $$, 'the expiry comes from private.settings');
select results_eq($$ with d as (delete from public.company_invitations
  where email = 'short@example.com' returning 1) select count(*)::int from d $$, array[1],
  'an admin revokes an invitation');

------------------------------------------------------------------ members and roles
select tests.authenticate_as('0a000000-0000-0000-0000-000000000003');
select results_eq($$ select email, role from public.company_member_list(
  '0c000000-0000-0000-0000-000000000001') $$,
  $$ values ('owner@example.com', 'owner'), ('admin@example.com', 'admin'),
            ('member@example.com', 'member'), ('Invitee@Example.com', 'admin') $$,
  'members see who their fellow members are');
select tests.authenticate_as('0a000000-0000-0000-0000-000000000005');
select is_empty($$ select 1 from public.company_member_list('0c000000-0000-0000-0000-000000000001') $$,
  'another tenant sees no member list');

select tests.authenticate_as('0a000000-0000-0000-0000-000000000002');
select throws_ok($$ update public.company_members set role = 'owner'
  where user_id = '0a000000-0000-0000-0000-000000000003' $$, '42501', null,
  'an admin cannot make an owner');
select results_eq($$ with u as (update public.company_members set role = 'admin'
  where user_id = '0a000000-0000-0000-0000-000000000003' returning 1) select count(*)::int from u $$,
  array[1], 'an admin promotes a member to admin');
select tests.authenticate_as('0a000000-0000-0000-0000-000000000001');
select results_eq($$ with u as (update public.company_members set role = 'owner'
  where user_id = '0a000000-0000-0000-0000-000000000003' returning 1) select count(*)::int from u $$,
  array[1], 'an owner promotes an existing member to owner');
select throws_ok($$ select public.invite_to_company('0c000000-0000-0000-0000-000000000001',
  'future-owner@example.com', 'owner') $$, '22023', null, 'not even an owner invites an owner');

select tests.authenticate_as_anon();
select throws_ok($$ select public.invite_to_company('0c000000-0000-0000-0000-000000000001',
  'x@example.com', 'member') $$, '42501', null, 'anon cannot invite');
select throws_ok($$ select public.my_company_invitations() $$, '42501', null,
  'anon has no invitations to list');

select * from finish();
rollback;
