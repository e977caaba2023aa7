-- The indexing pipeline's database side: the private `workbench` storage bucket (20 MB per
-- object), a trigger that queues every new file on pgmq `file_index` and kicks `index-worker`
-- through pg_net at once, and a pg_cron job that re-kicks the worker every 10 seconds while
-- visible messages remain, so nothing depends on the first kick.
--
-- Deleting file rows (directly, or by deleting a workbench) queues their stored objects on
-- `storage_gc`, which the same worker removes through the Storage API when it has no indexing work.
-- A file that ended in `error` can be queued again with private.requeue_file (a re-upload does).
--
-- The worker is reached at <project_url>/functions/v1/<name> with the service role key, both read
-- from Vault (secrets `project_url` and `service_role_key`; see README "Deploying").

insert into storage.buckets (id, name, public, file_size_limit)
values ('workbench', 'workbench', false, 20971520)
on conflict (id) do nothing;

-- POSTs to a worker function; returns the pg_net request id, or null (with a warning) when the
-- Vault secrets are not configured.
create function private.kick_worker(p_function text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
begin
  select s.decrypted_secret into v_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into v_key from vault.decrypted_secrets s
   where s.name = 'service_role_key';
  if v_url is null or v_key is null then
    raise warning 'vault secrets project_url/service_role_key are missing; % not kicked', p_function;
    return null;
  end if;
  return net.http_post(
    url := rtrim(v_url, '/') || '/functions/v1/' || p_function,
    body := p_body,
    headers := jsonb_build_object('Content-Type', 'application/json',
                                  'Authorization', 'Bearer ' || v_key),
    timeout_milliseconds := 10000
  );
end;
$$;

create function private.enqueue_file_index() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform pgmq.send('file_index',
    jsonb_build_object('file_id', new.id, 'workbench_id', new.workbench_id));
  perform private.kick_worker('index-worker', jsonb_build_object('queue', 'file_index'));
  return new;
end;
$$;

create trigger workbench_files_enqueue after insert on public.workbench_files
  for each row execute function private.enqueue_file_index();

-- Kicks `p_function` when queue `p_queue` has a visible message. Returns whether it kicked.
create function private.redispatch(p_queue text, p_function text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_visible boolean;
begin
  execute format('select exists (select 1 from pgmq.%I where vt <= clock_timestamp())',
                 'q_' || p_queue)
    into v_visible;
  if v_visible then
    perform private.kick_worker(p_function, jsonb_build_object('queue', p_queue));
  end if;
  return v_visible;
end;
$$;

select cron.schedule('index-worker-redispatch', '10 seconds',
  $$select private.redispatch('file_index', 'index-worker')$$);

select pgmq.create('storage_gc');

create function private.collect_file_object() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.storage_path is not null then
    perform pgmq.send('storage_gc',
      jsonb_build_object('bucket', 'workbench', 'path', old.storage_path));
  end if;
  return old;
end;
$$;

create trigger workbench_files_collect_object after delete on public.workbench_files
  for each row execute function private.collect_file_object();

select cron.schedule('storage-gc-redispatch', '30 seconds',
  $$select private.redispatch('storage_gc', 'index-worker')$$);

-- Puts a file that ended in `error` back at the start of indexing (its chunks go) and queues it.
-- Returns false, changing nothing, for a file in any other state (so two concurrent re-uploads
-- queue it once, and a file being indexed is never reset under its worker).
create function private.requeue_file(p_file_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.workbench_files
     set status = 'pending', error_message = null, attempts = 0, progress = '{}'::jsonb,
         chunks_done = 0, chunks_total = null, indexed_at = null
   where id = p_file_id and status = 'error';
  if not found then
    return false;
  end if;
  delete from public.workbench_chunks where file_id = p_file_id;
  perform pgmq.send('file_index', jsonb_build_object('file_id', p_file_id));
  perform private.kick_worker('index-worker', jsonb_build_object('queue', 'file_index'));
  return true;
end;
$$;

revoke all on all functions in schema private from public, anon, authenticated;
grant execute on all functions in schema private to service_role;
