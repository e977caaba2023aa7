-- Ownership that holds: deleting a user always works. A sole owner's companies pass to the
-- longest-standing admin, then member; a company with no other member is deleted with its
-- workbenches and their stored objects are queued for collection; personal workbenches pass to
-- their longest-standing explicit member or are deleted; open invitations to the user go. The
-- last-owner rule still holds for everyone else.
begin;
create extension if not exists pgtap with schema extensions;
select plan(25);

insert into auth.users (id, email, email_confirmed_at) values
  ('0b000000-0000-0000-0000-000000000001', 'leaver@example.com', now()),
  ('0b000000-0000-0000-0000-000000000002', 'old-member@example.com', now()),
  ('0b000000-0000-0000-0000-000000000003', 'old-admin@example.com', now()),
  ('0b000000-0000-0000-0000-000000000004', 'new-admin@example.com', now()),
  ('0b000000-0000-0000-0000-000000000005', 'co-owner@example.com', now()),
  ('0b000000-0000-0000-0000-000000000006', 'editor@example.com', now()),
  ('0b000000-0000-0000-0000-000000000007', 'viewer@example.com', now());

-- The leaver owns five companies:
--   c1: alone with an old member, an old admin and a newer admin -> the old admin inherits;
--   c2: with members only -> the longest-standing member inherits;
--   c3: alone, with a workbench holding a stored file -> deleted with it;
--   c4: with a co-owner -> nothing to hand over;
--   c5: the leaver is only a member there.
insert into public.company (id, name, created_by) values
  ('0d000000-0000-0000-0000-000000000001', 'With admins', '0b000000-0000-0000-0000-000000000001'),
  ('0d000000-0000-0000-0000-000000000002', 'Members only', '0b000000-0000-0000-0000-000000000001'),
  ('0d000000-0000-0000-0000-000000000003', 'Alone', '0b000000-0000-0000-0000-000000000001'),
  ('0d000000-0000-0000-0000-000000000004', 'Co-owned', '0b000000-0000-0000-0000-000000000001'),
  ('0d000000-0000-0000-0000-000000000005', 'Not mine', '0b000000-0000-0000-0000-000000000005');
insert into public.company_members (company_id, user_id, role, created_at) values
  ('0d000000-0000-0000-0000-000000000001', '0b000000-0000-0000-0000-000000000002', 'member', now() - interval '3 days'),
  ('0d000000-0000-0000-0000-000000000001', '0b000000-0000-0000-0000-000000000003', 'admin', now() - interval '2 days'),
  ('0d000000-0000-0000-0000-000000000001', '0b000000-0000-0000-0000-000000000004', 'admin', now() - interval '1 day'),
  ('0d000000-0000-0000-0000-000000000002', '0b000000-0000-0000-0000-000000000004', 'member', now() - interval '1 day'),
  ('0d000000-0000-0000-0000-000000000002', '0b000000-0000-0000-0000-000000000002', 'member', now() - interval '2 days'),
  ('0d000000-0000-0000-0000-000000000004', '0b000000-0000-0000-0000-000000000005', 'owner', now()),
  ('0d000000-0000-0000-0000-000000000005', '0b000000-0000-0000-0000-000000000001', 'member', now());

insert into public.workbench (id, name, owner_user_id, company_id) values
  ('0e000000-0000-0000-0000-000000000003', 'Alone books', '0b000000-0000-0000-0000-000000000001',
   '0d000000-0000-0000-0000-000000000003'),
  ('0e000000-0000-0000-0000-000000000001', 'With admins books', '0b000000-0000-0000-0000-000000000001',
   '0d000000-0000-0000-0000-000000000001'),
  ('0e000000-0000-0000-0000-0000000000a1', 'Shared personal', '0b000000-0000-0000-0000-000000000001', null),
  ('0e000000-0000-0000-0000-0000000000a2', 'Private personal', '0b000000-0000-0000-0000-000000000001', null);
insert into public.workbench_members (workbench_id, user_id, role, created_at) values
  ('0e000000-0000-0000-0000-0000000000a1', '0b000000-0000-0000-0000-000000000007', 'viewer', now() - interval '2 days'),
  ('0e000000-0000-0000-0000-0000000000a1', '0b000000-0000-0000-0000-000000000006', 'editor', now() - interval '1 day');
insert into public.workbench_files (workbench_id, uploaded_by, file_name, file_type, size_bytes,
                                    content_hash, storage_path) values
  ('0e000000-0000-0000-0000-000000000003', '0b000000-0000-0000-0000-000000000001', 'alone.csv', 'csv', 1,
   'h-alone', 'workbench/0e000000-0000-0000-0000-000000000003/alone.csv'),
  ('0e000000-0000-0000-0000-0000000000a2', '0b000000-0000-0000-0000-000000000001', 'mine.csv', 'csv', 1,
   'h-mine', 'workbench/0e000000-0000-0000-0000-0000000000a2/mine.csv');
-- An open invitation to the leaver, and one the leaver sent.
insert into public.company_invitations (company_id, email, role, invited_by, expires_at) values
  ('0d000000-0000-0000-0000-000000000004', 'leaver@example.com', 'member',
   '0b000000-0000-0000-0000-000000000005', now() + interval '1 day'),
  ('0d000000-0000-0000-0000-000000000001', 'friend@example.com', 'member',
   '0b000000-0000-0000-0000-000000000001', now() + interval '1 day');

------------------------------------------------------------------ the last-owner rule still holds
select tests.authenticate_as('0b000000-0000-0000-0000-000000000001');
select throws_ok($$ delete from public.company_members
  where company_id = '0d000000-0000-0000-0000-000000000001' and user_id = auth.uid() $$,
  '23514', null, 'a sole owner cannot leave their company');
select throws_ok($$ update public.company_members set role = 'admin'
  where company_id = '0d000000-0000-0000-0000-000000000001' and user_id = auth.uid() $$,
  '23514', null, 'nor demote themselves');
reset role;

------------------------------------------------------------------ deleting the user
select lives_ok($$ delete from auth.users where id = '0b000000-0000-0000-0000-000000000001' $$,
  'deleting a user who is the sole owner of companies works');

select results_eq($$ select user_id, role from public.company_members
  where company_id = '0d000000-0000-0000-0000-000000000001' order by created_at $$,
  $$ values ('0b000000-0000-0000-0000-000000000002'::uuid, 'member'),
            ('0b000000-0000-0000-0000-000000000003'::uuid, 'owner'),
            ('0b000000-0000-0000-0000-000000000004'::uuid, 'admin') $$,
  'the longest-standing admin inherits, before an older plain member');
select results_eq($$ select user_id, role from public.company_members
  where company_id = '0d000000-0000-0000-0000-000000000002' order by created_at $$,
  $$ values ('0b000000-0000-0000-0000-000000000002'::uuid, 'owner'),
            ('0b000000-0000-0000-0000-000000000004'::uuid, 'member') $$,
  'without admins, the longest-standing member inherits');
select is_empty($$ select 1 from public.company where id = '0d000000-0000-0000-0000-000000000003' $$,
  'a company with no other member is deleted');
select is_empty($$ select 1 from public.workbench where id = '0e000000-0000-0000-0000-000000000003' $$,
  'with its workbenches');
select is_empty($$ select 1 from public.workbench_files where content_hash = 'h-alone' $$,
  'and their files');
select results_eq($$ select count(*)::int from pgmq.q_storage_gc
  where message ->> 'path' = 'workbench/0e000000-0000-0000-0000-000000000003/alone.csv' $$,
  array[1], 'whose stored object is queued for collection');
select results_eq($$ select user_id, role from public.company_members
  where company_id = '0d000000-0000-0000-0000-000000000004' $$,
  $$ values ('0b000000-0000-0000-0000-000000000005'::uuid, 'owner') $$,
  'a company with another owner keeps it, and nobody is promoted');
select is_empty($$ select 1 from public.company_members
  where user_id = '0b000000-0000-0000-0000-000000000001' $$, 'the user is in no company any more');
select is_empty($$ select 1 from public.company_members m
  where not exists (select 1 from public.company_members o
                     where o.company_id = m.company_id and o.role = 'owner') $$,
  'every company with members has an owner');
select results_eq($$ select owner_user_id, company_id from public.workbench
  where id = '0e000000-0000-0000-0000-000000000001' $$,
  $$ values (null::uuid, '0d000000-0000-0000-0000-000000000001'::uuid) $$,
  'a company workbench the user created stays with the company');

select results_eq($$ select owner_user_id from public.workbench
  where id = '0e000000-0000-0000-0000-0000000000a1' $$,
  array['0b000000-0000-0000-0000-000000000006'::uuid],
  'a shared personal workbench passes to its highest, longest-standing explicit member');
select results_eq($$ select user_id, role from public.workbench_members
  where workbench_id = '0e000000-0000-0000-0000-0000000000a1' $$,
  $$ values ('0b000000-0000-0000-0000-000000000007'::uuid, 'viewer') $$,
  'the heir''s explicit row is folded into ownership; others keep theirs');
select is_empty($$ select 1 from public.workbench where id = '0e000000-0000-0000-0000-0000000000a2' $$,
  'a personal workbench nobody else has is deleted');
select results_eq($$ select count(*)::int from pgmq.q_storage_gc
  where message ->> 'path' = 'workbench/0e000000-0000-0000-0000-0000000000a2/mine.csv' $$,
  array[1], 'and its stored object is queued for collection');

select is_empty($$ select 1 from public.company_invitations where email = 'leaver@example.com' $$,
  'open invitations to the user''s email are erased');
select results_eq($$ select invited_by from public.company_invitations
  where email = 'friend@example.com' $$, array[null::uuid],
  'invitations the user sent stay valid without naming them');
select is_empty($$ select 1 from public.profiles where id = '0b000000-0000-0000-0000-000000000001' $$,
  'the profile is gone');
select results_eq($$ select action from private.audit_log
  where action in ('company.ownership_transferred', 'company.deleted_with_last_member')
  order by entity_id $$,
  array['company.ownership_transferred', 'company.ownership_transferred',
        'company.deleted_with_last_member'],
  'transfers and deletions are audited');

------------------------------------------------------------------ the heir is bound by the rule
select tests.authenticate_as('0b000000-0000-0000-0000-000000000003');
select throws_ok($$ delete from public.company_members
  where company_id = '0d000000-0000-0000-0000-000000000001' and user_id = auth.uid() $$,
  '23514', null, 'the new sole owner cannot leave either');
select results_eq($$ select public.company_role('0d000000-0000-0000-0000-000000000001') $$,
  array['owner'], 'and manages the company');
reset role;

-- Deleting the last member of a company (who is then its sole owner) deletes it too.
select lives_ok($$ delete from auth.users where id in ('0b000000-0000-0000-0000-000000000005') $$,
  'deleting a co-owner who became sole owner works');
select is_empty($$ select 1 from public.company where id in ('0d000000-0000-0000-0000-000000000004',
  '0d000000-0000-0000-0000-000000000005') $$, 'and their companies without other members go');

select * from finish();
rollback;
