-- Company membership by invitation (consent), after basejump's invitations: an admin invites an
-- email with a role (admin or member, never owner); the person who owns that verified email lists
-- the invitation and accepts or declines it. An invitation expires (private.settings
-- `invitation_ttl_days`, 7 by default) and is used once. Nothing here looks an email up among the
-- accounts, so no answer tells whether an email has an account.
--
-- Clients no longer insert company_members: membership comes only from accepting an invitation
-- (and the creator's owner row, added by a trigger). Owners come only from an owner promoting an
-- existing member (the "admins change roles" policy). Fellow members see each other's email and
-- role through public.company_member_list(); they consented to that by joining.

insert into private.settings (key, value) values ('invitation_ttl_days', '7')
on conflict (key) do nothing;

create table public.company_invitations (
  id uuid primary key default gen_random_uuid(),
  company_id uuid not null references public.company (id) on delete cascade,
  -- Stored lower-case and trimmed; matched against the invitee's verified email.
  email text not null check (char_length(email) between 3 and 320
                             and email = lower(btrim(email))
                             and email ~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+$'),
  role text not null default 'member' check (role in ('admin', 'member')),
  invited_by uuid references auth.users (id) on delete set null,
  status text not null default 'pending' check (status in ('pending', 'accepted', 'declined')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  responded_at timestamptz,
  check ((status = 'pending') = (responded_at is null))
);
-- One open invitation per company and email; inviting again refreshes it.
create unique index company_invitations_open_key on public.company_invitations (company_id, email)
  where status = 'pending';
create index company_invitations_email_idx on public.company_invitations (email)
  where status = 'pending';

------------------------------------------------------------------------------------------------
-- Helpers about the caller.
------------------------------------------------------------------------------------------------

-- The caller's email when Auth has confirmed it, else null.
create function private.caller_verified_email() returns text
language sql
stable
security definer
set search_path = ''
as $$
  select lower(u.email) from auth.users u
   where u.id = (select auth.uid()) and u.email_confirmed_at is not null
$$;
revoke all on function private.caller_verified_email() from public, anon, authenticated;
grant execute on function private.caller_verified_email() to service_role;

------------------------------------------------------------------------------------------------
-- Invitation RPCs (the companies and invitations functions call them as the caller). Errors carry
-- PostgREST-style SQLSTATEs: PT404 not found, PT409 used, PT410 expired; 42501 for a caller who
-- may not invite; 23505 when the email is already a member's.
------------------------------------------------------------------------------------------------

-- Invites an email to a company (admins and owners). Inviting an email that already has an open
-- invitation refreshes it (new role and expiry). Returns the invitation.
create function public.invite_to_company(
  p_company_id uuid,
  p_email text,
  p_role text default 'member'
) returns public.company_invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_ttl integer := greatest(private.setting_int('invitation_ttl_days', 7), 1);
  v_invitation public.company_invitations;
begin
  if not public.is_company_member(p_company_id, 'admin') then
    raise exception 'only company admins invite' using errcode = '42501';
  end if;
  if p_role is null or p_role not in ('admin', 'member') then
    raise exception 'invite as admin or member; owners come from promoting a member'
      using errcode = '22023';
  end if;
  -- Only members' emails are compared, which the inviting admin sees in the member list anyway.
  if exists (select 1 from public.company_members m join auth.users u on u.id = m.user_id
              where m.company_id = p_company_id and lower(u.email) = v_email) then
    raise exception 'already_member' using errcode = '23505';
  end if;
  insert into public.company_invitations as i (company_id, email, role, invited_by, expires_at)
  values (p_company_id, v_email, p_role, (select auth.uid()), now() + make_interval(days => v_ttl))
  on conflict (company_id, email) where status = 'pending'
  do update set role = excluded.role, invited_by = excluded.invited_by, created_at = now(),
                expires_at = excluded.expires_at
  returning * into v_invitation;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('company.invite', 'company', p_company_id::text,
          jsonb_build_object('invitation_id', v_invitation.id, 'role', p_role));
  return v_invitation;
end;
$$;
revoke all on function public.invite_to_company(uuid, text, text) from public, anon;
grant execute on function public.invite_to_company(uuid, text, text) to authenticated, service_role;

-- The caller's invitation `p_id`, locked, checked open and unexpired. Someone else's invitation
-- is "not found", exactly like one that does not exist.
create function private.open_invitation_for_caller(p_id uuid) returns public.company_invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_invitation public.company_invitations;
begin
  select * into v_invitation from public.company_invitations i
   where i.id = p_id and i.email = private.caller_verified_email()
   for update;
  if not found then
    raise exception 'invitation_not_found' using errcode = 'PT404';
  end if;
  if v_invitation.status <> 'pending' then
    raise exception 'invitation_used' using errcode = 'PT409',
      detail = format('the invitation was already %s', v_invitation.status);
  end if;
  if v_invitation.expires_at <= now() then
    raise exception 'invitation_expired' using errcode = 'PT410';
  end if;
  return v_invitation;
end;
$$;
revoke all on function private.open_invitation_for_caller(uuid) from public, anon, authenticated;
grant execute on function private.open_invitation_for_caller(uuid) to service_role;

-- Accepts the caller's invitation: the caller joins with the invited role (someone who is already
-- a member keeps their role) and the invitation is used up. Returns {company_id, role}.
create function public.accept_company_invitation(p_invitation_id uuid) returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_invitation public.company_invitations := private.open_invitation_for_caller(p_invitation_id);
  v_role text;
begin
  insert into public.company_members (company_id, user_id, role)
  values (v_invitation.company_id, (select auth.uid()), v_invitation.role)
  on conflict (company_id, user_id) do nothing;
  select m.role into v_role from public.company_members m
   where m.company_id = v_invitation.company_id and m.user_id = (select auth.uid());
  update public.company_invitations set status = 'accepted', responded_at = now()
   where id = v_invitation.id;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('company.invitation_accepted', 'company', v_invitation.company_id::text,
          jsonb_build_object('invitation_id', v_invitation.id, 'role', v_role));
  return jsonb_build_object('company_id', v_invitation.company_id, 'role', v_role);
end;
$$;
revoke all on function public.accept_company_invitation(uuid) from public, anon;
grant execute on function public.accept_company_invitation(uuid) to authenticated, service_role;

-- Declines the caller's invitation (it cannot be accepted afterwards).
create function public.decline_company_invitation(p_invitation_id uuid) returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_invitation public.company_invitations := private.open_invitation_for_caller(p_invitation_id);
begin
  update public.company_invitations set status = 'declined', responded_at = now()
   where id = v_invitation.id;
end;
$$;
revoke all on function public.decline_company_invitation(uuid) from public, anon;
grant execute on function public.decline_company_invitation(uuid) to authenticated, service_role;

-- The caller's open invitations (matched by their verified email), with the company's name, which
-- the invitee cannot read otherwise.
create function public.my_company_invitations()
returns table (
  id uuid,
  company_id uuid,
  company_name text,
  role text,
  created_at timestamptz,
  expires_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select i.id, i.company_id, c.name, i.role, i.created_at, i.expires_at
    from public.company_invitations i
    join public.company c on c.id = i.company_id
   where i.email = private.caller_verified_email()
     and i.status = 'pending' and i.expires_at > now()
   order by i.created_at desc, i.id
$$;
revoke all on function public.my_company_invitations() from public, anon;
grant execute on function public.my_company_invitations() to authenticated, service_role;

-- The members of a company the caller belongs to: user id, email, name, role, join date. Empty for
-- anyone else.
create function public.company_member_list(p_company_id uuid)
returns table (
  user_id uuid,
  email text,
  full_name text,
  role text,
  joined_at timestamptz
)
language sql
stable
security definer
set search_path = ''
as $$
  select m.user_id, u.email::text, p.full_name, m.role, m.created_at
    from public.company_members m
    join auth.users u on u.id = m.user_id
    left join public.profiles p on p.id = m.user_id
   where m.company_id = p_company_id and public.is_company_member(p_company_id)
   order by m.created_at, m.user_id
$$;
revoke all on function public.company_member_list(uuid) from public, anon;
grant execute on function public.company_member_list(uuid) to authenticated, service_role;

------------------------------------------------------------------------------------------------
-- Privileges and policies.
------------------------------------------------------------------------------------------------

-- Membership only by accepting an invitation.
drop policy "admins add members" on public.company_members;
revoke insert on public.company_members from authenticated;

revoke all on public.company_invitations from anon, authenticated;
grant select, delete on public.company_invitations to authenticated;
alter table public.company_invitations enable row level security;

-- Admins see their company's invitations. Invitees read theirs through my_company_invitations(),
-- which leaves out who invited them (no user ids for people who are not members yet).
create policy "admins see invitations" on public.company_invitations
  for select to authenticated
  using ((select public.is_company_member(company_id, 'admin')));
-- Revoking an invitation deletes it.
create policy "admins revoke invitations" on public.company_invitations
  for delete to authenticated
  using ((select public.is_company_member(company_id, 'admin')));
