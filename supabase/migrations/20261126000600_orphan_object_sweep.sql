-- No stored object without a row. An upload stores a file's bytes first and writes its row after
-- (so a row never points at missing bytes); a function killed between the two (CPU, memory or
-- wall-clock limit, a crash) leaves an object that no row claims. Every 10 minutes a pg_cron job
-- queues such objects of the `workbench` bucket on `storage_gc` once they are older than the grace
-- period (setting `orphan_object_grace_minutes`, default 15: far longer than any upload request
-- may run), and kicks the worker that removes them.

insert into private.settings (key, value) values ('orphan_object_grace_minutes', '15')
on conflict (key) do nothing;

-- Queues up to 1,000 unclaimed objects per call; returns how many. Queuing one twice is harmless
-- (removing a removed object is not an error).
create function private.sweep_orphan_objects() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  with orphans as (
    select o.name
      from storage.objects o
     where o.bucket_id = 'workbench'
       and o.created_at < now()
             - make_interval(mins => private.setting_int('orphan_object_grace_minutes', 15))
       and not exists (select 1 from public.workbench_files f where f.storage_path = o.name)
     order by o.created_at
     limit 1000
  )
  select count(*)::integer into v_count
    from orphans, lateral pgmq.send('storage_gc',
      jsonb_build_object('bucket', 'workbench', 'path', orphans.name, 'reason', 'orphan'));
  if v_count > 0 then
    perform private.kick_worker('index-worker', jsonb_build_object('queue', 'storage_gc'));
  end if;
  return v_count;
end;
$$;
revoke all on function private.sweep_orphan_objects() from public, anon, authenticated;
grant execute on function private.sweep_orphan_objects() to service_role;

create index if not exists workbench_files_storage_path_idx
  on public.workbench_files (storage_path);

select cron.schedule('storage-orphan-sweep', '*/10 * * * *',
  $$select private.sweep_orphan_objects()$$);
