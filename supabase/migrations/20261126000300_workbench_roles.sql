-- Workbench roles that can only raise.
--
-- A user's role on a workbench is the highest of: owner for its creator; their explicit
-- workbench_members row; and, on a company workbench, the role derived from their company role
-- (owner/admin -> editor, member -> viewer). On a company workbench every role, the creator's and
-- explicit rows included, needs company membership. So an explicit row can raise a role but never
-- lower one: a company owner or admin can never be locked out of a company workbench.
--
-- Managing a workbench (adding, changing and removing explicit rows; deleting the workbench) is for
-- its owners and, on a company workbench, the company's admins and owners. An explicit row can be
-- given to a member of the workbench's company, or, on a personal workbench, to someone who shares
-- a company with the manager (the only people whose ids a manager legitimately knows). Anyone may
-- remove their own explicit row.

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
$$;
revoke all on function private.workbench_role_of(uuid, uuid) from public, anon, authenticated;
grant execute on function private.workbench_role_of(uuid, uuid) to service_role;

create or replace function public.workbench_role(p_workbench_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select private.workbench_role_of(p_workbench_id, (select auth.uid()))
$$;
revoke all on function public.workbench_role(uuid) from public, anon;
grant execute on function public.workbench_role(uuid) to authenticated, service_role;

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
-- Policies: the same rules as the functions above.
------------------------------------------------------------------------------------------------

drop policy "owners delete workbenches" on public.workbench;
create policy "managers delete workbenches" on public.workbench for delete to authenticated
  using ((select public.can_manage_workbench(id)));

drop policy "owners add workbench members" on public.workbench_members;
drop policy "owners change workbench roles" on public.workbench_members;
drop policy "owners remove workbench members, members leave" on public.workbench_members;

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
