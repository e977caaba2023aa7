-- Vector search that scales per workbench: an exact scan for small workbenches, a partial HNSW
-- index of its own for each large one (issue 9, retrieval).
--
-- Why: searches are always scoped to one workbench. With one global HNSW index, a workbench filter
-- is applied after the index has picked its candidates, so a workbench holding a small share of
-- all chunks gets few or no results (measured on 100k chunks over 200 workbenches: recall@10 ≤ 0.90
-- even at ef_search 1000), and iterative scans make tiny workbenches slow (p95 70–90 ms). Instead:
--   - no global vector index (it is dropped here: the planner would pick it for small workbenches
--     and starve them, and every insert paid for it);
--   - below `workbench_vector_index_min_chunks` chunks (private.settings, default 2000) a search
--     is an exact scan of the workbench's rows (btree on workbench_id, then cosine distance on at
--     most a few thousand vectors: ~1–3 ms);
--   - at or above it, the workbench gets `workbench_chunks_vec_<id without dashes>`, an HNSW index
--     `where workbench_id = '<id>'`, which public.search_workbench_chunks (its statements carry the
--     workbench id as a literal) lets the planner use. Filtered rows (another embedding model, a
--     file not indexed) are skipped by an iterative scan.
-- Who builds them: pg_cron job `workbench-vector-indexes` (every 30 s) calls
-- private.ensure_workbench_vector_indexes(), which builds at most one index per run, the largest
-- workbench first, so a run's work stays bounded; until then that workbench is searched exactly
-- (correct, slower). Chunk counts come from workbench_files.chunks_done (no scan of the chunks).
-- The service role may also call private.ensure_workbench_vector_index(workbench) directly.
-- CREATE INDEX (not CONCURRENTLY: it cannot run inside a function) holds a SHARE lock on
-- workbench_chunks while it builds, so indexing steps of other workbenches wait for it: about a
-- second for a few thousand chunks on native Postgres, longer on PGlite. A workbench that shrinks
-- keeps its index (harmless).
-- Dropping: each index is registered in private.workbench_vector_indexes, whose rows go with their
-- workbench (on delete cascade); deleting a registry row drops the index.

drop index if exists public.workbench_chunks_embedding_idx;

insert into private.settings (key, value) values ('workbench_vector_index_min_chunks', '2000')
on conflict (key) do nothing;

create table private.workbench_vector_indexes (
  workbench_id uuid primary key references public.workbench (id) on delete cascade,
  index_name text not null unique,
  chunk_count integer not null,
  created_at timestamptz not null default now()
);
revoke all on private.workbench_vector_indexes from public, anon, authenticated;

create function private.workbench_vector_index_name(p_workbench_id uuid) returns text
language sql
immutable
set search_path = ''
as $$
  select 'workbench_chunks_vec_' || replace(p_workbench_id::text, '-', '')
$$;
revoke all on function private.workbench_vector_index_name(uuid) from public, anon, authenticated;

-- Builds the workbench's partial HNSW index when it has at least the threshold of chunks (or
-- p_min_chunks when given), unless it has one. Returns whether the workbench has one afterwards.
create function private.ensure_workbench_vector_index(
  p_workbench_id uuid,
  p_min_chunks integer default null
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_min integer := coalesce(p_min_chunks,
                            private.setting_int('workbench_vector_index_min_chunks', 2000));
  v_name text := private.workbench_vector_index_name(p_workbench_id);
  v_count integer;
begin
  -- One builder per workbench at a time; the second finds the registry row.
  perform pg_advisory_xact_lock(hashtext('workbench_vector_index'), hashtext(p_workbench_id::text));
  if exists (select 1 from private.workbench_vector_indexes i
              where i.workbench_id = p_workbench_id) then
    return true;
  end if;
  if not exists (select 1 from public.workbench w where w.id = p_workbench_id) then
    return false;
  end if;
  select count(*) into v_count from public.workbench_chunks c
   where c.workbench_id = p_workbench_id and c.embedding is not null;
  if v_count < v_min then
    return false;
  end if;
  execute format(
    'create index if not exists %I on public.workbench_chunks '
    'using hnsw (embedding extensions.vector_cosine_ops) where workbench_id = %L',
    v_name, p_workbench_id);
  insert into private.workbench_vector_indexes (workbench_id, index_name, chunk_count)
  values (p_workbench_id, v_name, v_count);
  return true;
end;
$$;
revoke all on function private.ensure_workbench_vector_index(uuid, integer)
  from public, anon, authenticated;
grant execute on function private.ensure_workbench_vector_index(uuid, integer) to service_role;

-- The cron job's work: builds the index of the largest workbench over the threshold that has
-- none (at most p_limit per run). Returns the workbenches it built one for.
create function private.ensure_workbench_vector_indexes(p_limit integer default 1)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_min integer := private.setting_int('workbench_vector_index_min_chunks', 2000);
  v_id uuid;
begin
  for v_id in
    select f.workbench_id
      from public.workbench_files f
     where not exists (select 1 from private.workbench_vector_indexes i
                        where i.workbench_id = f.workbench_id)
     group by f.workbench_id
    having sum(f.chunks_done) >= v_min
     order by sum(f.chunks_done) desc
     limit greatest(p_limit, 0)
  loop
    if private.ensure_workbench_vector_index(v_id) then
      return next v_id;
    end if;
  end loop;
end;
$$;
revoke all on function private.ensure_workbench_vector_indexes(integer)
  from public, anon, authenticated;
grant execute on function private.ensure_workbench_vector_indexes(integer) to service_role;

create function private.drop_workbench_vector_index() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  execute format('drop index if exists public.%I', old.index_name);
  return old;
end;
$$;
revoke all on function private.drop_workbench_vector_index() from public, anon, authenticated;

create trigger workbench_vector_indexes_drop after delete on private.workbench_vector_indexes
  for each row execute function private.drop_workbench_vector_index();

select cron.schedule('workbench-vector-indexes', '30 seconds',
  $$select private.ensure_workbench_vector_indexes()$$);
