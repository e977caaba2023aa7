-- Search: hybrid retrieval over one workbench's chunks, run as the caller, and the per-workbench
-- vector indexes that keep it fast.
--
-- public.search_workbench_chunks(workbench, query embedding, embedding model, query text, k, ...)
-- returns the best k chunks of the workbench by a weighted sum of the scores of two lists:
--   - vector: cosine distance to the query embedding, only over chunks embedded with the same model
--     (a vector of another model is never compared; such chunks can still match by text);
--   - full text: Okapi BM25 over the stored tsvector (private.rank_text_matches): the chunks with
--     any of the query's lexemes (`to_tsvector('english', …)`; a month written out also finds its
--     abbreviation and back), idf per workbench, length-normalised, table rows doubled for a
--     numeric question that names what they hold. Each lexeme is quoted as tsquery input quotes it
--     (quotes and backslashes escaped).
-- score = vector_weight * max(cosine similarity, 0) + text_weight * bm25 / (best bm25 of the list):
-- a clear full-text winner stays first, the vector decides near-ties and brings chunks that share
-- no word. (Reciprocal rank fusion, used before, let the vector list overturn a clear BM25 winner:
-- hybrid hit@1 0.60 against BM25's 0.77 on `task eval`.) p_rrf_k is no longer used; it stays in
-- the signature for its callers.
-- Only files in status 'indexed' count: chunks of files still being indexed, failed or deleted
-- never come back.
--
-- SECURITY INVOKER: row level security of workbench_files and workbench_chunks applies, so a
-- caller who is not a member of the workbench gets no rows. Callable by `authenticated` (through
-- shared/db.ts asUser) and the service role; not by anon.
--
-- Full text under RLS: PostgreSQL evaluates a query's own conditions after a policy's unless they
-- are leakproof, and `tsvector @@ tsquery` is not, so under RLS the GIN index on `fts` could never
-- be used. public.workbench_text_candidates(...) finds the full-text candidates through the index
-- and returns only their chunk ids and ranks. It is SECURITY DEFINER so that the index can be
-- used, and it answers only for a workbench in public.readable_workbench_ids(), the same set the
-- read policies use, checked once. It returns nothing the caller could not read through RLS, and
-- the search still reads every chunk it returns as the caller, under RLS, looking them up by id
-- (`c.id = any (...)`, leakproof, so the primary key serves it). For a caller RLS does not apply
-- to (the service role, the table owner) the search calls private.rank_text_matches directly.
--
-- Cost bounds:
--   - The workbench id is put into the statements as a literal (dynamic SQL), so the planner can
--     use the workbench's partial HNSW index when one exists (sequential, bitmap and sort plans
--     are switched off for that one statement so it does) and an exact scan otherwise;
--     `hnsw.ef_search` (default 400) and an iterative scan (relaxed order, re-sorted here) are set
--     for this transaction, so filtered rows (other model, file not indexed) do not shorten the
--     list. `set local retrieval.exact_scan = on` makes the vector list an exact scan even where
--     the workbench has its own index (the bench's reference for recall).
--   - Full text: each list ranks at most `p_text_scan_limit` (default 200) matching rows, so its
--     cost is bounded whatever the query; a word common enough to overflow that cap carries little
--     information, and the vector list carries the ranking then.
--   - k ≤ 50, candidates per list ≤ 200.
--
-- Vector indexes per workbench. Searches are always scoped to one workbench; with one global HNSW
-- index the workbench filter is applied after the index has picked its candidates, so a workbench
-- holding a small share of all chunks gets few or no results. Instead:
--   - below `workbench_vector_index_min_chunks` chunks (private.settings, default 2000) a search
--     is an exact scan of the workbench's rows (btree on workbench_id, then cosine distance on at
--     most a few thousand vectors: ~1–3 ms);
--   - at or above it, the workbench gets `workbench_chunks_vec_<id without dashes>`, an HNSW index
--     `where workbench_id = '<id>'`, built with private.settings `workbench_vector_index_m` (16)
--     and `workbench_vector_index_ef_construction` (200), clamped to what pgvector accepts.
-- Who builds them: the index worker, with CREATE INDEX CONCURRENTLY, which does not block writes
-- to workbench_chunks (a plain CREATE INDEX holds a SHARE lock on the table for the whole build,
-- so chunk inserts of every workbench would wait for it). CONCURRENTLY cannot run in a transaction
-- or a function, so the SQL here keeps the bookkeeping and the worker issues the statement itself
-- as one autocommit statement (shared/indexing/vector_index.ts):
--   - pg_cron job `workbench-vector-indexes` (every 30 s) calls
--     private.kick_workbench_vector_index_build(), which kicks `index-worker/vector-index` when a
--     workbench over the threshold has no index and no live build (a cheap check, no build);
--   - the worker calls private.claim_workbench_vector_index(), which picks the largest such
--     workbench (chunk counts from workbench_files.chunks_done, no scan of the chunks), records
--     the claim in private.workbench_vector_index_builds (a build's lease:
--     `workbench_vector_index_build_lease_sec`, 900 s, so one build runs per workbench) and returns
--     the statements to run: a DROP INDEX CONCURRENTLY of an INVALID index a failed or killed
--     concurrent build left (then the build is retried), and the CREATE INDEX CONCURRENTLY;
--   - then private.finish_workbench_vector_index(), which registers the index in
--     private.workbench_vector_indexes once pg_index says it is valid, and ends the claim. An
--     index found valid without a registry row (its build outlived its worker) is registered by
--     the next claim, not built again.
-- One index per run, the largest workbench first, so a run's work stays bounded; until then that
-- workbench is searched exactly (correct, slower). A workbench that shrinks keeps its index
-- (harmless). Registry rows go with their workbench (on delete cascade); deleting a registry row
-- drops the index (the cron job has it built again within 30 s).

-- When a workbench gets its own vector index, and how it is built.
insert into private.settings (key, value) values ('workbench_vector_index_min_chunks', '2000')
on conflict (key) do nothing;
insert into private.settings (key, value) values
  ('workbench_vector_index_m', '16'),
  ('workbench_vector_index_ef_construction', '200'),
  ('workbench_vector_index_build_lease_sec', '900')
on conflict (key) do nothing;

create table private.workbench_vector_indexes (
  workbench_id uuid primary key references public.workbench (id) on delete cascade,
  index_name text not null unique,
  chunk_count integer not null,
  created_at timestamptz not null default now()
);
revoke all on private.workbench_vector_indexes from public, anon, authenticated;

-- Builds under way (or that died): one row per workbench a worker has claimed.
create table private.workbench_vector_index_builds (
  workbench_id uuid primary key references public.workbench (id) on delete cascade,
  index_name text not null,
  claimed_at timestamptz not null default now(),
  attempts integer not null default 1
);
revoke all on private.workbench_vector_index_builds from public, anon, authenticated;

-- The name of the workbench's own vector index.
create function private.workbench_vector_index_name(p_workbench_id uuid) returns text
language sql
immutable
set search_path = ''
as $$
  select 'workbench_chunks_vec_' || replace(p_workbench_id::text, '-', '')
$$;
revoke all on function private.workbench_vector_index_name(uuid) from public, anon, authenticated;

-- The workbenches at or over the threshold (p_min_chunks, else the setting) with no registered
-- index and no live claim, largest first.
create function private.workbenches_needing_vector_index(p_min_chunks integer default null)
returns table (workbench_id uuid, chunk_count bigint)
language sql
stable
security definer
set search_path = ''
as $$
  select f.workbench_id, sum(f.chunks_done)
    from public.workbench_files f
   where not exists (select 1 from private.workbench_vector_indexes i
                      where i.workbench_id = f.workbench_id)
     and not exists (select 1 from private.workbench_vector_index_builds b
                      where b.workbench_id = f.workbench_id
                        and b.claimed_at > pg_catalog.now() - pg_catalog.make_interval(
                          secs => private.setting_int('workbench_vector_index_build_lease_sec', 900)))
   group by f.workbench_id
  having sum(f.chunks_done) >= coalesce(p_min_chunks,
                                        private.setting_int('workbench_vector_index_min_chunks', 2000))
   order by sum(f.chunks_done) desc, f.workbench_id
$$;
revoke all on function private.workbenches_needing_vector_index(integer)
  from public, anon, authenticated;

-- Claims the build of one workbench's index: p_workbench_id's when given (when it has at least
-- p_min_chunks, else the threshold, of embedded chunks), else the largest workbench that needs
-- one. Returns nothing when there is nothing to build, else the workbench, the index name and the
-- statements the worker runs, in order, outside any transaction: drop_statement (an INVALID index
-- left by a failed build, or null) and create_statement. An index already valid is registered
-- here instead of being built again.
create function private.claim_workbench_vector_index(
  p_workbench_id uuid default null,
  p_min_chunks integer default null
) returns table (workbench_id uuid, index_name text, drop_statement text, create_statement text)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_min integer := coalesce(p_min_chunks,
                            private.setting_int('workbench_vector_index_min_chunks', 2000));
  v_m integer := least(greatest(private.setting_int('workbench_vector_index_m', 16), 2), 100);
  v_ef integer := least(greatest(
    private.setting_int('workbench_vector_index_ef_construction', 200), 2 * v_m), 1000);
  v_lease integer := private.setting_int('workbench_vector_index_build_lease_sec', 900);
  v_id uuid;
  v_name text;
  v_valid boolean;
begin
  for v_id in
    select n.workbench_id from private.workbenches_needing_vector_index(v_min) n
     where p_workbench_id is null
    union all
    select w.id from public.workbench w
     where w.id = p_workbench_id
       and (select count(*) from public.workbench_chunks c
             where c.workbench_id = w.id and c.embedding is not null) >= v_min
  loop
    -- One claimer per workbench at a time; the second sees the first's claim.
    perform pg_advisory_xact_lock(hashtext('workbench_vector_index'), hashtext(v_id::text));
    continue when exists (select 1 from private.workbench_vector_indexes i
                           where i.workbench_id = v_id)
               or exists (select 1 from private.workbench_vector_index_builds b
                           where b.workbench_id = v_id
                             and b.claimed_at > pg_catalog.now()
                                                - pg_catalog.make_interval(secs => v_lease));
    v_name := private.workbench_vector_index_name(v_id);
    select x.indisvalid into v_valid
      from pg_catalog.pg_index x
     where x.indexrelid = pg_catalog.to_regclass('public.' || pg_catalog.quote_ident(v_name));
    if v_valid then
      perform private.finish_workbench_vector_index(v_id);
      continue;
    end if;
    -- An INVALID index that a backend is still building (its worker died, the statement did not):
    -- leave it to finish; the next claim registers it.
    continue when not v_valid and exists (
      select 1 from pg_catalog.pg_stat_progress_create_index p
       where p.index_relid = pg_catalog.to_regclass('public.' || pg_catalog.quote_ident(v_name)));
    insert into private.workbench_vector_index_builds as b (workbench_id, index_name)
    values (v_id, v_name)
    on conflict on constraint workbench_vector_index_builds_pkey do update
      set claimed_at = pg_catalog.now(), attempts = b.attempts + 1;
    workbench_id := v_id;
    index_name := v_name;
    drop_statement := case when v_valid is not null
      then pg_catalog.format('drop index concurrently if exists public.%I', v_name) end;
    create_statement := pg_catalog.format(
      'create index concurrently if not exists %I on public.workbench_chunks '
      'using hnsw (embedding extensions.vector_cosine_ops) with (m = %s, ef_construction = %s) '
      'where workbench_id = %L',
      v_name, v_m, v_ef, v_id);
    return next;
    return;
  end loop;
end;
$$;
revoke all on function private.claim_workbench_vector_index(uuid, integer)
  from public, anon, authenticated;
grant execute on function private.claim_workbench_vector_index(uuid, integer) to service_role;

-- Ends the build of the workbench's index: registers it when it exists and is valid (returns
-- true), and removes the claim either way (an INVALID index stays for the next claim to drop).
create function private.finish_workbench_vector_index(p_workbench_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_name text := private.workbench_vector_index_name(p_workbench_id);
  v_valid boolean;
begin
  delete from private.workbench_vector_index_builds b where b.workbench_id = p_workbench_id;
  select x.indisvalid into v_valid
    from pg_catalog.pg_index x
   where x.indexrelid = pg_catalog.to_regclass('public.' || pg_catalog.quote_ident(v_name));
  if not coalesce(v_valid, false)
     or not exists (select 1 from public.workbench w where w.id = p_workbench_id) then
    return false;
  end if;
  insert into private.workbench_vector_indexes (workbench_id, index_name, chunk_count)
  select p_workbench_id, v_name, count(*)::integer
    from public.workbench_chunks c
   where c.workbench_id = p_workbench_id and c.embedding is not null
  on conflict on constraint workbench_vector_indexes_pkey do nothing;
  return true;
end;
$$;
revoke all on function private.finish_workbench_vector_index(uuid) from public, anon, authenticated;
grant execute on function private.finish_workbench_vector_index(uuid) to service_role;

-- The cron job's work: kicks the index worker's vector-index route when a workbench needs an index
-- (the worker builds it; see the header). Returns whether it kicked.
create function private.kick_workbench_vector_index_build() returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from private.workbenches_needing_vector_index()) then
    return false;
  end if;
  perform private.kick_worker('index-worker/vector-index');
  return true;
end;
$$;
revoke all on function private.kick_workbench_vector_index_build()
  from public, anon, authenticated;
grant execute on function private.kick_workbench_vector_index_build() to service_role;

-- Deleting a registry row drops its index.
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
  $$select private.kick_workbench_vector_index_build()$$);

-- The ranked full-text matches of a workbench, with no access check of its own: it reads as
-- whoever runs it. Called by public.workbench_text_candidates (as the table owner) and by
-- public.search_workbench_chunks for callers RLS does not apply to (the service role). Planned for
-- its arguments each time: a generic plan cannot tell a rare word from a common one, and one
-- measured on PGlite read a 2,000-chunk workbench row by row (70 ms instead of 5).
--
-- With p_words (the query's lexemes, as to_tsvector('english', …) makes them; the search's way):
-- Okapi BM25 (k1 1.2, b 0.75) over the rows with any of the words, as `task eval`'s baseline:
--   - idf per workbench: ln((N - df + 0.5) / (df + 0.5) + 1), N the chunks of p_files
--     (workbench_files.chunks_done), df the word's matching chunks, counted up to 1,000 (a word
--     in more chunks is ranked as if in 1,000: it still weighs less than any rarer word);
--   - term frequency: the word's positions in the row's tsvector (ts_filter of the query's
--     lexemes, in C); length: the row's distinct lexemes (length(fts), in C; counting every
--     position meant unnesting each row's tsvector, ~4 times the cost), normalised by the average
--     length of the rows ranked (the workbench's own average would read every row of it);
--   - the file filter is kept out of the index scans ("is true"): as an index condition the
--     planner read every row of the file and tested `@@` row by row instead of using the GIN;
--   - which rows: at most p_scan, taken word by word from the rarest (a common word's matches
--     come last, so its cap cuts the least informative rows);
--   - table rows first for numeric questions: when a word has a digit (a year, a quarter, an
--     amount) the score of a table chunk (metadata row_start) is doubled when it has the question's
--     rarest word without a digit (what the question is about: the entity), and raised by half
--     when it has another such word (the measure), so the row of "Nordics revenue in Q3 2025"
--     outranks the prose that names the Nordics, while "group revenue in 2025" still finds the
--     annual report's page before a revenue sheet that lacks "group".
-- Without p_words: the rows matching p_query ranked by ts_rank_cd (pgTAP's access checks).
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
declare
  v_scan integer := least(greatest(coalesce(p_scan, 200), 1), 5000);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 200);
  v_n double precision;
  v_ids uuid[] := '{}';
  v_lex text[];
  v_idf double precision[];
  v_numeric boolean;
  v_entity text;
  v_word record;
begin
  if p_words is null then
    return query
    select s.id, pg_catalog.ts_rank_cd(s.fts, p_query)::double precision as r
      from (select c.id, c.fts from public.workbench_chunks c
             where c.workbench_id = p_workbench_id
               and c.fts operator(pg_catalog.@@) p_query
               and c.file_id = any (p_files)
             limit v_scan) s
     order by r desc, s.id
     limit v_limit;
    return;
  end if;

  select coalesce(sum(f.chunks_done), 0)::double precision into v_n
    from public.workbench_files f where f.id = any (p_files);
  -- Each word with its document frequency (capped, see the header), rarest first; each quoted as
  -- tsquery input quotes it (in '…', with \ and ' escaped).
  for v_word in
    select w.lexeme, w.q, d.df
      from (select distinct l as lexeme,
                   ('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''')::tsquery as q
              from unnest(p_words[1:64]) l where l <> '') w,
           lateral (select count(*)::double precision as df
                      from (select 1 from public.workbench_chunks c
                             where c.workbench_id = p_workbench_id
                               and c.fts operator(pg_catalog.@@) w.q
                               and (c.file_id = any (p_files)) is true
                             limit 1000) x) d
     order by d.df, w.lexeme
  loop
    continue when v_word.df = 0;
    v_lex := coalesce(v_lex, '{}') || v_word.lexeme;
    v_idf := coalesce(v_idf, '{}') || pg_catalog.ln(
      (greatest(v_n, v_word.df) - v_word.df + 0.5) / (v_word.df + 0.5) + 1);
    if cardinality(v_ids) < v_scan then
      v_ids := v_ids || array(
        select c.id from public.workbench_chunks c
         where c.workbench_id = p_workbench_id
           and c.fts operator(pg_catalog.@@) v_word.q
           and (c.file_id = any (p_files)) is true
           and not (c.id = any (v_ids))
         limit v_scan - cardinality(v_ids));
    end if;
  end loop;
  if v_lex is null then
    return;
  end if;
  v_numeric := exists (select 1 from unnest(v_lex) l where l ~ '[0-9]');
  -- What the question is about: its rarest word without a digit (the list is rarest first).
  v_entity := (select l from unnest(v_lex) with ordinality u(l, i) where l !~ '[0-9]'
                order by i limit 1);

  -- BM25 of each row: sum over its words of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl /
  -- avgdl)), k1 1.2, b 0.75.
  return query
  with d as (
    select c.id, c.metadata ? 'row_start' as tab,
           pg_catalog.ts_filter(pg_catalog.setweight(c.fts, 'A', v_lex), '{a}') as fts,
           greatest(pg_catalog.length(c.fts), 1)::double precision as dl
      from public.workbench_chunks c
     where c.id = any (v_ids)
  ), a as (
    select greatest(avg(d.dl), 1) as avgdl from d
  ), q as (
    select l.lexeme, l.idf, l.lexeme ~ '[0-9]' as num from unnest(v_lex, v_idf) l(lexeme, idf)
  ), s as (
    select d.id, d.tab,
           sum(q.idf * m.tf * 2.2 / (m.tf + 1.2 * (0.25 + 0.75 * d.dl / a.avgdl))) as bm25,
           bool_or(q.lexeme = v_entity) as entity, bool_or(not q.num) as named
      from d cross join a
      cross join lateral (select u.lexeme,
                                 coalesce(cardinality(u.positions), 1)::double precision as tf
                            from unnest(d.fts) u) m
      join q on q.lexeme = m.lexeme
     group by d.id, d.tab
  )
  select s.id, s.bm25 * case when not (v_numeric and s.tab) then 1 when s.entity then 2
                             when s.named then 1.5 else 1 end as r
    from s
   order by r desc, s.id
   limit v_limit;
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
revoke all on function public.workbench_text_candidates(
  uuid, tsquery, uuid[], integer, integer, text[]
) from public, anon;
grant execute on function public.workbench_text_candidates(
  uuid, tsquery, uuid[], integer, integer, text[]
) to authenticated, service_role;

-- The best k chunks of the workbench for the query (see the header).
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
  v_scan integer := least(greatest(coalesce(p_text_scan_limit, 200), v_candidates), 5000);
  v_files uuid[];
  v_names text[];
  v_vec uuid[] := '{}';
  v_txt uuid[] := '{}';
  v_vec_d double precision[] := '{}';
  v_txt_s double precision[] := '{}';
  v_words text[];
  v_or text;
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
    -- The workbench's own HNSW index, when it has one (see the header): make the planner take it
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
      select coalesce(array_agg(n.id order by n.d, n.id), '{}'),
             coalesce(array_agg(n.d order by n.d, n.id), '{}')
        from (select c.id, c.embedding operator(extensions.<=>) $1 as d
                from public.workbench_chunks c
               where c.workbench_id = %L
                 and c.embedding_model = $2
                 and c.file_id = any ($3)
               order by c.embedding operator(extensions.<=>) $1
               limit $4) n
    $q$, p_workbench_id)
      into v_vec, v_vec_d
      using p_query_embedding, p_embedding_model, v_files, v_candidates;
    if v_indexed then
      perform set_config('enable_seqscan', 'on', true), set_config('enable_bitmapscan', 'on', true),
              set_config('enable_sort', 'on', true);
    elsif v_exact then
      perform set_config('enable_indexscan', 'on', true);
    end if;
  end if;

  if coalesce(p_text_weight, 1) > 0 and coalesce(btrim(p_query_text), '') <> '' then
    -- BM25 over the chunks with any of the query's words (see private.rank_text_matches).
    v_words := tsvector_to_array(to_tsvector('english', p_query_text));
    -- A month written out or abbreviated ("June", "Jun"): each form finds the other.
    select array_agg(distinct w) into v_words
      from (select unnest(v_words) as w
            union all
            select unnest(tsvector_to_array(m.v))
              from (select to_tsvector('english', a || ' ' || b) as v
                      from (values ('January', 'Jan'), ('February', 'Feb'), ('March', 'Mar'),
                                   ('April', 'Apr'), ('June', 'Jun'), ('July', 'Jul'),
                                   ('August', 'Aug'), ('September', 'Sep'), ('October', 'Oct'),
                                   ('November', 'Nov'), ('December', 'Dec')) p(a, b)) m
             where tsvector_to_array(m.v) && v_words) x;
    if cardinality(v_words) > 0 then
      -- Each lexeme quoted as tsquery input quotes it: in '…', with \ and ' escaped.
      select string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')
        into v_or from unnest(v_words) l;
      v_query := v_or::tsquery;
      -- For a caller under RLS, the candidates come from public.workbench_text_candidates (as
      -- the table owner, so the index serves them); for one RLS does not apply to, directly.
      if v_direct then
        select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}'),
               coalesce(array_agg(t.rank order by t.rank desc, t.chunk_id), '{}')
          into v_txt, v_txt_s
          from private.rank_text_matches(p_workbench_id, v_query, v_files, v_scan, v_candidates,
                                         v_words) t;
      else
        select coalesce(array_agg(t.chunk_id order by t.rank desc, t.chunk_id), '{}'),
               coalesce(array_agg(t.rank order by t.rank desc, t.chunk_id), '{}')
          into v_txt, v_txt_s
          from public.workbench_text_candidates(p_workbench_id, v_query, v_files, v_scan,
                                                v_candidates, v_words) t;
      end if;
    end if;
  end if;

  return query
  with v as (
    select u.id, u.r::integer as r, u.d from unnest(v_vec, v_vec_d) with ordinality as u(id, d, r)
  ), t as (
    select u.id, u.r::integer as r, u.s from unnest(v_txt, v_txt_s) with ordinality as u(id, s, r)
  ), top as (
    select nullif(max(t.s), 0) as s from t
  ), fused as (
    select coalesce(v.id, t.id) as id, v.r as vr, t.r as tr,
           coalesce(coalesce(p_vector_weight, 1) * greatest(1 - v.d, 0), 0)
             + coalesce(coalesce(p_text_weight, 1) * t.s / top.s, 0) as s
      from v full join t on t.id = v.id cross join top
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
revoke all on function public.search_workbench_chunks(
  uuid, extensions.vector, text, text, integer, integer, integer, double precision,
  double precision, integer, integer
) from public, anon;
grant execute on function public.search_workbench_chunks(
  uuid, extensions.vector, text, text, integer, integer, integer, double precision,
  double precision, integer, integer
) to authenticated, service_role;
