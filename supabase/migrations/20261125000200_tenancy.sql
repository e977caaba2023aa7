-- Tenancy: companies with members (owner / admin / member) and workbenches with members
-- (owner / editor / viewer).
--
-- Access to a workbench: its creator is owner; an explicit workbench_members row sets the role;
-- otherwise members of the workbench's company get a role from their company role (owner/admin ->
-- editor, member -> viewer). Removing someone from a company removes their explicit roles on that
-- company's workbenches too. The membership checks are SECURITY DEFINER functions about the
-- calling user only, used by the policies (no recursive RLS).

create table public.company (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 200),
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
  name text not null check (char_length(btrim(name)) between 1 and 200),
  description text check (char_length(description) <= 2000),
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

-- The caller's role on a workbench (owner / editor / viewer), or null when they have no access.
-- On a company workbench every role, the creator's included, ends with company membership.
create function public.workbench_role(p_workbench_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when w.owner_user_id = (select auth.uid())
         and (w.company_id is null or cm.role is not null) then 'owner'
    when wm.role is not null
         and (w.company_id is null or cm.role is not null) then wm.role
    when cm.role in ('owner', 'admin') then 'editor'
    when cm.role = 'member' then 'viewer'
  end
  from public.workbench w
  left join public.workbench_members wm
         on wm.workbench_id = w.id and wm.user_id = (select auth.uid())
  left join public.company_members cm
         on cm.company_id = w.company_id and cm.user_id = (select auth.uid())
  where w.id = p_workbench_id
$$;

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

------------------------------------------------------------------------------------------------
-- Triggers.
------------------------------------------------------------------------------------------------

-- The creator of a company becomes its owner.
create function private.add_company_creator() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.created_by is not null then
    insert into public.company_members (company_id, user_id, role)
    values (new.id, new.created_by, 'owner')
    on conflict do nothing;
  end if;
  return new;
end;
$$;
create trigger company_add_creator after insert on public.company
  for each row execute function private.add_company_creator();

-- A company always keeps at least one owner (unless the company itself is being deleted).
create function private.keep_company_owner() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.role = 'owner'
     and exists (select 1 from public.company c where c.id = old.company_id)
     and not exists (select 1 from public.company_members m
                      where m.company_id = old.company_id and m.role = 'owner'
                        and m.user_id <> old.user_id) then
    raise exception 'a company needs at least one owner' using errcode = '23514';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end;
$$;
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
create trigger company_members_drop_workbench_roles after delete on public.company_members
  for each row execute function private.drop_company_workbench_roles();

create function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
create trigger company_touch before update on public.company
  for each row execute function private.touch_updated_at();
create trigger workbench_touch before update on public.workbench
  for each row execute function private.touch_updated_at();

------------------------------------------------------------------------------------------------
-- Privileges and policies.
------------------------------------------------------------------------------------------------

revoke all on public.company, public.company_members, public.workbench, public.workbench_members
  from anon, authenticated;
grant select, insert, delete on public.company, public.company_members, public.workbench,
  public.workbench_members to authenticated;
grant update (name) on public.company to authenticated;
grant update (role) on public.company_members to authenticated;
grant update (name, description) on public.workbench to authenticated;
grant update (role) on public.workbench_members to authenticated;

alter table public.company enable row level security;
alter table public.company_members enable row level security;
alter table public.workbench enable row level security;
alter table public.workbench_members enable row level security;

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
create policy "admins add members" on public.company_members for insert to authenticated
  with check ((select public.is_company_member(company_id, 'admin'))
              and (role <> 'owner' or (select public.is_company_member(company_id, 'owner'))));
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
create policy "owners delete workbenches" on public.workbench for delete to authenticated
  using ((select public.has_workbench_role(id, 'owner')));

create policy "members see workbench members" on public.workbench_members
  for select to authenticated
  using ((select public.workbench_role(workbench_id)) is not null);
create policy "owners add workbench members" on public.workbench_members
  for insert to authenticated
  with check ((select public.has_workbench_role(workbench_id, 'owner')));
create policy "owners change workbench roles" on public.workbench_members
  for update to authenticated
  using ((select public.has_workbench_role(workbench_id, 'owner')))
  with check ((select public.has_workbench_role(workbench_id, 'owner')));
-- Members may leave personal workbenches; on company workbenches an explicit row can lower a
-- company member's default role, so only owners remove it.
create policy "owners remove workbench members, members leave" on public.workbench_members
  for delete to authenticated
  using ((select public.has_workbench_role(workbench_id, 'owner'))
         or (user_id = (select auth.uid())
             and exists (select 1 from public.workbench w
                          where w.id = workbench_id and w.company_id is null)));

revoke all on function public.company_role(uuid), public.is_company_member(uuid, text),
  public.workbench_role(uuid), public.has_workbench_role(uuid, text),
  public.company_visible(uuid, uuid) from public, anon;
grant execute on function public.company_role(uuid), public.is_company_member(uuid, text),
  public.workbench_role(uuid), public.has_workbench_role(uuid, text),
  public.company_visible(uuid, uuid) to authenticated, service_role;
revoke all on all functions in schema private from public, anon, authenticated;
