-- Workbench files and their indexed chunks (pgvector + full-text), and the indexing pipeline's
-- database side.
--
-- A file row tracks its upload (type, size, content hash, storage path) and its indexing (status
-- pending -> processing -> indexed | error, attempts, progress). Chunks carry their text, metadata
-- (page, sheet, row range, heading), a 384-dimension embedding with the id of the model that made
-- it, and a generated tsvector. Members read both; only the service role writes them (uploads and
-- indexing go through the functions). Editors and owners may delete files.
--
-- Storage and layout of chunks: the vector column has storage MAIN, so the vector stays in the row
-- and content and tsvector move out first (a chunk row is over the 2 kB TOAST threshold; with the
-- vector type's EXTERNAL storage an exact scan fetched three extra pages per row). The GIN index on
-- fts has a small pending list (gin_pending_list_limit 256 kB, default 4 MB): a GIN search scans
-- the whole pending list linearly, and PGlite never vacuums on its own. There is no global vector
-- index: large workbenches get one of their own (see the search migration).
--
-- Pipeline: the private `workbench` storage bucket (20 MB per object); a trigger queues every new
-- file on pgmq `file_index` and kicks `index-worker` through pg_net at once, and a pg_cron job
-- re-kicks the worker every 10 seconds while visible messages remain, so nothing depends on the
-- first kick. Deleting file rows (directly, or by deleting a workbench) queues their stored objects
-- on `storage_gc`, which the same worker removes through the Storage API when it has no indexing
-- work. A file that ended in `error` can be queued again with private.requeue_file (a re-upload
-- does).

create extension if not exists vector with schema extensions;

-- pgvector 0.8 or later: search relies on its iterative index scans (hnsw.iterative_scan), which
-- older versions lack; say so here rather than fail later on a setting that does not exist.
do $$
declare
  installed text := (select extversion from pg_extension where extname = 'vector');
begin
  if string_to_array(split_part(installed, '-', 1), '.')::int[] < array[0, 8] then
    raise exception 'pgvector % is installed; this project needs 0.8 or later', installed
      using hint = 'Supabase projects have 0.8; elsewhere upgrade pgvector, then '
        'ALTER EXTENSION vector UPDATE.';
  end if;
end
$$;

create table public.workbench_files (
  id uuid primary key default gen_random_uuid(),
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  uploaded_by uuid references auth.users (id) on delete set null,
  file_name text not null check (char_length(file_name) between 1 and 255),
  file_type text not null check (file_type in ('pdf', 'docx', 'xlsx', 'csv', 'txt', 'md')),
  mime_type text,
  size_bytes bigint not null check (size_bytes >= 0),
  content_hash text not null,
  storage_path text,
  status text not null default 'pending'
    check (status in ('pending', 'processing', 'indexed', 'error')),
  error_message text,
  page_count integer check (page_count >= 0),
  attempts integer not null default 0 check (attempts >= 0),
  chunks_done integer not null default 0 check (chunks_done >= 0),
  chunks_total integer check (chunks_total >= 0),
  progress jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  indexed_at timestamptz,
  unique (workbench_id, content_hash),
  check (status <> 'error' or error_message is not null)
);
create index workbench_files_workbench_idx on public.workbench_files (workbench_id, created_at desc);
create index workbench_files_status_idx on public.workbench_files (status) where status <> 'indexed';
create index if not exists workbench_files_storage_path_idx
  on public.workbench_files (storage_path);

create table public.workbench_chunks (
  id uuid primary key default gen_random_uuid(),
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  file_id uuid not null references public.workbench_files (id) on delete cascade,
  chunk_index integer not null check (chunk_index >= 0),
  content text not null,
  metadata jsonb not null default '{}'::jsonb,
  token_count integer,
  embedding extensions.vector(384),
  embedding_model text,
  fts tsvector generated always as (to_tsvector('english', content)) stored,
  created_at timestamptz not null default now(),
  unique (file_id, chunk_index),
  check (embedding is null or embedding_model is not null)
);
create index workbench_chunks_workbench_idx on public.workbench_chunks (workbench_id);
create index workbench_chunks_fts_idx on public.workbench_chunks using gin (fts)
  with (gin_pending_list_limit = 256);
alter table public.workbench_chunks alter column embedding set storage main;

-- The rows of CSV and XLSX tables, typed, for figures looked up from the cells (chat): one row per
-- data row of a table, with its header and its cells as written, each with its type and value
-- ([{"v": "₹1,200", "t": "number", "n": 1200}, …]). The indexing step writes them from the table
-- chunks in the transaction that writes the chunks; members read them as they read the chunks.
create table public.workbench_table_rows (
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  file_id uuid not null references public.workbench_files (id) on delete cascade,
  -- The XLSX sheet; '' for a CSV.
  sheet text not null default '',
  row_number integer not null check (row_number >= 1),
  header jsonb not null,
  cells jsonb not null,
  primary key (file_id, sheet, row_number)
);
create index workbench_table_rows_workbench_idx on public.workbench_table_rows (workbench_id);
revoke all on public.workbench_table_rows from anon, authenticated;
grant select on public.workbench_table_rows to authenticated;
alter table public.workbench_table_rows enable row level security;
create policy "members see table rows" on public.workbench_table_rows for select
  to authenticated using (workbench_id in (select public.readable_workbench_ids()));

create trigger workbench_files_touch before update on public.workbench_files
  for each row execute function private.touch_updated_at();

-- Plan limits `files_per_workbench` and `stored_bytes` (wallet_and_payments:
-- private.check_plan_limit), against the wallet that pays for the workbench: its owner's for a
-- personal one, the company's wallet for a company one. The wallet row is locked before counting,
-- so concurrent uploads never end above a limit.
create function private.enforce_file_limits() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_bench public.workbench;
  v_payer uuid;
begin
  select * into v_bench from public.workbench b where b.id = new.workbench_id;
  v_payer := coalesce(v_bench.company_id, v_bench.owner_user_id);
  perform 1 from public.wallet w where w.user_id = v_payer for update;
  perform private.check_plan_limit(v_payer, 'files_per_workbench',
    (select count(*) from public.workbench_files f where f.workbench_id = new.workbench_id));
  perform private.check_plan_limit(v_payer, 'stored_bytes',
    (select coalesce(sum(f.size_bytes), 0)::bigint from public.workbench_files f
       join public.workbench b on b.id = f.workbench_id
      where (v_bench.company_id is null and b.company_id is null and b.owner_user_id = v_payer)
         or (v_bench.company_id is not null and b.company_id = v_bench.company_id)),
    new.size_bytes);
  return new;
end;
$$;
revoke all on function private.enforce_file_limits() from public, anon, authenticated;
create trigger workbench_files_plan_limits before insert on public.workbench_files
  for each row execute function private.enforce_file_limits();

revoke all on public.workbench_files, public.workbench_chunks from anon, authenticated;
grant select, delete on public.workbench_files to authenticated;
grant select on public.workbench_chunks to authenticated;

alter table public.workbench_files enable row level security;
alter table public.workbench_chunks enable row level security;

create policy "members see files" on public.workbench_files for select to authenticated
  using (workbench_id in (select public.readable_workbench_ids()));
create policy "editors delete files" on public.workbench_files for delete to authenticated
  using ((select public.has_workbench_role(workbench_id, 'editor')));
create policy "members see chunks" on public.workbench_chunks for select to authenticated
  using (workbench_id in (select public.readable_workbench_ids()));

insert into storage.buckets (id, name, public, file_size_limit)
values ('workbench', 'workbench', false, 20971520)
on conflict (id) do nothing;

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
revoke all on function private.enqueue_file_index() from public, anon, authenticated;
grant execute on function private.enqueue_file_index() to service_role;
create trigger workbench_files_enqueue after insert on public.workbench_files
  for each row execute function private.enqueue_file_index();

select cron.schedule('index-worker-redispatch', '10 seconds',
  $$select private.redispatch('file_index', 'index-worker')$$);

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
revoke all on function private.collect_file_object() from public, anon, authenticated;
grant execute on function private.collect_file_object() to service_role;
create trigger workbench_files_collect_object after delete on public.workbench_files
  for each row execute function private.collect_file_object();

select cron.schedule('storage-gc-redispatch', '30 seconds',
  $$select private.redispatch('storage_gc', 'index-worker')$$);

-- Puts a file that ended in `error` back at the start of indexing (its chunks and typed rows go)
-- and queues it.
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
  delete from public.workbench_table_rows where file_id = p_file_id;
  perform pgmq.send('file_index', jsonb_build_object('file_id', p_file_id));
  perform private.kick_worker('index-worker', jsonb_build_object('queue', 'file_index'));
  return true;
end;
$$;
revoke all on function private.requeue_file(uuid) from public, anon, authenticated;
grant execute on function private.requeue_file(uuid) to service_role;
