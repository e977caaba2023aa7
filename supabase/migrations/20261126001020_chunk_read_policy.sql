-- Reading chunks under RLS at search speed (issue 9, retrieval).
--
-- The policy "members see chunks" was `(select public.workbench_role(workbench_id)) is not null`:
-- the sub-select refers to the row, so it is a correlated subplan that calls the role function
-- (three joins) once per row read. A search reads every chunk of a small workbench (exact vector
-- scan) and up to a few hundred full-text matches, so the check cost more than the search itself
-- (about 10× on PGlite). It is replaced by an equivalent uncorrelated check:
-- `workbench_id in (select public.readable_workbench_ids())`, a hashed subplan computed once per
-- statement. public.readable_workbench_ids() is the set of workbenches on which the caller's role
-- (private.workbench_role_of) is not null: personal workbenches they created or hold an explicit
-- row on, and every workbench of a company they belong to (on a company workbench every role needs
-- company membership, and membership alone gives at least viewer). supabase/tests/database/
-- 07_retrieval.test.sql checks that both agree for every user and workbench of its fixtures.
-- Only the caller's own ids are returned.

create function public.readable_workbench_ids() returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
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
$$;
revoke all on function public.readable_workbench_ids() from public, anon;
grant execute on function public.readable_workbench_ids() to authenticated, service_role;

drop policy "members see chunks" on public.workbench_chunks;
create policy "members see chunks" on public.workbench_chunks for select to authenticated
  using (workbench_id in (select public.readable_workbench_ids()));
