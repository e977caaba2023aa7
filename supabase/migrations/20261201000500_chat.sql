-- Chat: sessions, messages, and the service-side steps of an answer.
--
-- A session belongs to one user on one workbench; users see their own sessions on workbenches they
-- can still access. Messages (user and assistant, with sources, warnings and token usage) are
-- written by the chat function with the service role.
--
-- * One answer at a time per session, across isolates: private.chat_answering holds a marker per
--   session while an answer is being made. A second message finds the marker and gets 409. The
--   marker expires after `chat_answer_lock_seconds` (private.settings, 120 s: longer than a model
--   call may take), so a function killed mid-answer never locks a session for good. An advisory
--   lock would need a transaction held open across the model call, which the transaction pooler
--   does not allow.
-- * private.start_chat_turn and private.finish_chat_turn: the steps before and after the model
--   call, one round trip each (rate limit, wallet check, marker, question; then answer, count,
--   marker release), so the chat adds little latency to the model's.
-- * Access is the caller's CURRENT workbench role, not only the session's owner column: a member
--   removed from a workbench (or its company) keeps their chat_session rows, so start_chat_turn,
--   begin_chat_answer and finish_chat_turn require private.workbench_role_of(session's workbench,
--   user) to be set: otherwise start answers 'not_found' and the others raise P0002 (404), having
--   written nothing.
-- * Answers in flight count against the wallet: start_chat_turn locks the user's wallet row (so
--   the starts of one user run one after the other) and counts the user's unexpired answering
--   markers on other sessions as answers already made: a new answer starts only when the balance
--   covers the bundles that all of them together would complete (`chat_answers_per_credit`, 10,
--   answers per credit, on top of wallet_counters.chat_inference_counter). Answers are counted
--   and paid for by private.record_chat_inference (wallet migration).
-- * An interrupted answer (the client went away first) is saved with status 'interrupted' by
--   finish_chat_turn(p_interrupted => true) and counts nothing.
-- * A deleted file is redacted from stored answers (private.redact_deleted_file, a trigger on
--   public.workbench_files, so every delete path redacts): its sources become
--   {"number", "deleted": true} with no name, snippet or id, its quoted passages leave extractive
--   answers, its name leaves the answers' text and warnings, and the answer gets a
--   `source_deleted` warning. finish_chat_turn does the same for files deleted while the answer
--   was being made (it locks the cited files' rows, so a delete either ran before and is seen,
--   or waits for the answer and redacts it).

create table public.chat_session (
  id uuid primary key default gen_random_uuid(),
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade default auth.uid(),
  title private.name_text,
  status text not null default 'active' check (status in ('active', 'archived')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_message_at timestamptz
);
create index chat_session_user_idx on public.chat_session (user_id, workbench_id, status);
-- At most one active session per user and workbench ("reuses the active one").
create unique index chat_session_one_active on public.chat_session (workbench_id, user_id)
  where status = 'active';

create table public.message (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null references public.chat_session (id) on delete cascade,
  role text not null check (role in ('user', 'assistant', 'system')),
  content text not null,
  sources jsonb not null default '[]'::jsonb,
  model text,
  prompt_tokens integer check (prompt_tokens >= 0),
  completion_tokens integer check (completion_tokens >= 0),
  created_at timestamptz not null default now(),
  -- The warnings the answer carried, kept for the history.
  warnings jsonb not null default '[]'::jsonb,
  -- 'interrupted': the client went away before the answer was complete (the partial text is kept
  -- and nothing was counted).
  status text not null default 'complete' check (status in ('complete', 'interrupted'))
);
create index message_session_idx on public.message (session_id, created_at);
-- The messages that cite or name a file (`sources` and `warnings` elements carry `file_id`), so
-- deleting the file finds them (private.redact_deleted_file).
create index message_file_refs_idx on public.message
  using gin ((sources || warnings) jsonb_path_ops);

create trigger chat_session_touch before update on public.chat_session
  for each row execute function private.touch_updated_at();

revoke all on public.chat_session, public.message from anon, authenticated;
-- A client (the chat function as the caller, or the Data API) names only the workbench: the
-- session starts active, and at most one is active per user and workbench, so sessions are
-- bounded by the workbenches one can see (whose creation is rate limited). Archiving is the
-- service role's; a client may rename (the title obeys the name rules).
grant select on public.chat_session to authenticated;
grant insert (workbench_id) on public.chat_session to authenticated;
grant update (title) on public.chat_session to authenticated;
grant select on public.message to authenticated;

alter table public.chat_session enable row level security;
alter table public.message enable row level security;

create policy "own sessions" on public.chat_session for select to authenticated
  using (user_id = (select auth.uid()) and (select public.workbench_role(workbench_id)) is not null);
create policy "start own sessions" on public.chat_session for insert to authenticated
  with check (user_id = (select auth.uid())
              and (select public.workbench_role(workbench_id)) is not null);
create policy "rename own sessions" on public.chat_session for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy "messages of own sessions" on public.message for select to authenticated
  using (exists (select 1 from public.chat_session s
                  where s.id = session_id and s.user_id = (select auth.uid())
                    and (select public.workbench_role(s.workbench_id)) is not null));

-- How long an answering marker holds a session.
insert into private.settings (key, value) values ('chat_answer_lock_seconds', '120')
on conflict (key) do nothing;

create table private.chat_answering (
  session_id uuid primary key references public.chat_session (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  token uuid not null default gen_random_uuid(),
  expires_at timestamptz not null
);
revoke all on private.chat_answering from public, anon, authenticated;
grant select, insert, update, delete on private.chat_answering to service_role;

-- The wallet that pays for answers in a session: the company's on a company workbench, else the
-- user's own (private.workbench_wallet, tenancy migration).
create function private.chat_wallet(p_session_id uuid, p_user_id uuid) returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select private.workbench_wallet(s.workbench_id) from public.chat_session s
                    where s.id = p_session_id), p_user_id)
$$;
revoke all on function private.chat_wallet(uuid, uuid) from public, anon, authenticated;
grant execute on function private.chat_wallet(uuid, uuid) to service_role;

-- Whether the paying wallet (private.chat_wallet) can pay for its answers in flight plus one more:
-- the bundles that counter + in-flight + 1 answers complete must be covered by the balance.
-- Before that, the plan's `chat_answers_month` (answers counted to the wallet this UTC month plus
-- those in flight) raises plan_limit_reached (PT403): the call is refused before any model call
-- or charge. Locks the wallet row (the same lock record_chat_inference and apply_ledger take
-- first), so concurrent starts on one wallet serialise and each sees the markers the earlier ones
-- took: a burst never ends above the limit.
create function private.reserve_chat_answer(p_user_id uuid, p_session_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_bundle integer := greatest(private.setting_int('chat_answers_per_credit', 10), 1);
  v_wallet uuid := private.chat_wallet(p_session_id, p_user_id);
  v_balance integer;
  v_counter integer;
  v_in_flight integer;
begin
  select w.balance into v_balance from public.wallet w where w.user_id = v_wallet for update;
  if not found then
    return false;
  end if;
  select coalesce((select c.chat_inference_counter from public.wallet_counters c
                    where c.user_id = v_wallet), 0)
    into v_counter;
  -- Markers of answers this wallet pays for. The session's own marker is not counted: while it
  -- holds, begin_chat_answer answers 409.
  select count(*)::integer into v_in_flight
    from private.chat_answering a
    join public.chat_session s on s.id = a.session_id
    join public.workbench b on b.id = s.workbench_id
   where coalesce(b.company_id, a.user_id) = v_wallet and a.session_id <> p_session_id
     and a.expires_at >= clock_timestamp();
  perform private.check_plan_limit(v_wallet, 'chat_answers_month',
    v_in_flight + (select count(*) from private.chat_inferences i
                    where i.user_id = v_wallet
                      and i.counted_at >= date_trunc('month', now() at time zone 'UTC')
                                          at time zone 'UTC'));
  return (v_counter + v_in_flight + 1) / v_bundle <= v_balance;
end;
$$;
revoke all on function private.reserve_chat_answer(uuid, uuid) from public, anon, authenticated;
grant execute on function private.reserve_chat_answer(uuid, uuid) to service_role;

-- The session's workbench when it is the user's session and the user still has a role there.
create function private.chat_session_workbench(p_session_id uuid, p_user_id uuid) returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select s.workbench_id from public.chat_session s
   where s.id = p_session_id and s.user_id = p_user_id
     and private.workbench_role_of(s.workbench_id, p_user_id) is not null
$$;
revoke all on function private.chat_session_workbench(uuid, uuid) from public, anon, authenticated;
grant execute on function private.chat_session_workbench(uuid, uuid) to service_role;

-- Takes the session's answering marker for the user; returns its token, or null when another
-- answer holds it. Raises P0002 when the session is not the user's or they lost access.
create function private.begin_chat_answer(p_session_id uuid, p_user_id uuid)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_token uuid;
  v_ttl integer := private.setting_int('chat_answer_lock_seconds', 120);
begin
  if private.chat_session_workbench(p_session_id, p_user_id) is null then
    raise exception 'no session % for this user', p_session_id using errcode = 'P0002';
  end if;
  insert into private.chat_answering as a (session_id, user_id, expires_at)
  values (p_session_id, p_user_id, clock_timestamp() + make_interval(secs => v_ttl))
  on conflict (session_id) do update
     set token = gen_random_uuid(), user_id = excluded.user_id, expires_at = excluded.expires_at
   where a.expires_at < clock_timestamp()
  returning a.token into v_token;
  return v_token;
end;
$$;
revoke all on function private.begin_chat_answer(uuid, uuid) from public, anon, authenticated;
grant execute on function private.begin_chat_answer(uuid, uuid) to service_role;

-- Releases the marker taken with `p_token` (a later holder's marker is left alone).
create function private.end_chat_answer(p_session_id uuid, p_token uuid) returns boolean
language sql
security definer
set search_path = ''
as $$
  with d as (delete from private.chat_answering a
              where a.session_id = p_session_id and a.token = p_token returning 1)
  select exists (select 1 from d)
$$;
revoke all on function private.end_chat_answer(uuid, uuid) from public, anon, authenticated;
grant execute on function private.end_chat_answer(uuid, uuid) to service_role;

-- Milliseconds since `p_from` (the phase timings the chat function reports in Server-Timing).
create function private.ms_since(p_from timestamptz) returns double precision
language sql
volatile
set search_path = ''
as $$ select extract(epoch from clock_timestamp() - p_from) * 1000 $$;
revoke all on function private.ms_since(timestamp with time zone) from public, anon, authenticated;
grant execute on function private.ms_since(timestamp with time zone) to service_role;

-- The steps before the model, one round trip (functions/chat/turn_store.ts startTurn): the
-- account's deactivation ('account_deactivated') and suspension ('tenant_suspended'), which
-- shared/auth.ts requireUser would otherwise look up in a round trip of its own; the `chat` rate
-- limit; the caller's own session on a workbench they may still read ('not_found'); the wallet
-- and the marker when something is indexed; then the preflight (files not indexed, files the
-- question names: `p_named_exact` names and `p_named_suffixes` like-patterns, shared/chat
-- namedFileFilter; the last 6 turns before the question), read here rather than as the caller:
-- what the caller may read of them is exactly what chat_session_workbench has just checked
-- (their own session, a current role on its workbench); then the question saved.
create function private.start_chat_turn(
  p_user_id uuid,
  p_session_id uuid,
  p_content text,
  p_ip text,
  p_named_exact text[] default '{}',
  p_named_suffixes text[] default '{}'
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_at timestamptz := clock_timestamp();
  v_ms jsonb := '{}'::jsonb;
  v_rate jsonb;
  v_workbench uuid;
  v_indexed boolean;
  v_token uuid;
  v_message uuid;
  v_preflight jsonb;
  v_pf timestamptz;
begin
  if private.is_deactivated(p_user_id) then
    return jsonb_build_object('status', 'account_deactivated', 'ms', v_ms);
  end if;
  if private.tenant_suspension(p_user_id) is not null then
    return jsonb_build_object('status', 'tenant_suspended', 'ms', v_ms);
  end if;
  v_rate := private.check_rate_limit('chat', p_user_id, p_ip);
  v_ms := v_ms || jsonb_build_object('rate_limit', private.ms_since(v_at));
  if not (v_rate ->> 'allowed')::boolean then
    return jsonb_build_object('status', 'rate_limited',
                              'retry_after_seconds', v_rate -> 'retry_after_seconds', 'ms', v_ms);
  end if;

  v_at := clock_timestamp();
  v_workbench := private.chat_session_workbench(p_session_id, p_user_id);
  if v_workbench is null then
    return jsonb_build_object('status', 'not_found', 'ms', v_ms);
  end if;
  v_indexed := exists (select 1 from public.workbench_files f
                        where f.workbench_id = v_workbench and f.status = 'indexed');
  v_ms := v_ms || jsonb_build_object('persistence', private.ms_since(v_at));

  if v_indexed then
    v_at := clock_timestamp();
    if not private.reserve_chat_answer(p_user_id, p_session_id) then
      return jsonb_build_object('status', 'insufficient_credits',
                                'ms', v_ms || jsonb_build_object('metering', private.ms_since(v_at)));
    end if;
    v_ms := v_ms || jsonb_build_object('metering', private.ms_since(v_at));
    v_at := clock_timestamp();
    v_token := private.begin_chat_answer(p_session_id, p_user_id);
    if v_token is null then
      return jsonb_build_object('status', 'answer_in_progress', 'ms', v_ms);
    end if;
  else
    v_at := clock_timestamp();
  end if;

  v_pf := clock_timestamp();
  -- 50 and 100: shared/chat/preflight.ts PREFLIGHT_UNINDEXED_LIMIT and PREFLIGHT_NAMED_LIMIT.
  select jsonb_build_object(
           'workbench_id', v_workbench,
           'unindexed', coalesce((select jsonb_agg(f) from (
              select f.id, f.file_name, f.status, f.error_message from public.workbench_files f
               where f.workbench_id = v_workbench and f.status <> 'indexed'
               order by f.created_at limit 50) f), '[]'),
           'named', coalesce((select jsonb_agg(f) from (
              select f.id, f.file_name, f.status, f.error_message from public.workbench_files f
               where f.workbench_id = v_workbench
                 and (lower(f.file_name) = any(p_named_exact)
                      or lower(f.file_name) like any(p_named_suffixes))
               order by f.created_at limit 100) f), '[]'),
           'history', coalesce((select jsonb_agg(jsonb_build_object('role', h.role,
                                                                    'content', h.content)
                                                 order by h.created_at, h.id) from (
              select m.role, m.content, m.created_at, m.id from public.message m
               where m.session_id = p_session_id and m.role in ('user', 'assistant')
               order by m.created_at desc, m.id desc limit 6) h), '[]'))
    into v_preflight;
  v_ms := v_ms || jsonb_build_object('preflight', private.ms_since(v_pf));
  v_at := v_at + (clock_timestamp() - v_pf); -- persistence is the rest

  insert into public.message (session_id, role, content)
  values (p_session_id, 'user', p_content)
  returning id into v_message;
  v_ms := v_ms || jsonb_build_object('persistence',
            (v_ms ->> 'persistence')::double precision + private.ms_since(v_at));
  return jsonb_build_object('status', 'ok', 'user_message_id', v_message, 'token', v_token,
                            'has_indexed', v_indexed, 'ms', v_ms) || v_preflight;
end;
$$;
revoke all on function private.start_chat_turn(uuid, uuid, text, text, text[], text[])
  from public, anon, authenticated;
grant execute on function private.start_chat_turn(uuid, uuid, text, text, text[], text[])
  to service_role;

-- The caller's side of a chat turn as ONE statement (functions/chat/turn_store.ts
-- retrieveAsCaller), in the statement's own transaction: what shared/db.ts asUser does (request
-- headers, claims, private.open_request's gate, then the caller's role), then, as the caller (row
-- level security), the hybrid search (public.search_workbench_chunks, same parameters) and, when
-- `p_cell_rows` > 0, at most that many typed rows of the workbench's indexed files (what
-- functions/chat/cells.ts reads). The search's rows come first, in its order, with `sheet` null;
-- then the typed rows, in their order, with `chunk_id` null. (Rows, not one json value: building
-- 2,000 typed rows into jsonb took 35 ms on native PostgreSQL, as json 10-15, as rows 2.) asUser
-- would take five round trips (BEGIN, claims, search, rows, COMMIT) where this takes one.
-- Not SECURITY DEFINER (a role cannot be set in one): it runs as the functions' connection role
-- until it sets 'authenticated', and every read after that is the caller's. Only the service
-- side may call it; claims of any other role are refused.
create function private.chat_retrieve_as_caller(
  p_claims jsonb,
  p_headers jsonb,
  p_workbench_id uuid,
  p_query_embedding extensions.vector(384),
  p_embedding_model text,
  p_query_text text,
  p_match_count integer,
  p_candidates integer,
  p_rrf_k integer,
  p_vector_weight double precision,
  p_text_weight double precision,
  p_ef_search integer,
  p_text_scan_limit integer,
  p_cell_rows integer
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
  score double precision,
  sheet text,
  row_number integer,
  header jsonb,
  cells jsonb
)
language plpgsql
volatile
set search_path = ''
as $$
#variable_conflict use_column
begin
  if p_claims ->> 'role' is distinct from 'authenticated' then
    raise exception 'chat_retrieve_as_caller takes a signed-in user''s claims'
      using errcode = '42501';
  end if;
  perform set_config('request.headers', p_headers::text, true),
          set_config('request.jwt.claims', p_claims::text, true),
          set_config('request.jwt.claim.sub', coalesce(p_claims ->> 'sub', ''), true),
          set_config('request.jwt.claim.role', 'authenticated', true),
          private.open_request(p_claims);
  perform set_config('role', 'authenticated', true);

  return query
    select s.chunk_id, s.file_id, s.file_name, s.chunk_index, s.content, s.metadata,
           s.vector_rank, s.text_rank, s.score, null::text, null::integer, null::jsonb,
           null::jsonb
      from public.search_workbench_chunks(
             p_workbench_id, p_query_embedding, p_embedding_model, p_query_text, p_match_count,
             p_candidates, p_rrf_k, p_vector_weight, p_text_weight, p_ef_search,
             p_text_scan_limit)
           with ordinality as s(chunk_id, file_id, file_name, chunk_index, content, metadata,
                                vector_rank, text_rank, score, n)
     order by s.n;
  if p_cell_rows > 0 then
    return query
      select null::uuid, null::uuid, f.file_name, null::integer, null::text, null::jsonb,
             null::integer, null::integer, null::double precision, t.sheet, t.row_number,
             t.header, t.cells
        from public.workbench_table_rows t
        join public.workbench_files f on f.id = t.file_id
       where t.workbench_id = p_workbench_id and f.status = 'indexed'
       order by f.created_at, f.id, t.sheet, t.row_number
       limit p_cell_rows;
  end if;
end;
$$;
revoke all on function private.chat_retrieve_as_caller(
  jsonb, jsonb, uuid, extensions.vector, text, text, integer, integer, integer, double precision,
  double precision, integer, integer, integer
) from public, anon, authenticated;
grant execute on function private.chat_retrieve_as_caller(
  jsonb, jsonb, uuid, extensions.vector, text, text, integer, integer, integer, double precision,
  double precision, integer, integer, integer
) to service_role;

-- One file redacted from one answer (pure): its sources become {"number", "deleted": true}; for an
-- extractive answer its quoted passages ("**name** (where) [n]:" and the "> " lines after) become
-- one line saying they were removed; the file's name leaves the text; warnings naming the file
-- lose the name; and a `source_deleted` warning (once) flags an answer that cited it.
create function private.redact_chat_file(
  p_content text,
  p_sources jsonb,
  p_warnings jsonb,
  p_model text,
  p_file_id uuid,
  p_file_name text
) returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_nl constant text := pg_catalog.chr(10);
  v_cited integer[];
  v_n integer;
  v_content text := p_content;
  v_sources jsonb := coalesce(p_sources, '[]');
  v_warnings jsonb := coalesce(p_warnings, '[]');
begin
  select coalesce(pg_catalog.array_agg((e ->> 'number')::integer), '{}') into v_cited
    from pg_catalog.jsonb_array_elements(v_sources) e
   where e ->> 'file_id' = p_file_id::text;
  if pg_catalog.cardinality(v_cited) > 0 then
    select coalesce(pg_catalog.jsonb_agg(
             case when e ->> 'file_id' = p_file_id::text
                  then pg_catalog.jsonb_build_object('number', e -> 'number', 'deleted', true)
                  else e end order by i), '[]')
      into v_sources
      from pg_catalog.jsonb_array_elements(v_sources) with ordinality as x(e, i);
    if p_model = 'extractive' then
      foreach v_n in array v_cited loop
        v_content := pg_catalog.regexp_replace(v_content,
          v_nl || '\*\*[^' || v_nl || ']*\[' || v_n || '\]:' || v_nl
            || '(> [^' || v_nl || ']*(' || v_nl || '|$))*',
          v_nl || '[' || v_n || '] (quoted passage removed: its file was deleted)' || v_nl, 'g');
      end loop;
      v_content := pg_catalog.rtrim(v_content, v_nl);
    end if;
    if not v_warnings @> '[{"code": "source_deleted"}]' then
      v_warnings := v_warnings || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
        'code', 'source_deleted',
        'message', 'A file this answer cited was deleted afterwards: its citations are marked '
                   || 'deleted and its quoted passages removed.'));
    end if;
  end if;
  if v_warnings @> pg_catalog.jsonb_build_array(
       pg_catalog.jsonb_build_object('file_id', p_file_id::text)) then
    select pg_catalog.jsonb_agg(
             case when e ->> 'file_id' = p_file_id::text
                  then pg_catalog.jsonb_build_object('code', e -> 'code', 'deleted', true,
                         'message', 'This warning was about a file that has since been deleted.')
                  else e end order by i)
      into v_warnings
      from pg_catalog.jsonb_array_elements(v_warnings) with ordinality as x(e, i);
  end if;
  if pg_catalog.char_length(coalesce(p_file_name, '')) >= 3 then
    v_content := pg_catalog.replace(v_content, p_file_name, '[deleted file]');
  end if;
  return pg_catalog.jsonb_build_object('content', v_content, 'sources', v_sources,
                                       'warnings', v_warnings);
end;
$$;
-- Called only by finish_chat_turn and the delete trigger (as their owner): no role gets it.
revoke all on function private.redact_chat_file(text, jsonb, jsonb, text, uuid, text)
  from public, anon, authenticated;

-- Saves the answer and, unless it was interrupted or is not metered, counts it and releases the
-- marker. Files cited that were deleted meanwhile are redacted first (their rows are locked `for
-- key share`, which a delete waits for but the index worker's updates do not, so a concurrent
-- delete waits for this answer and then redacts it). Returns the message as saved
-- (content, sources and warnings after redaction) and the wallet.
create function private.finish_chat_turn(
  p_user_id uuid,
  p_session_id uuid,
  p_message_id uuid,
  p_token uuid,
  p_content text,
  p_sources jsonb,
  p_warnings jsonb,
  p_model text,
  p_prompt_tokens integer,
  p_completion_tokens integer,
  p_interrupted boolean default false
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_at timestamptz := clock_timestamp();
  v_ms jsonb := '{}'::jsonb;
  v_created timestamptz;
  v_count jsonb;
  v_wallet jsonb;
  v_saved jsonb := jsonb_build_object('content', p_content, 'sources', coalesce(p_sources, '[]'),
                                      'warnings', coalesce(p_warnings, '[]'));
  v_gone record;
begin
  if private.chat_session_workbench(p_session_id, p_user_id) is null then
    raise exception 'no session % for this user', p_session_id using errcode = 'P0002';
  end if;
  -- Files cited in sources or named in warnings: locked against a delete until this commits, and
  -- those already deleted redacted here.
  perform 1 from public.workbench_files f
    where f.id in (select (e ->> 'file_id')::uuid
                     from jsonb_array_elements(coalesce(p_sources, '[]')
                                               || coalesce(p_warnings, '[]')) e
                    where e ? 'file_id')
    order by f.id
    for key share;
  for v_gone in
    select distinct e ->> 'file_id' as file_id, e ->> 'file_name' as file_name
      from jsonb_array_elements(coalesce(p_sources, '[]') || coalesce(p_warnings, '[]')) e
     where e ? 'file_id'
       and not exists (select 1 from public.workbench_files f
                        where f.id = (e ->> 'file_id')::uuid)
  loop
    v_saved := private.redact_chat_file(v_saved ->> 'content', v_saved -> 'sources',
                                        v_saved -> 'warnings', p_model,
                                        v_gone.file_id::uuid, v_gone.file_name);
  end loop;
  update public.chat_session set last_message_at = now()
   where id = p_session_id and user_id = p_user_id;
  insert into public.message (id, session_id, role, content, sources, warnings, model,
                              prompt_tokens, completion_tokens, status)
  values (p_message_id, p_session_id, 'assistant', v_saved ->> 'content', v_saved -> 'sources',
          v_saved -> 'warnings', p_model, p_prompt_tokens, p_completion_tokens,
          case when p_interrupted then 'interrupted' else 'complete' end)
  returning created_at into v_created;
  v_ms := jsonb_build_object('persistence', private.ms_since(v_at));

  v_at := clock_timestamp();
  if p_token is not null and not p_interrupted then
    v_count := private.record_chat_inference(private.chat_wallet(p_session_id, p_user_id),
                                             p_message_id::text);
    v_wallet := jsonb_build_object('counted', v_count -> 'counted', 'charged', v_count -> 'charged',
                                   'balance', v_count -> 'balance',
                                   'chat_inference_counter', v_count -> 'counter');
  else
    select jsonb_build_object('counted', false, 'charged', false, 'balance', w.balance,
                              'chat_inference_counter', coalesce(c.chat_inference_counter, 0))
      into v_wallet
      from public.wallet w left join public.wallet_counters c on c.user_id = w.user_id
     where w.user_id = private.chat_wallet(p_session_id, p_user_id);
  end if;
  if p_token is not null then
    perform private.end_chat_answer(p_session_id, p_token);
  end if;
  v_ms := v_ms || jsonb_build_object('metering', private.ms_since(v_at));
  return jsonb_build_object('message', jsonb_build_object('id', p_message_id,
                                                          'created_at', v_created) || v_saved,
                            'wallet', v_wallet, 'ms', v_ms);
end;
$$;
revoke all on function private.finish_chat_turn(
  uuid, uuid, uuid, uuid, text, jsonb, jsonb, text, integer, integer, boolean
) from public, anon, authenticated;
grant execute on function private.finish_chat_turn(
  uuid, uuid, uuid, uuid, text, jsonb, jsonb, text, integer, integer, boolean
) to service_role;

-- A file deleted (by a user through RLS, a function, the service role or a cascade) leaves the
-- stored answers that cited or named it: each is redacted (private.redact_chat_file). When the
-- file goes with its workbench, the sessions and messages go too, so nothing is left to redact.
create function private.redact_deleted_file() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ref jsonb := pg_catalog.jsonb_build_array(
    pg_catalog.jsonb_build_object('file_id', old.id::text));
begin
  if not exists (select 1 from public.workbench w where w.id = old.workbench_id) then
    return null;
  end if;
  update public.message m
     set content = r ->> 'content', sources = r -> 'sources', warnings = r -> 'warnings'
    from (select m2.id,
                 private.redact_chat_file(m2.content, m2.sources, m2.warnings, m2.model, old.id,
                                          old.file_name) as r
            from public.message m2
           where (m2.sources || m2.warnings) @> v_ref) x
   where m.id = x.id;
  return null;
end;
$$;
revoke all on function private.redact_deleted_file() from public, anon, authenticated;

create trigger workbench_files_redact_answers after delete on public.workbench_files
  for each row execute function private.redact_deleted_file();
