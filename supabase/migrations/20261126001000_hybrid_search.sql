-- Hybrid search over one workbench's chunks, run as the caller (issue 9, retrieval).
--
-- public.search_workbench_chunks(workbench, query embedding, embedding model, query text, k, ...)
-- returns the best k chunks of the workbench by reciprocal rank fusion (RRF) of two ranked lists:
--   - vector: cosine distance to the query embedding, only over chunks embedded with the same model
--     (a vector of another model is never compared; such chunks can still match by text);
--   - full text: `websearch_to_tsquery('english', …)` against the stored tsvector, ranked with
--     ts_rank_cd; when all its words together match fewer rows than the list needs, the list is
--     topped up with rows matching any of the words (a question rarely has every word in a chunk).
-- score = vector_weight / (rrf_k + vector_rank) + text_weight / (rrf_k + text_rank).
-- Only files in status 'indexed' count: chunks of files still being indexed, failed or deleted
-- never come back.
--
-- SECURITY INVOKER: row level security of workbench_files and workbench_chunks applies, so a
-- caller who is not a member of the workbench gets no rows. Callable by `authenticated` (through
-- shared/db.ts asUser) and the service role; not by anon.
--
-- Cost bounds:
--   - The workbench id is put into the statements as a literal (dynamic SQL), so the planner can
--     use a partial HNSW index `where workbench_id = '<id>'` when one exists (see the next
--     migration; sequential, bitmap and sort plans are switched off for that one statement so it
--     does) and an exact scan otherwise; `hnsw.ef_search` (default 400) and an iterative scan
--     (relaxed order, re-sorted here) are set for this transaction, so filtered rows (other model,
--     file not indexed) do not shorten the list.
--   - Full text: ranking costs ~6.5–10 µs per matching row on PGlite, and a query that reduces to
--     one common word matches thousands. Each full-text list ranks at most `p_text_scan_limit`
--     (default 200) matching rows, taken in physical order by a LIMIT in a subquery, so its cost is
--     bounded whatever the query; a word common enough to overflow that cap carries little
--     information, and the vector list carries the ranking then.
--   - k ≤ 50, candidates per list ≤ 200.

create function public.search_workbench_chunks(
  p_workbench_id uuid,
  p_query_embedding extensions.vector(384),
  p_embedding_model text,
  p_query_text text,
  p_match_count integer default 8,
  p_candidates integer default 20,
  p_rrf_k integer default 60,
  p_vector_weight double precision default 1,
  p_text_weight double precision default 1,
  p_ef_search integer default 400,
  p_text_scan_limit integer default 200
)
returns table (
  chunk_id uuid,
  file_id uuid,
  file_name text,
  chunk_index integer,
  content text,
  metadata jsonb,
  vector_rank integer,
  text_rank integer,
  score double precision
)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_k integer := least(greatest(coalesce(p_match_count, 8), 1), 50);
  v_candidates integer := least(greatest(coalesce(p_candidates, 20), v_k), 200);
  v_rrf_k integer := greatest(coalesce(p_rrf_k, 60), 1);
  v_scan integer := least(greatest(coalesce(p_text_scan_limit, 200), v_candidates), 5000);
  v_files uuid[];
  v_vec uuid[] := '{}';
  v_txt uuid[] := '{}';
  v_more uuid[];
  v_all tsquery;
  v_any tsquery;
  v_indexed boolean;
begin
  -- The workbench's indexed files the caller can see (RLS): none for a non-member.
  select array_agg(f.id) into v_files
    from public.workbench_files f
   where f.workbench_id = p_workbench_id and f.status = 'indexed';
  if v_files is null then
    return;
  end if;

  if p_query_embedding is not null and p_embedding_model is not null
     and coalesce(p_vector_weight, 1) > 0 then
    perform set_config('hnsw.ef_search', greatest(coalesce(p_ef_search, 400), v_candidates)::text,
                       true);
    perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
    -- The workbench's own HNSW index, when it has one (next migration): make the planner take it
    -- (its cost model may prefer a scan of a workbench that is most of the table); otherwise
    -- there is no vector index to take and the scan is exact.
    v_indexed := to_regclass(
      'public.workbench_chunks_vec_' || replace(p_workbench_id::text, '-', '')) is not null;
    if v_indexed then
      perform set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
              set_config('enable_sort', 'off', true);
    end if;
    execute format($q$
      select coalesce(array_agg(n.id order by n.d, n.id), '{}')
        from (select c.id, c.embedding operator(extensions.<=>) $1 as d
                from public.workbench_chunks c
               where c.workbench_id = %L
                 and c.embedding_model = $2
                 and c.file_id = any ($3)
               order by c.embedding operator(extensions.<=>) $1
               limit $4) n
    $q$, p_workbench_id)
      into v_vec
      using p_query_embedding, p_embedding_model, v_files, v_candidates;
    if v_indexed then
      perform set_config('enable_seqscan', 'on', true), set_config('enable_bitmapscan', 'on', true),
              set_config('enable_sort', 'on', true);
    end if;
  end if;

  if coalesce(p_text_weight, 1) > 0 and coalesce(btrim(p_query_text), '') <> '' then
    v_all := websearch_to_tsquery('english', p_query_text);
    if numnode(v_all) > 0 then
      execute format($q$
        select coalesce(array_agg(m.id order by m.r desc, m.id), '{}')
          from (select s.id, pg_catalog.ts_rank_cd(s.fts, $1) as r
                  from (select c.id, c.fts from public.workbench_chunks c
                         where c.workbench_id = %L and c.fts operator(pg_catalog.@@) $1
                           and c.file_id = any ($2)
                         limit $3) s
                 order by r desc, s.id
                 limit $4) m
      $q$, p_workbench_id)
        into v_txt
        using v_all, v_files, v_scan, v_candidates;

      if cardinality(v_txt) < v_candidates then
        -- Any of the words: the lexemes of the query, or'ed.
        select string_agg(quote_literal(l), ' | ')::tsquery into v_any
          from unnest(tsvector_to_array(to_tsvector('english', p_query_text))) l;
        if v_any is not null and v_any::text <> v_all::text then
          execute format($q$
            select coalesce(array_agg(m.id order by m.r desc, m.id), '{}')
              from (select s.id, pg_catalog.ts_rank_cd(s.fts, $1) as r
                      from (select c.id, c.fts from public.workbench_chunks c
                             where c.workbench_id = %L and c.fts operator(pg_catalog.@@) $1
                               and c.file_id = any ($2) and c.id <> all ($5)
                             limit $3) s
                     order by r desc, s.id
                     limit $4) m
          $q$, p_workbench_id)
            into v_more
            using v_any, v_files, v_scan, v_candidates - cardinality(v_txt), v_txt;
          v_txt := v_txt || v_more;
        end if;
      end if;
    end if;
  end if;

  return query
  with v as (
    select u.id, u.r::integer as r from unnest(v_vec) with ordinality as u(id, r)
  ), t as (
    select u.id, u.r::integer as r from unnest(v_txt) with ordinality as u(id, r)
  ), fused as (
    select coalesce(v.id, t.id) as id, v.r as vr, t.r as tr,
           coalesce(coalesce(p_vector_weight, 1) / (v_rrf_k + v.r), 0)
             + coalesce(coalesce(p_text_weight, 1) / (v_rrf_k + t.r), 0) as s
      from v full join t on t.id = v.id
  )
  select c.id, c.file_id, f.file_name, c.chunk_index, c.content, c.metadata, fused.vr, fused.tr,
         fused.s::double precision
    from fused
    join public.workbench_chunks c on c.id = fused.id
    join public.workbench_files f on f.id = c.file_id
   order by fused.s desc, least(coalesce(fused.vr, 1000000), coalesce(fused.tr, 1000000)), c.id
   limit v_k;
end;
$$;
revoke all on function public.search_workbench_chunks(
  uuid, extensions.vector, text, text, integer, integer, integer, double precision,
  double precision, integer, integer) from public, anon;
grant execute on function public.search_workbench_chunks(
  uuid, extensions.vector, text, text, integer, integer, integer, double precision,
  double precision, integer, integer) to authenticated, service_role;
