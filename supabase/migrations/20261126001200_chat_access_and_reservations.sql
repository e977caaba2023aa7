-- Two fixes to the chat's service-side steps of 20261126001100_chat_answers.sql:
--
-- * Access is the caller's CURRENT workbench role, not only the session's owner column. A member
--   removed from a workbench (or its company) keeps their chat_session rows, and the service-role
--   path used to save their question and take the answering marker before the RLS read answered
--   404. start_chat_turn, begin_chat_answer and finish_chat_turn now require
--   private.workbench_role_of(session's workbench, user) to be set: otherwise start answers
--   'not_found' and the others raise P0002 (404), having written nothing.
-- * Answers in flight count against the wallet. can_afford_chat looked at the balance and counter
--   only, so a user whose next answer was free could start one streaming answer per workbench at
--   once and get all of them (only the first to finish was free; the rest were refused at finish,
--   after the stream had been sent). start_chat_turn now locks the user's wallet row (so the
--   starts of one user run one after the other) and counts the user's unexpired answering markers
--   on other sessions as answers already made: a new answer starts only when the balance covers
--   the bundles that all of them together would complete (`chat_answers_per_credit`, 10, answers
--   per credit, on top of wallet_counters.chat_inference_counter).

-- Whether the user can pay for their answers in flight plus one more: the bundles that
-- counter + in-flight + 1 answers complete must be covered by the balance. Locks the wallet row
-- (the same lock record_chat_inference and apply_ledger take first), so concurrent starts of one
-- user serialise and each sees the markers the earlier ones took.
create function private.reserve_chat_answer(p_user_id uuid, p_session_id uuid) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_bundle integer := greatest(private.setting_int('chat_answers_per_credit', 10), 1);
  v_balance integer;
  v_counter integer;
  v_in_flight integer;
begin
  select w.balance into v_balance from public.wallet w where w.user_id = p_user_id for update;
  if not found then
    return false;
  end if;
  select coalesce((select c.chat_inference_counter from public.wallet_counters c
                    where c.user_id = p_user_id), 0)
    into v_counter;
  -- The session's own marker is not counted: while it holds, begin_chat_answer answers 409.
  select count(*)::integer into v_in_flight from private.chat_answering a
   where a.user_id = p_user_id and a.session_id <> p_session_id
     and a.expires_at >= clock_timestamp();
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
revoke all on function private.chat_session_workbench(uuid, uuid)
  from public, anon, authenticated;
grant execute on function private.chat_session_workbench(uuid, uuid) to service_role;

create or replace function private.begin_chat_answer(p_session_id uuid, p_user_id uuid)
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

create or replace function private.start_chat_turn(
  p_user_id uuid,
  p_session_id uuid,
  p_content text,
  p_ip text
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
begin
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

  insert into public.message (session_id, role, content)
  values (p_session_id, 'user', p_content)
  returning id into v_message;
  v_ms := v_ms || jsonb_build_object('persistence',
            (v_ms ->> 'persistence')::double precision + private.ms_since(v_at));
  return jsonb_build_object('status', 'ok', 'user_message_id', v_message, 'token', v_token,
                            'has_indexed', v_indexed, 'ms', v_ms);
end;
$$;

create or replace function private.finish_chat_turn(
  p_user_id uuid,
  p_session_id uuid,
  p_message_id uuid,
  p_token uuid,
  p_content text,
  p_sources jsonb,
  p_warnings jsonb,
  p_model text,
  p_prompt_tokens integer,
  p_completion_tokens integer
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
begin
  if private.chat_session_workbench(p_session_id, p_user_id) is null then
    raise exception 'no session % for this user', p_session_id using errcode = 'P0002';
  end if;
  update public.chat_session set last_message_at = now()
   where id = p_session_id and user_id = p_user_id;
  insert into public.message (id, session_id, role, content, sources, warnings, model,
                              prompt_tokens, completion_tokens)
  values (p_message_id, p_session_id, 'assistant', p_content, coalesce(p_sources, '[]'),
          coalesce(p_warnings, '[]'), p_model, p_prompt_tokens, p_completion_tokens)
  returning created_at into v_created;
  v_ms := jsonb_build_object('persistence', private.ms_since(v_at));

  v_at := clock_timestamp();
  if p_token is not null then
    v_count := private.record_chat_inference(p_user_id, p_message_id::text);
    v_wallet := jsonb_build_object('counted', v_count -> 'counted', 'charged', v_count -> 'charged',
                                   'balance', v_count -> 'balance',
                                   'chat_inference_counter', v_count -> 'counter');
    perform private.end_chat_answer(p_session_id, p_token);
  else
    select jsonb_build_object('counted', false, 'charged', false, 'balance', w.balance,
                              'chat_inference_counter', coalesce(c.chat_inference_counter, 0))
      into v_wallet
      from public.wallet w left join public.wallet_counters c on c.user_id = w.user_id
     where w.user_id = p_user_id;
  end if;
  v_ms := v_ms || jsonb_build_object('metering', private.ms_since(v_at));
  return jsonb_build_object('message', jsonb_build_object('id', p_message_id,
                                                          'created_at', v_created),
                            'wallet', v_wallet, 'ms', v_ms);
end;
$$;
