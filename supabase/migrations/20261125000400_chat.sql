-- Chat sessions and messages. A session belongs to one user on one workbench; users see their own
-- sessions on workbenches they can still access. Messages (user and assistant, with sources and
-- token usage) are written by the chat function with the service role.

create table public.chat_session (
  id uuid primary key default gen_random_uuid(),
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade default auth.uid(),
  title text check (char_length(title) <= 200),
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
  created_at timestamptz not null default now()
);
create index message_session_idx on public.message (session_id, created_at);

create trigger chat_session_touch before update on public.chat_session
  for each row execute function private.touch_updated_at();

revoke all on public.chat_session, public.message from anon, authenticated;
grant select, insert on public.chat_session to authenticated;
grant update (title, status) on public.chat_session to authenticated;
grant select on public.message to authenticated;

alter table public.chat_session enable row level security;
alter table public.message enable row level security;

create policy "own sessions" on public.chat_session for select to authenticated
  using (user_id = (select auth.uid()) and (select public.workbench_role(workbench_id)) is not null);
create policy "start own sessions" on public.chat_session for insert to authenticated
  with check (user_id = (select auth.uid())
              and (select public.workbench_role(workbench_id)) is not null);
create policy "rename or archive own sessions" on public.chat_session for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()));
create policy "messages of own sessions" on public.message for select to authenticated
  using (exists (select 1 from public.chat_session s
                  where s.id = session_id and s.user_id = (select auth.uid())
                    and (select public.workbench_role(s.workbench_id)) is not null));
