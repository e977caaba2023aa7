-- Retrieval: one full-text path in public.search_workbench_chunks (issue 9).
--
-- Same signature, grants and results as in 20261126005000. The "every word" pass and the "any
-- word" fallback (no chunk has every word) were two copies of the same candidates call, each with
-- its own choice between public.workbench_text_candidates (a caller under RLS) and
-- private.rank_text_matches (one RLS does not apply to); they are now one loop around one call.
-- pgTAP 14_text_candidates and 15_text_fallback cover both passes, as a user and as the service
-- role.

create or replace function public.search_workbench_chunks(
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
  v_names text[];
  v_vec uuid[] := '{}';
  v_txt uuid[] := '{}';
  v_words text[];
  v_query tsquery;
  v_indexed boolean;
  v_exact boolean := coalesce(current_setting('retrieval.exact_scan', true), '') in ('on', 'true');
  v_direct boolean := not row_security_active('public.workbench_chunks');
begin
  -- The workbench's indexed files the caller can see (RLS): none for a non-member.
  select array_agg(f.id), array_agg(f.file_name) into v_files, v_names
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
    v_indexed := not v_exact and to_regclass(
      'public.workbench_chunks_vec_' || replace(p_workbench_id::text, '-', '')) is not null;
    if v_indexed then
      perform set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
              set_config('enable_sort', 'off', true);
    elsif v_exact then
      perform set_config('enable_indexscan', 'off', true);
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
    elsif v_exact then
      perform set_config('enable_indexscan', 'on', true);
    end if;
  end if;

  if coalesce(p_text_weight, 1) > 0 and coalesce(btrim(p_query_text), '') <> '' then
    -- The chunks that have every word; when none has, the chunks that have any, ranked by how
    -- many of the query's words they have, then by cover density (normalised to [0, 1)).
    v_query := websearch_to_tsquery('english', p_query_text);
    while numnode(v_query) > 0 loop
      -- For a caller under RLS, the candidates come from public.workbench_text_candidates (as
      -- the table owner, so the index serves them); for one RLS does not apply to, directly.
      if v_direct then
        select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}') into v_txt
          from private.rank_text_matches(p_workbench_id, v_query, v_files, v_scan, v_candidates,
                                         v_words) t;
      else
        select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}') into v_txt
          from public.workbench_text_candidates(p_workbench_id, v_query, v_files, v_scan,
                                                v_candidates, v_words) t;
      end if;
      exit when cardinality(v_txt) > 0 or v_words is not null;
      -- Each lexeme quoted as tsquery input quotes it: in '…', with \ and ' escaped.
      select array_agg(q), string_agg(q, ' | ')::tsquery into v_words, v_query
        from unnest(tsvector_to_array(to_tsvector('english', p_query_text))) l,
             lateral (select '''' || replace(replace(l, '\', '\\'), '''', '''''') || '''' as q) e;
      -- (With one word, "any" is "all": nothing more to find.)
      exit when v_query is null or cardinality(v_words) < 2;
    end loop;
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
  select c.id, c.file_id, f.name, c.chunk_index, c.content, c.metadata, fused.vr, fused.tr,
         fused.s::double precision
    from fused
    join public.workbench_chunks c on c.id = fused.id
    join unnest(v_files, v_names) as f(id, name) on f.id = c.file_id
   where c.id = any (v_vec || v_txt)
   order by fused.s desc, least(coalesce(fused.vr, 1000000), coalesce(fused.tr, 1000000)), c.id
   limit v_k;
end;
$$;

