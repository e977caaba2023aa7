-- Ownership that holds under concurrency and user deletion.
--
-- 1. The last-owner rule locks the company row before counting owners, so two owners who leave
--    (or are demoted) at the same moment run one after the other under READ COMMITTED and the
--    second one sees the first one gone: a company never ends up without an owner.
-- 2. Deleting a user (GDPR erasure, Studio, Auth's admin API) always works. Before the auth.users
--    row goes, each company where the user is the sole owner passes to its longest-standing admin,
--    else its longest-standing member; a company with no other member is deleted with its
--    workbenches (their stored objects are queued on storage_gc by the workbench_files delete
--    trigger). The user's personal workbenches pass the same way to their longest-standing
--    explicit member (owner, then editor, then viewer), or are deleted. Open invitations to the
--    user's email are deleted too.
--
-- Lock order: company rows in id order, then their member rows. Every owner change takes the
-- company lock first (through the trigger below), so these paths serialise per company.

create or replace function private.keep_company_owner() returns trigger
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
