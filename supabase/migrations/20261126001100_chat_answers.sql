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
-- * the warnings an answer carried, kept with the message for the history.

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
