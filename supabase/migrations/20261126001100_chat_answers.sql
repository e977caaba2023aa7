-- What the chat function needs besides the tables of 20261125000400_chat.sql:
--
-- * a `chat` scope in the `rate_limits` setting: 30 messages a minute per user (and 120 per
--   client IP), through the token buckets of private.check_rate_limit;
-- * one answer at a time per session, across isolates: private.chat_answering holds a marker per
--   session while an answer is being made. A second message finds the marker and gets 409. The
--   marker expires after `chat_answer_lock_seconds` (private.settings, 120 s: longer than a model
--   call may take), so a function killed mid-answer never locks a session for good. An advisory
--   lock would need a transaction held open across the model call, which the transaction pooler
--   does not allow;
-- * the warnings an answer carried, kept with the message for the history;
-- * private.start_chat_turn and private.finish_chat_turn: the service-side steps before and after
--   the model call, one round trip each (rate limit, wallet check, marker, question; then answer,
--   count, marker release), so the chat adds little latency to the model's.

update private.settings
   set value = value || jsonb_build_object('chat', jsonb_build_object(
         'capacity', 30, 'per_minute', 30, 'ip_capacity', 120, 'ip_per_minute', 120)),
       updated_at = now()
 where key = 'rate_limits' and not value ? 'chat';

insert into private.settings (key, value) values ('chat_answer_lock_seconds', '120')
on conflict (key) do nothing;

alter table public.message add column warnings jsonb not null default '[]'::jsonb;

create table private.chat_answering (
  session_id uuid primary key references public.chat_session (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  token uuid not null default gen_random_uuid(),
  expires_at timestamptz not null
);
revoke all on private.chat_answering from public, anon, authenticated;
grant select, insert, update, delete on private.chat_answering to service_role;

-- Takes the session's answering marker for the session's own user. Returns the marker's token, or
-- null while another answer holds an unexpired marker. Concurrent callers serialise on the
-- session's primary key: exactly one gets a token.
create function private.begin_chat_answer(p_session_id uuid, p_user_id uuid) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_token uuid;
  v_ttl integer := private.setting_int('chat_answer_lock_seconds', 120);
begin
  if not exists (select 1 from public.chat_session s
                  where s.id = p_session_id and s.user_id = p_user_id) then
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
revoke all on function private.ms_since(timestamptz) from public, anon, authenticated;
grant execute on function private.ms_since(timestamptz) to service_role;

-- Everything the chat needs before a model call, in one round trip (service role): the `chat`
-- rate limit for the user and client IP, the session (must be the user's), whether its workbench
-- has an indexed file, the wallet (can_afford_chat) and the answering marker (only when there is
-- something to search, i.e. an answer to pay for), then the question saved.
-- Returns {status, ...}: 'ok' with user_message_id, token (null when nothing is indexed) and
-- has_indexed; or 'rate_limited' (retry_after_seconds), 'not_found', 'insufficient_credits',
-- 'answer_in_progress', in which cases nothing but the rate-limit token was taken. `ms` holds the
-- time spent on rate_limit, metering and persistence.
create function private.start_chat_turn(
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
  select s.workbench_id into v_workbench from public.chat_session s
   where s.id = p_session_id and s.user_id = p_user_id;
  if not found then
    return jsonb_build_object('status', 'not_found', 'ms', v_ms);
  end if;
  v_indexed := exists (select 1 from public.workbench_files f
                        where f.workbench_id = v_workbench and f.status = 'indexed');
  v_ms := v_ms || jsonb_build_object('persistence', private.ms_since(v_at));

  if v_indexed then
    v_at := clock_timestamp();
    if not private.can_afford_chat(p_user_id) then
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
revoke all on function private.start_chat_turn(uuid, uuid, text, text)
  from public, anon, authenticated;
grant execute on function private.start_chat_turn(uuid, uuid, text, text) to service_role;

-- Saves an answer, and when it was metered (a marker token is given) counts it once per message
-- id (private.record_chat_inference: the 10th answer deducts a credit) and releases the marker;
-- all in this one transaction. A count the balance cannot cover raises insufficient_credits
-- (PT402) and saves nothing. Returns {message: {id, created_at}, wallet: {counted, charged,
-- balance, chat_inference_counter}, ms: {persistence, metering}}.
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
  update public.chat_session set last_message_at = now()
   where id = p_session_id and user_id = p_user_id;
  if not found then
    raise exception 'no session % for this user', p_session_id using errcode = 'P0002';
  end if;
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
revoke all on function private.finish_chat_turn(uuid, uuid, uuid, uuid, text, jsonb, jsonb, text,
  integer, integer) from public, anon, authenticated;
grant execute on function private.finish_chat_turn(uuid, uuid, uuid, uuid, text, jsonb, jsonb,
  text, integer, integer) to service_role;
