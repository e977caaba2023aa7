-- Better-connected per-workbench HNSW indexes (issue 9, retrieval recall).
--
-- The partial HNSW index of a large workbench (migration 20261126001010) was built with pgvector's
-- defaults, m = 16 and ef_construction = 64. Measured on PGlite on the retrieval bench's 100k
-- chunks (the two largest workbenches, 21k and 10k chunks, local embedder), vector recall@20
-- against an exact scan at ef_search 400: 0.838 with ef_construction 64, 0.90-0.92 with 128,
-- 0.941 with 200, for about the same search cost; the build takes about twice as long (the
-- 21k-chunk index: ~4 min on PGlite instead of ~2; seconds on native PostgreSQL).
-- Indexes are now built with private.settings `workbench_vector_index_m` (16) and
-- `workbench_vector_index_ef_construction` (200), clamped to what pgvector accepts.
-- Indexes built before keep theirs. To rebuild one, delete its row from
-- private.workbench_vector_indexes (that drops the index); the cron job builds it again within
-- 30 s, and searches of that workbench are exact (correct, slower) meanwhile.

insert into private.settings (key, value) values
  ('workbench_vector_index_m', '16'),
  ('workbench_vector_index_ef_construction', '200')
on conflict (key) do nothing;

-- Builds the workbench's partial HNSW index when it has at least the threshold of chunks (or
-- p_min_chunks when given), unless it has one, with the m and ef_construction settings. Returns
-- whether the workbench has one afterwards. (Same signature and grants as in 20261126001010.)
create or replace function private.ensure_workbench_vector_index(
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
  v_m integer := least(greatest(private.setting_int('workbench_vector_index_m', 16), 2), 100);
  v_ef integer := least(greatest(
    private.setting_int('workbench_vector_index_ef_construction', 200), 2 * v_m), 1000);
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
    'using hnsw (embedding extensions.vector_cosine_ops) with (m = %s, ef_construction = %s) '
    'where workbench_id = %L',
    v_name, v_m, v_ef, p_workbench_id);
  insert into private.workbench_vector_indexes (workbench_id, index_name, chunk_count)
  values (p_workbench_id, v_name, v_count);
  return true;
end;
$$;
revoke all on function private.ensure_workbench_vector_index(uuid, integer)
  from public, anon, authenticated;
grant execute on function private.ensure_workbench_vector_index(uuid, integer) to service_role;

