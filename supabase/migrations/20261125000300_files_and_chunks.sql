-- Workbench files and their indexed chunks (pgvector + full-text).
--
-- A file row tracks its upload (type, size, content hash, storage path) and its indexing
-- (status pending -> processing -> indexed | error, attempts, progress). Chunks carry their text,
-- metadata (page, sheet, row range, heading), a 384-dimension embedding with the id of the model
-- that made it, and a generated tsvector. Members read both; only the service role writes them
-- (uploads and indexing go through the functions). Editors and owners may delete files.

create extension if not exists vector with schema extensions;

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
create index workbench_chunks_embedding_idx on public.workbench_chunks
  using hnsw (embedding extensions.vector_cosine_ops);
create index workbench_chunks_fts_idx on public.workbench_chunks using gin (fts);

create trigger workbench_files_touch before update on public.workbench_files
  for each row execute function private.touch_updated_at();

revoke all on public.workbench_files, public.workbench_chunks from anon, authenticated;
grant select, delete on public.workbench_files to authenticated;
grant select on public.workbench_chunks to authenticated;

alter table public.workbench_files enable row level security;
alter table public.workbench_chunks enable row level security;

create policy "members see files" on public.workbench_files for select to authenticated
  using ((select public.workbench_role(workbench_id)) is not null);
create policy "editors delete files" on public.workbench_files for delete to authenticated
  using ((select public.has_workbench_role(workbench_id, 'editor')));
create policy "members see chunks" on public.workbench_chunks for select to authenticated
  using ((select public.workbench_role(workbench_id)) is not null);
