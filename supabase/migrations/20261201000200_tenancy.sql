-- Tenancy: companies with members (owner / admin / member), invitations, and workbenches with
-- members (owner / editor / viewer).
--
-- Workbench roles can only raise. A user's role on a workbench is the highest of: owner for its
-- creator; their explicit workbench_members row; and, on a company workbench, the role derived
-- from their company role (owner/admin -> editor, member -> viewer). On a company workbench every
-- role, the creator's and explicit rows included, needs company membership, so a company owner or
-- admin can never be locked out of a company workbench, and leaving a company removes one's
-- explicit roles on its workbenches. Managing a workbench (adding, changing and removing explicit
-- rows; deleting the workbench) is for its owners and, on a company workbench, the company's
-- admins and owners. An explicit row can be given to a member of the workbench's company, or, on
-- a personal workbench, to someone who shares a company with the manager (the only people whose
-- ids a manager legitimately knows). Anyone may remove their own explicit row.
--
-- Company membership comes by invitation (consent), after basejump's invitations: an admin
-- invites an email with a role (admin or member, never owner); the person who owns that verified
-- email lists the invitation and accepts or declines it. An invitation expires (private.settings
-- `invitation_ttl_days`, 7 by default) and is used once. Nothing here looks an email up among the
-- accounts, so no answer tells whether an email has an account. Clients do not insert
-- company_members: membership comes only from accepting an invitation (and the creator's owner
-- row, added by a trigger). Owners come only from an owner promoting an existing member. Fellow
-- members see each other's email and role through public.company_member_list(); they consented to
-- that by joining.
--
-- A confirmed email alone proves nothing when the project confirms no email (anyone can sign up
-- with the invitee's address), so answering an invitation also needs its secret token: the
-- companies function makes a random one per invitation, mails it to the invited address as a
-- link and hands only its SHA-256 to invite_to_company(); private.company_invitation_tokens keeps
-- that hash, which no API role reads. Inviting again replaces the token (the older link stops
-- working).
--
-- Ownership holds under concurrency and user deletion. The last-owner rule locks the company row
-- before counting owners, so two owners who leave (or are demoted) at the same moment run one
-- after the other under READ COMMITTED and the second one sees the first one gone. Deleting a user
-- (GDPR erasure, Studio, Auth's admin API) always works: before the auth.users row goes, each
-- company where the user is the sole owner passes to its longest-standing admin, else its
-- longest-standing member; a company with no other member is deleted with its workbenches (their
-- stored objects are queued on storage_gc by the workbench_files delete trigger). The user's
-- personal workbenches pass the same way to their longest-standing explicit member (owner, then
-- editor, then viewer), or are deleted. Open invitations to the user's email are deleted too.
-- Lock order: company rows in id order, then their member rows. Every owner change takes the
-- company lock first (through the keep-owner trigger), so these paths serialise per company.
--
-- The membership checks are SECURITY DEFINER functions about the calling user only, used by the
-- policies (no recursive RLS).
--
-- Billing: every company has a wallet of its own (public.wallet keyed by the company id, made with
-- the company), which pays for the usage on its workbenches (private.workbench_wallet) and whose
-- plan gives the company's limits: workbenches, and seats, checked when a member is added (the
-- wallet row locked while the members are counted). Its members read it (docs/billing.md).

create table public.company (
  id uuid primary key default gen_random_uuid(),
  -- The functions' name rules (shared/validation.ts), held here for writes through the Data API.
  name private.name_text not null,
  created_by uuid references auth.users (id) on delete set null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.company_members (
  company_id uuid not null references public.company (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (company_id, user_id)
);
create index company_members_user_idx on public.company_members (user_id);

create table public.workbench (
  id uuid primary key default gen_random_uuid(),
  name private.name_text not null,
  description private.free_text check (char_length(description) <= 2000),
  owner_user_id uuid references auth.users (id) on delete set null default auth.uid(),
  company_id uuid references public.company (id) on delete cascade,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index workbench_owner_idx on public.workbench (owner_user_id);
create index workbench_company_idx on public.workbench (company_id);

create table public.workbench_members (
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'editor', 'viewer')),
  created_at timestamptz not null default now(),
  primary key (workbench_id, user_id)
);
create index workbench_members_user_idx on public.workbench_members (user_id);

revoke all on public.company, public.company_members, public.workbench, public.workbench_members
  from anon, authenticated;
-- What a client may write (the functions as the caller, or the Data API: see the data-model
-- docs): the creator and timestamps come from defaults and triggers, never from the client;
-- names obey the name rules (the private.name_text and free_text domains); creations take a
-- rate-limit token (a trigger in the operations migration).
grant select, delete on public.company, public.workbench, public.workbench_members
  to authenticated;
grant insert (id, name) on public.company to authenticated;
grant insert (id, name, description, company_id) on public.workbench to authenticated;
grant insert on public.workbench_members to authenticated;
grant select, delete on public.company_members to authenticated;
grant update (name) on public.company to authenticated;
grant update (role) on public.company_members to authenticated;
grant update (name, description) on public.workbench to authenticated;
grant update (role) on public.workbench_members to authenticated;

alter table public.company enable row level security;
alter table public.company_members enable row level security;
alter table public.workbench enable row level security;
alter table public.workbench_members enable row level security;

-- How long an invitation stays open.
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
revoke all on public.company_invitations from anon, authenticated;
grant select, delete on public.company_invitations to authenticated;
alter table public.company_invitations enable row level security;

------------------------------------------------------------------------------------------------
-- Membership checks (about auth.uid() only).
------------------------------------------------------------------------------------------------

-- The caller's role in a company, or null.
create function public.company_role(p_company_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select m.role from public.company_members m
   where m.company_id = p_company_id and m.user_id = (select auth.uid())
$$;
revoke all on function public.company_role(uuid) from public, anon;
grant execute on function public.company_role(uuid) to authenticated, service_role;

-- Whether the caller is a member of the company with at least `p_min_role`.
create function public.is_company_member(p_company_id uuid, p_min_role text default 'member')
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    array_position(array['member', 'admin', 'owner'], public.company_role(p_company_id))
      >= array_position(array['member', 'admin', 'owner'], p_min_role),
    false)
$$;
revoke all on function public.is_company_member(uuid, text) from public, anon;
grant execute on function public.is_company_member(uuid, text) to authenticated, service_role;

-- Suspended tenants: a personal account (a user id) or a company (a company id), written by the
-- platform admins' RPCs (the admin and metrics migration). A suspended company's workbenches are
-- closed (private.workbench_role_of below).
create table private.tenant_suspensions (
  tenant_id uuid primary key,
  tenant_kind text not null check (tenant_kind in ('user', 'company')),
  reason text not null check (char_length(reason) between 1 and 500),
  suspended_by uuid references auth.users (id) on delete set null,
  suspended_at timestamptz not null default now()
);
revoke all on private.tenant_suspensions from public, anon, authenticated;
grant select on private.tenant_suspensions to service_role;

-- The role of any user on a workbench (owner / editor / viewer), or null. Internal: the public
-- helpers below ask it about the caller only.
create function private.workbench_role_of(p_workbench_id uuid, p_user_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select (array['viewer', 'editor', 'owner'])[nullif(greatest(
    case when w.owner_user_id = p_user_id and (w.company_id is null or cm.role is not null)
         then 3 else 0 end,
    case when w.company_id is null or cm.role is not null
         then coalesce(array_position(array['viewer', 'editor', 'owner'], wm.role), 0)
         else 0 end,
    case cm.role when 'owner' then 2 when 'admin' then 2 when 'member' then 1 else 0 end
  ), 0)]
  from public.workbench w
  left join public.workbench_members wm
         on wm.workbench_id = w.id and wm.user_id = p_user_id
  left join public.company_members cm
         on cm.company_id = w.company_id and cm.user_id = p_user_id
  where w.id = p_workbench_id
    -- A suspended company's workbenches are closed to everyone (the admin migration).
    and (w.company_id is null
         or not exists (select 1 from private.tenant_suspensions s
                         where s.tenant_id = w.company_id))
$$;
revoke all on function private.workbench_role_of(uuid, uuid) from public, anon, authenticated;
grant execute on function private.workbench_role_of(uuid, uuid) to service_role;

-- The caller's role on a workbench (owner / editor / viewer), or null when they have no access.
create function public.workbench_role(p_workbench_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select private.workbench_role_of(p_workbench_id, (select auth.uid()))
$$;
revoke all on function public.workbench_role(uuid) from public, anon;
grant execute on function public.workbench_role(uuid) to authenticated, service_role;

-- Whether the caller's workbench role is at least `p_min_role`.
create function public.has_workbench_role(p_workbench_id uuid, p_min_role text default 'viewer')
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    array_position(array['viewer', 'editor', 'owner'], public.workbench_role(p_workbench_id))
      >= array_position(array['viewer', 'editor', 'owner'], p_min_role),
    false)
$$;
revoke all on function public.has_workbench_role(uuid, text) from public, anon;
grant execute on function public.has_workbench_role(uuid, text) to authenticated, service_role;

-- Whether the caller may see a company: members, and its creator while it has no members yet
-- (between inserting the company and the trigger adding the creator as owner; the row is passed
-- in because a policy's function cannot see the row being inserted).
create function public.company_visible(p_company_id uuid, p_created_by uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select public.is_company_member(p_company_id)
      or (p_created_by = (select auth.uid())
          and not exists (select 1 from public.company_members m
                           where m.company_id = p_company_id))
$$;
revoke all on function public.company_visible(uuid, uuid) from public, anon;
grant execute on function public.company_visible(uuid, uuid) to authenticated, service_role;

-- Whether the caller manages the workbench: its owners, and the admins and owners of its company.
create function public.can_manage_workbench(p_workbench_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select public.has_workbench_role(p_workbench_id, 'owner')
      or exists (select 1 from public.workbench w
                  where w.id = p_workbench_id and w.company_id is not null
                    and public.is_company_member(w.company_id, 'admin'))
$$;
revoke all on function public.can_manage_workbench(uuid) from public, anon;
grant execute on function public.can_manage_workbench(uuid) to authenticated, service_role;

-- Whether the caller may give `p_user_id` an explicit role on the workbench: they manage it, and
-- the user is a member of its company (company workbench) or shares a company with the caller
-- (personal workbench).
create function public.can_grant_workbench_role(p_workbench_id uuid, p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select public.can_manage_workbench(p_workbench_id)
     and exists (
       select 1 from public.workbench w
        where w.id = p_workbench_id
          and case when w.company_id is not null then
                exists (select 1 from public.company_members m
                         where m.company_id = w.company_id and m.user_id = p_user_id)
              else
                exists (select 1 from public.company_members mine
                          join public.company_members theirs on theirs.company_id = mine.company_id
                         where mine.user_id = (select auth.uid()) and theirs.user_id = p_user_id)
              end)
$$;
revoke all on function public.can_grant_workbench_role(uuid, uuid) from public, anon;
grant execute on function public.can_grant_workbench_role(uuid, uuid)
  to authenticated, service_role;

-- The workbenches on which the caller's role (private.workbench_role_of) is not null: personal
-- workbenches they created or hold an explicit row on, and every workbench of a company they
-- belong to (on a company workbench every role needs company membership, and membership alone
-- gives at least viewer). Only the caller's own ids. The read policies on chunks and files use it
-- as `workbench_id in (select public.readable_workbench_ids())`, a hashed subplan computed once
-- per statement, instead of a role lookup per row (a search reads every chunk of a small
-- workbench). PL/pgSQL, so its plan is cached for the session (a SQL function that cannot be
-- inlined is planned again in every statement that calls it). pgTAP checks that it agrees with
-- workbench_role() for every user and workbench of its fixtures.
create function public.readable_workbench_ids() returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query
  select w.id from public.workbench w
   where w.company_id is null and w.owner_user_id = (select auth.uid())
  union
  select wm.workbench_id from public.workbench_members wm
    join public.workbench w on w.id = wm.workbench_id and w.company_id is null
   where wm.user_id = (select auth.uid())
  union
  select w.id from public.company_members cm
    join public.workbench w on w.company_id = cm.company_id
   where cm.user_id = (select auth.uid())
     -- A suspended company's workbenches are closed (as in private.workbench_role_of).
     and not exists (select 1 from private.tenant_suspensions s where s.tenant_id = cm.company_id);
end;
$$;
revoke all on function public.readable_workbench_ids() from public, anon;
grant execute on function public.readable_workbench_ids() to authenticated, service_role;

-- Everyone with a role on a workbench the caller can see: user id, email, effective role, their
-- explicit role, their company role and whether they created it. Empty for anyone else.
create function public.workbench_member_list(p_workbench_id uuid)
returns table (
  user_id uuid,
  email text,
  role text,
  explicit_role text,
  company_role text,
  is_creator boolean
)
language sql
stable
security definer
set search_path = ''
as $$
  with w as (
    select w.id, w.owner_user_id, w.company_id from public.workbench w
     where w.id = p_workbench_id and public.workbench_role(w.id) is not null
  ), candidates as (
    select w.owner_user_id as user_id from w where w.owner_user_id is not null
    union
    select wm.user_id from public.workbench_members wm join w on wm.workbench_id = w.id
    union
    select cm.user_id from public.company_members cm join w on cm.company_id = w.company_id
  ), roles as (
    select c.user_id, private.workbench_role_of(w.id, c.user_id) as role
      from candidates c cross join w
  )
  select r.user_id, u.email::text, r.role, wm.role, cm.role, r.user_id = w.owner_user_id
    from roles r
    cross join w
    join auth.users u on u.id = r.user_id
    left join public.workbench_members wm on wm.workbench_id = w.id and wm.user_id = r.user_id
    left join public.company_members cm on cm.company_id = w.company_id and cm.user_id = r.user_id
   where r.role is not null
   order by array_position(array['owner', 'editor', 'viewer'], r.role), u.email, r.user_id
$$;
revoke all on function public.workbench_member_list(uuid) from public, anon;
grant execute on function public.workbench_member_list(uuid) to authenticated, service_role;

------------------------------------------------------------------------------------------------
-- Triggers.
------------------------------------------------------------------------------------------------

-- A company gets its wallet (balance 0, the free plan's limits until it buys; no signup grant),
-- then its creator becomes its owner (a seat of that wallet).
create function private.add_company_creator() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.wallet (user_id, company_id) values (new.id, new.id) on conflict do nothing;
  insert into public.wallet_counters (user_id) values (new.id) on conflict do nothing;
  if new.created_by is not null then
    insert into public.company_members (company_id, user_id, role)
    values (new.id, new.created_by, 'owner')
    on conflict do nothing;
  end if;
  return new;
end;
$$;
revoke all on function private.add_company_creator() from public, anon, authenticated;
grant execute on function private.add_company_creator() to service_role;
create trigger company_add_creator after insert on public.company
  for each row execute function private.add_company_creator();

-- A company always keeps at least one owner (unless the company itself is being deleted). Locks
-- the company row before counting owners (see the header).
create function private.keep_company_owner() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- No row: the company itself is being deleted (cascade), which needs no owner.
  perform 1 from public.company c where c.id = old.company_id for update;
  if found and not exists (select 1 from public.company_members m
                            where m.company_id = old.company_id and m.role = 'owner'
                              and m.user_id <> old.user_id) then
    raise exception 'a company needs at least one owner' using errcode = '23514';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end;
$$;
revoke all on function private.keep_company_owner() from public, anon, authenticated;
grant execute on function private.keep_company_owner() to service_role;
create trigger company_members_keep_owner
  before delete or update of role on public.company_members
  for each row when (old.role = 'owner')
  execute function private.keep_company_owner();

-- Leaving a company drops one's explicit roles on its workbenches.
create function private.drop_company_workbench_roles() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.workbench_members wm
   using public.workbench w
   where wm.workbench_id = w.id and w.company_id = old.company_id and wm.user_id = old.user_id;
  return old;
end;
$$;
revoke all on function private.drop_company_workbench_roles() from public, anon, authenticated;
grant execute on function private.drop_company_workbench_roles() to service_role;
create trigger company_members_drop_workbench_roles after delete on public.company_members
  for each row execute function private.drop_company_workbench_roles();

create trigger company_touch before update on public.company
  for each row execute function private.touch_updated_at();
create trigger workbench_touch before update on public.workbench
  for each row execute function private.touch_updated_at();

-- The company wallet that pays for a workbench's usage (chat answers, reports, channel answers):
-- the company's for a company workbench; null for a personal one, whose usage the acting user's
-- own wallet pays (the charging RPCs coalesce it with the user).
create function private.workbench_wallet(p_workbench_id uuid) returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select w.user_id from public.workbench b join public.wallet w on w.company_id = b.company_id
   where b.id = p_workbench_id
$$;
revoke all on function private.workbench_wallet(uuid) from public, anon, authenticated;
grant execute on function private.workbench_wallet(uuid) to service_role;

-- Plan limit `workbenches` (wallet_and_payments: private.check_plan_limit): a personal workbench
-- counts against its owner's wallet, a company workbench against the company's wallet. The
-- wallet row is locked before counting, so a concurrent burst never ends above the limit.
create function private.enforce_workbench_limit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payer uuid := coalesce(new.company_id, new.owner_user_id);
begin
  perform 1 from public.wallet w where w.user_id = v_payer for update;
  perform private.check_plan_limit(v_payer, 'workbenches',
    (select count(*) from public.workbench b
      where (new.company_id is null and b.company_id is null and b.owner_user_id = v_payer)
         or (new.company_id is not null and b.company_id = new.company_id)));
  return new;
end;
$$;
revoke all on function private.enforce_workbench_limit() from public, anon, authenticated;
create trigger workbench_plan_limit before insert on public.workbench
  for each row execute function private.enforce_workbench_limit();

-- Plan limit `seats`: a new member of a company (an accepted invitation, a direct insert) takes a
-- seat of the company wallet's plan; the wallet row is locked while the members are counted, so
-- concurrent accepts never end above the limit. Someone already a member takes no new seat.
create function private.enforce_seat_limit() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform 1 from public.wallet w where w.user_id = new.company_id for update;
  if exists (select 1 from public.company_members m
              where m.company_id = new.company_id and m.user_id = new.user_id) then
    return new;
  end if;
  perform private.check_plan_limit(new.company_id, 'seats',
    (select count(*) from public.company_members m where m.company_id = new.company_id));
  return new;
end;
$$;
revoke all on function private.enforce_seat_limit() from public, anon, authenticated;
create trigger company_members_seat_limit before insert on public.company_members
  for each row execute function private.enforce_seat_limit();

-- The company wallet is the company's: it goes with the company.
alter table public.wallet add foreign key (company_id) references public.company (id)
  on delete cascade;

-- Passes on what a user is about to leave behind; see the header.
create function private.hand_over_before_user_delete() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_company uuid;
  v_workbench uuid;
  v_heir uuid;
begin
  for v_company in
    select m.company_id from public.company_members m
     where m.user_id = old.id order by m.company_id
  loop
    perform 1 from public.company c where c.id = v_company for update;
    continue when not found;
    continue when not exists (select 1 from public.company_members m
                               where m.company_id = v_company and m.user_id = old.id
                                 and m.role = 'owner');
    continue when exists (select 1 from public.company_members m
                           where m.company_id = v_company and m.role = 'owner'
                             and m.user_id <> old.id);
    -- Retry while a chosen heir disappears under us (they left concurrently).
    loop
      select m.user_id into v_heir from public.company_members m
       where m.company_id = v_company and m.user_id <> old.id
       order by (m.role = 'admin') desc, m.created_at, m.user_id
       limit 1;
      exit when v_heir is null;
      update public.company_members set role = 'owner'
       where company_id = v_company and user_id = v_heir;
      exit when found;
    end loop;
    if v_heir is null then
      delete from public.company where id = v_company;
      insert into private.audit_log (action, entity, entity_id, details)
      values ('company.deleted_with_last_member', 'company', v_company::text,
              jsonb_build_object('user_id', old.id));
    else
      insert into private.audit_log (action, entity, entity_id, details)
      values ('company.ownership_transferred', 'company', v_company::text,
              jsonb_build_object('from', old.id, 'to', v_heir));
    end if;
  end loop;

  for v_workbench in
    select w.id from public.workbench w
     where w.owner_user_id = old.id and w.company_id is null
     order by w.id
       for update
  loop
    select wm.user_id into v_heir from public.workbench_members wm
     where wm.workbench_id = v_workbench and wm.user_id <> old.id
     order by array_position(array['owner', 'editor', 'viewer'], wm.role), wm.created_at,
              wm.user_id
     limit 1;
    if v_heir is null then
      delete from public.workbench where id = v_workbench;
    else
      update public.workbench set owner_user_id = v_heir where id = v_workbench;
      delete from public.workbench_members
       where workbench_id = v_workbench and user_id = v_heir;
    end if;
  end loop;

  delete from public.company_invitations i
   where i.status = 'pending' and i.email = lower(old.email);
  return old;
end;
$$;
revoke all on function private.hand_over_before_user_delete() from public, anon, authenticated;
create trigger hand_over_before_delete before delete on auth.users
  for each row execute function private.hand_over_before_user_delete();

------------------------------------------------------------------------------------------------
-- Helpers about the caller.
------------------------------------------------------------------------------------------------

-- The caller's email when Auth has confirmed it, else null. On a project that confirms no email
-- (or confirms it without asking the mailbox) this proves nothing, which is why answering an
-- invitation also needs its token.
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
-- PostgREST-style SQLSTATEs: PT404 not found, PT403 wrong token, PT409 used, PT410 expired; 42501
-- for a caller who may not invite; 23505 when the email is already a member's.
------------------------------------------------------------------------------------------------

-- The SHA-256 of each invitation's secret token (the token itself is only in the invitee's mail).
-- One row per invitation, replaced when the invitation is refreshed; kept after the invitation is
-- answered (its status makes it single use) and deleted with it.
create table private.company_invitation_tokens (
  invitation_id uuid primary key references public.company_invitations (id) on delete cascade,
  token_hash bytea not null check (octet_length(token_hash) = 32),
  created_at timestamptz not null default now()
);
revoke all on private.company_invitation_tokens from public, anon, authenticated;

-- Invites an email to a company (admins and owners), with `p_token_hash`, the SHA-256 of the
-- invitation's secret token (32 bytes; the caller makes the token and delivers it to the email).
-- Inviting an email that already has an open invitation refreshes it (new role, expiry and
-- token). Returns the invitation.
create function public.invite_to_company(
  p_company_id uuid,
  p_email text,
  p_role text default 'member',
  p_token_hash bytea default null
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
  if p_token_hash is null or octet_length(p_token_hash) <> 32 then
    raise exception 'an invitation needs the SHA-256 of its token' using errcode = '22023';
  end if;
  insert into public.company_invitations as i (company_id, email, role, invited_by, expires_at)
  values (p_company_id, v_email, p_role, (select auth.uid()), now() + make_interval(days => v_ttl))
  on conflict (company_id, email) where status = 'pending'
  do update set role = excluded.role, invited_by = excluded.invited_by, created_at = now(),
                expires_at = excluded.expires_at
  returning * into v_invitation;
  insert into private.company_invitation_tokens (invitation_id, token_hash)
  values (v_invitation.id, p_token_hash)
  on conflict (invitation_id)
  do update set token_hash = excluded.token_hash, created_at = now();
  insert into private.audit_log (action, entity, entity_id, details)
  values ('company.invite', 'company', p_company_id::text,
          jsonb_build_object('invitation_id', v_invitation.id, 'role', p_role));
  return v_invitation;
end;
$$;
revoke all on function public.invite_to_company(uuid, text, text, bytea) from public, anon;
grant execute on function public.invite_to_company(uuid, text, text, bytea)
  to authenticated, service_role;

-- The caller's invitation `p_id`, locked, checked against its token, open and unexpired. Someone
-- else's invitation is "not found", exactly like one that does not exist; with the wrong token
-- (or none) nothing more is told about it, so only the token's holder learns whether it was used
-- or has expired.
create function private.open_invitation_for_caller(p_id uuid, p_token text)
returns public.company_invitations
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
  if p_token is null or not exists (
       select 1 from private.company_invitation_tokens t
        where t.invitation_id = v_invitation.id
          and t.token_hash = pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8'))) then
    raise exception 'invitation_token_invalid' using errcode = 'PT403';
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
revoke all on function private.open_invitation_for_caller(uuid, text)
  from public, anon, authenticated;
grant execute on function private.open_invitation_for_caller(uuid, text) to service_role;

-- Accepts the caller's invitation with its token: the caller joins with the invited role (someone
-- who is already a member keeps their role) and the invitation is used up. Returns
-- {company_id, role}.
create function public.accept_company_invitation(p_invitation_id uuid, p_token text)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_invitation public.company_invitations :=
    private.open_invitation_for_caller(p_invitation_id, p_token);
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
revoke all on function public.accept_company_invitation(uuid, text) from public, anon;
grant execute on function public.accept_company_invitation(uuid, text)
  to authenticated, service_role;

-- Declines the caller's invitation with its token (it cannot be accepted afterwards): without the
-- token, whoever registered the invitee's address could not even turn it down.
create function public.decline_company_invitation(p_invitation_id uuid, p_token text)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_invitation public.company_invitations :=
    private.open_invitation_for_caller(p_invitation_id, p_token);
begin
  update public.company_invitations set status = 'declined', responded_at = now()
   where id = v_invitation.id;
end;
$$;
revoke all on function public.decline_company_invitation(uuid, text) from public, anon;
grant execute on function public.decline_company_invitation(uuid, text)
  to authenticated, service_role;

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
-- Policies.
------------------------------------------------------------------------------------------------

create policy "members see their companies" on public.company for select to authenticated
  using ((select public.company_visible(id, created_by)));
create policy "anyone signed in creates a company" on public.company for insert to authenticated
  with check (created_by = (select auth.uid()));
create policy "admins rename" on public.company for update to authenticated
  using ((select public.is_company_member(id, 'admin')))
  with check ((select public.is_company_member(id, 'admin')));
create policy "owners delete" on public.company for delete to authenticated
  using ((select public.is_company_member(id, 'owner')));

create policy "members see fellow members" on public.company_members for select to authenticated
  using ((select public.is_company_member(company_id)));
-- Admins manage members and admins; only owners touch owners (promote, demote or remove).
create policy "admins change roles" on public.company_members for update to authenticated
  using ((select public.is_company_member(company_id, 'admin'))
         and (role <> 'owner' or (select public.is_company_member(company_id, 'owner'))))
  with check (role <> 'owner' or (select public.is_company_member(company_id, 'owner')));
create policy "admins remove members, members leave" on public.company_members
  for delete to authenticated
  using (((select public.is_company_member(company_id, 'admin'))
          and (role <> 'owner' or (select public.is_company_member(company_id, 'owner'))))
         or user_id = (select auth.uid()));

-- The second branch is the owner rule of workbench_role() on the row's own columns, so that
-- INSERT ... RETURNING (which cannot see the new row from inside a function) works.
create policy "members see workbenches" on public.workbench for select to authenticated
  using ((select public.workbench_role(id)) is not null
         or (owner_user_id = (select auth.uid())
             and (company_id is null or (select public.is_company_member(company_id)))));
create policy "create own or company workbenches" on public.workbench for insert to authenticated
  with check (owner_user_id = (select auth.uid())
              and (company_id is null or (select public.is_company_member(company_id))));
create policy "editors edit workbenches" on public.workbench for update to authenticated
  using ((select public.has_workbench_role(id, 'editor')))
  with check ((select public.has_workbench_role(id, 'editor')));
create policy "managers delete workbenches" on public.workbench for delete to authenticated
  using ((select public.can_manage_workbench(id)));

create policy "members see workbench members" on public.workbench_members
  for select to authenticated
  using ((select public.workbench_role(workbench_id)) is not null);
create policy "managers add workbench members" on public.workbench_members
  for insert to authenticated
  with check ((select public.can_grant_workbench_role(workbench_id, user_id)));
create policy "managers change workbench roles" on public.workbench_members
  for update to authenticated
  using ((select public.can_manage_workbench(workbench_id)))
  with check ((select public.can_grant_workbench_role(workbench_id, user_id)));
-- An explicit row only ever raises a role, so anyone may drop their own.
create policy "managers remove workbench members, members leave" on public.workbench_members
  for delete to authenticated
  using ((select public.can_manage_workbench(workbench_id)) or user_id = (select auth.uid()));

-- Admins see their company's invitations. Invitees read theirs through my_company_invitations(),
-- which leaves out who invited them (no user ids for people who are not members yet).
create policy "admins see invitations" on public.company_invitations
  for select to authenticated
  using ((select public.is_company_member(company_id, 'admin')));
-- Revoking an invitation deletes it.
-- A company's members read its wallet, counter and ledger (GET /wallet?company_id=); the
-- personal-wallet policies are in the wallet migration.
create policy "members see the company wallet" on public.wallet for select to authenticated
  using (company_id is not null and (select public.company_role(company_id)) is not null);
create policy "members see the company counter" on public.wallet_counters for select
  to authenticated using ((select public.company_role(user_id)) is not null);
create policy "members see the company ledger" on public.wallet_usage for select
  to authenticated using ((select public.company_role(user_id)) is not null);

create policy "admins revoke invitations" on public.company_invitations
  for delete to authenticated
  using ((select public.is_company_member(company_id, 'admin')));
