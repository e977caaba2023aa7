-- Hybrid search, second pass (issue 9, retrieval): measured with `task eval` and
-- `task bench retrieval`, applied over 20261126001000 and 20261126001020 (already deployed).
--
-- public.search_workbench_chunks (same signature, same grants):
--   - full text: when no chunk has every word of the query, the list is the chunks having any of
--     them, ranked by how many of the words they have, then by ts_rank_cd normalised to [0, 1).
--     It used to top up a short all-words list with any-word rows, which rank fusion then lifted
--     above the real match (eval, hybrid: hit@1 0.63 → 0.71–0.75, hit@5 0.88–0.92 → 1.00,
--     MRR 0.73–0.74 → 0.82–0.84). A one-word query has no any-word pass (it would be the same).
--     Each lexeme is quoted as tsquery input quotes it (quotes and backslashes escaped).
--   - `set local retrieval.exact_scan = on` makes the vector list an exact scan even where the
--     workbench has its own HNSW index (the bench's reference for recall; it only slows the
--     caller's own search).
--   - file names come from the first read of the workbench's files (one RLS read less).
--
-- public.readable_workbench_ids() is PL/pgSQL now, so its plan is cached for the session (a SQL
-- function that cannot be inlined is planned again in every statement that calls it).
--
-- "members see files" on public.workbench_files uses the same once-per-statement check as
-- "members see chunks" (`workbench_id in (select public.readable_workbench_ids())`) instead of a
-- role lookup per row: a search reads the workbench's file rows too. Same rule (pgTAP
-- 09_retrieval checks readable_workbench_ids() against workbench_role()).

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
  v_all tsquery;
  v_any tsquery;
  v_indexed boolean;
  v_exact boolean := coalesce(current_setting('retrieval.exact_scan', true), '') in ('on', 'true');
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

      if cardinality(v_txt) = 0 then
        -- No chunk has every word: rank the chunks that have any, by how many of the query's
        -- words they have, then by cover density (normalised to [0, 1)).
        -- Each lexeme quoted as tsquery input quotes it: in '…', with \ and ' escaped.
        select array_agg(q), string_agg(q, ' | ')::tsquery into v_words, v_any
          from unnest(tsvector_to_array(to_tsvector('english', p_query_text))) l,
               lateral (select '''' || replace(replace(l, '\', '\\'), '''', '''''') || '''' as q) e;
        -- (With one word, "any" is "all": nothing more to find.)
        if v_any is not null and cardinality(v_words) > 1 then
          execute format($q$
            select coalesce(array_agg(m.id order by m.r desc, m.id), '{}')
              from (select s.id,
                           (select count(*) from unnest($5::text[]) w
                             where s.fts operator(pg_catalog.@@) w::tsquery)
                             + pg_catalog.ts_rank_cd(s.fts, $1, 32) as r
                      from (select c.id, c.fts from public.workbench_chunks c
                             where c.workbench_id = %L and c.fts operator(pg_catalog.@@) $1
                               and c.file_id = any ($2)
                             limit $3) s
                     order by r desc, s.id
                     limit $4) m
          $q$, p_workbench_id)
            into v_txt
            using v_any, v_files, v_scan, v_candidates, v_words;
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
  select c.id, c.file_id, f.name, c.chunk_index, c.content, c.metadata, fused.vr, fused.tr,
         fused.s::double precision
    from fused
    join public.workbench_chunks c on c.id = fused.id
    join unnest(v_files, v_names) as f(id, name) on f.id = c.file_id
   order by fused.s desc, least(coalesce(fused.vr, 1000000), coalesce(fused.tr, 1000000)), c.id
   limit v_k;
end;
$$;

create or replace function public.readable_workbench_ids() returns setof uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return query
  select w.id from public.workbench w
   where w.company_id is null and w.owner_user_id = (select auth.uid())
  union
  select wm.workbench_id from public.workbench_members wm
    join public.workbench w on w.id = wm.workbench_id and w.company_id is null
   where wm.user_id = (select auth.uid())
  union
  select w.id from public.company_members cm
    join public.workbench w on w.company_id = cm.company_id
   where cm.user_id = (select auth.uid());
end;
$$;

drop policy "members see files" on public.workbench_files;
create policy "members see files" on public.workbench_files for select to authenticated
  using (workbench_id in (select public.readable_workbench_ids()));
