-- Retrieval latency, measured on PGlite at 100k chunks (issue 9): full text through its index
-- under RLS, vectors stored in the row, a small GIN pending list.
--
-- 1. Full text. public.search_workbench_chunks runs as the caller, so the chunk read policy
-- applies, and PostgreSQL evaluates a query's own conditions after a policy's unless they are
-- leakproof. Only scalar equality is (`uuid = uuid`, `text = text`); `tsvector @@ tsquery` is
-- not, so under RLS the GIN index on `fts` can never be used: every search read and matched
-- every chunk of the workbench (measured on PGlite: a 6-word query on a 20k-chunk workbench,
-- ~200 ms as the owner against ~1 ms through the index). Vector search is not affected (an
-- ORDER BY is not a condition, so the HNSW index serves it under RLS).
--
-- public.workbench_text_candidates(...) finds the full-text candidates through the index and
-- returns only their chunk ids and ranks. It is SECURITY DEFINER so that the index can be used,
-- and it answers only for a workbench in public.readable_workbench_ids(), the same set the read
-- policies on workbench_chunks and workbench_files use, checked once. It returns nothing the
-- caller could not read through RLS (ids and a rank of chunks of a workbench they can read), and
-- public.search_workbench_chunks still reads every chunk it returns as the caller, under RLS:
-- a row the policy hides is dropped there whatever the candidates say. No content leaves it.
--
-- 2. Vectors in the row. The vector type's storage is EXTERNAL, and a chunk row (vector 1.5 kB +
-- content + tsvector) is over the 2 kB TOAST threshold, so every vector lived in the TOAST table:
-- an exact scan fetched three extra pages per row (6,356 rows: 133 ms; with MAIN storage 33 ms,
-- PGlite, same query). MAIN keeps the vector in the row and moves content and tsvector out
-- first, which only the few returned or re-checked rows need. Rows written before this
-- migration keep their layout until they are rewritten (re-indexing a file writes its chunks
-- anew).
--
-- 3. The GIN index gets a small pending list (gin_pending_list_limit 256 kB, default 4 MB): a GIN
-- search scans the whole pending list linearly, and new chunks stay in it until it overflows or
-- (auto)vacuum merges it. With 4 MB a search paid up to ~50 ms on PGlite (which never vacuums on
-- its own); with 256 kB the list is merged by inserts 16 times as often, in smaller pieces.
--
-- 4. The search's last statement looks its chunks up by id (`c.id = any (...)`, leakproof, so the
-- primary key serves it under RLS): median 41 → 12 ms on a 2,129-chunk workbench (PGlite, a
-- loaded machine).

alter index public.workbench_chunks_fts_idx set (gin_pending_list_limit = 256);
alter table public.workbench_chunks alter column embedding set storage main;

-- The ranked full-text matches of a workbench, with no access check of its own: it reads as
-- whoever runs it. Called by public.workbench_text_candidates (as the table owner) and by
-- public.search_workbench_chunks for callers RLS does not apply to (the service role). Planned for
-- its arguments each time: a generic plan cannot tell a rare word from a common one, and one
-- measured on PGlite read a 2,000-chunk workbench row by row (70 ms instead of 5).
create function private.rank_text_matches(
  p_workbench_id uuid,
  p_query tsquery,
  p_files uuid[],
  p_scan integer,
  p_limit integer,
  p_words text[] default null
)
returns table (chunk_id uuid, rank double precision)
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
#variable_conflict use_column
begin
  -- At most p_scan matching rows are ranked (a common word matches thousands), the best p_limit
  -- returned. With p_words: ranked by how many of those words a row has, then by cover density
  -- normalised to [0, 1) (the "any word" list of public.search_workbench_chunks).
  return query
  select s.id,
         case when p_words is null then pg_catalog.ts_rank_cd(s.fts, p_query)::double precision
              else (select count(*) from unnest(p_words[1:64]) w
                     where s.fts operator(pg_catalog.@@) w::tsquery)::double precision
                   + pg_catalog.ts_rank_cd(s.fts, p_query, 32)
         end as r
    from (select c.id, c.fts from public.workbench_chunks c
           where c.workbench_id = p_workbench_id
             and c.fts operator(pg_catalog.@@) p_query
             and c.file_id = any (p_files)
           limit least(greatest(coalesce(p_scan, 200), 1), 5000)) s
   order by r desc, s.id
   limit least(greatest(coalesce(p_limit, 20), 1), 200);
end;
$$;
revoke all on function private.rank_text_matches(uuid, tsquery, uuid[], integer, integer, text[])
  from public, anon, authenticated;
grant execute on function private.rank_text_matches(uuid, tsquery, uuid[], integer, integer, text[])
  to service_role;

-- The same, for a workbench the caller can read (the read policies' own set), as the table owner
-- so the GIN index serves it; nothing for any other workbench.
create function public.workbench_text_candidates(
  p_workbench_id uuid,
  p_query tsquery,
  p_files uuid[],
  p_scan integer,
  p_limit integer,
  p_words text[] default null
)
returns table (chunk_id uuid, rank double precision)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_workbench_id is null or p_query is null or not exists (
    select 1 from public.readable_workbench_ids() r(id) where r.id = p_workbench_id) then
    return;
  end if;
  return query
  select m.chunk_id, m.rank
    from private.rank_text_matches(p_workbench_id, p_query, p_files, p_scan, p_limit, p_words) m;
end;
$$;
revoke all on function public.workbench_text_candidates(uuid, tsquery, uuid[], integer, integer, text[])
  from public, anon;
grant execute on function public.workbench_text_candidates(uuid, tsquery, uuid[], integer, integer, text[])
  to authenticated;

-- Same signature, grants and results as in 20261126001300; the full-text lists now come from
-- public.workbench_text_candidates (above), or for a caller RLS does not apply to (the service
-- role, the table owner) straight from private.rank_text_matches. Everything returned is still
-- read here, as the caller.
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
    v_all := websearch_to_tsquery('english', p_query_text);
    if numnode(v_all) > 0 then
      if v_direct then
        select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}') into v_txt
          from private.rank_text_matches(p_workbench_id, v_all, v_files, v_scan, v_candidates) t;
      else
        select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}') into v_txt
          from public.workbench_text_candidates(p_workbench_id, v_all, v_files, v_scan,
                                                v_candidates) t;
      end if;

      if cardinality(v_txt) = 0 then
        -- No chunk has every word: rank the chunks that have any, by how many of the query's
        -- words they have, then by cover density (normalised to [0, 1)).
        -- Each lexeme quoted as tsquery input quotes it: in '…', with \ and ' escaped.
        select array_agg(q), string_agg(q, ' | ')::tsquery into v_words, v_any
          from unnest(tsvector_to_array(to_tsvector('english', p_query_text))) l,
               lateral (select '''' || replace(replace(l, '\', '\\'), '''', '''''') || '''' as q) e;
        -- (With one word, "any" is "all": nothing more to find.)
        if v_any is not null and cardinality(v_words) > 1 then
          if v_direct then
            select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}')
              into v_txt
              from private.rank_text_matches(p_workbench_id, v_any, v_files, v_scan,
                                             v_candidates, v_words) t;
          else
            select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}')
              into v_txt
              from public.workbench_text_candidates(p_workbench_id, v_any, v_files, v_scan,
                                                    v_candidates, v_words) t;
          end if;
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
   where c.id = any (v_vec || v_txt)
   order by fused.s desc, least(coalesce(fused.vr, 1000000), coalesce(fused.tr, 1000000)), c.id
   limit v_k;
end;
$$;

