-- Reports, plus the internal idempotency-key store and rate-limit buckets.
--
-- A report row is created by the reports function (service role) after charging one credit per
-- Idempotency-Key; workbench members can read their workbench's reports. Idempotency keys and
-- rate-limit buckets are internals in `private`.

create table public.reports (
  id uuid primary key default gen_random_uuid(),
  workbench_id uuid not null references public.workbench (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  report_type text not null check (char_length(report_type) between 1 and 100),
  title text not null check (char_length(title) between 1 and 200),
  notes text check (char_length(notes) <= 5000),
  status text not null default 'queued' check (status in ('queued', 'processing', 'ready', 'failed')),
  storage_path text,
  cost_credits integer not null default 1 check (cost_credits >= 0),
  idempotency_key text not null,
  error_message text,
  attempts integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (user_id, idempotency_key),
  check (status <> 'ready' or storage_path is not null),
  check (status <> 'failed' or error_message is not null)
);
create index reports_workbench_idx on public.reports (workbench_id, created_at desc);

create trigger reports_touch before update on public.reports
  for each row execute function private.touch_updated_at();

revoke all on public.reports from anon, authenticated;
grant select on public.reports to authenticated;
alter table public.reports enable row level security;
create policy "members see reports" on public.reports for select to authenticated
  using ((select public.workbench_role(workbench_id)) is not null);

-- Responses remembered per (user, scope, Idempotency-Key) so that a retry replays the first answer.
create table private.idempotency_keys (
  user_id uuid not null references auth.users (id) on delete cascade,
  scope text not null,
  key text not null check (char_length(key) between 1 and 255),
  request_hash text not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '24 hours',
  primary key (user_id, scope, key)
);

-- Token buckets for rate limits (per user or IP and route).
create table private.rate_limit_buckets (
  key text primary key,
  tokens double precision not null,
  updated_at timestamptz not null default clock_timestamp()
);

-- Takes one token from bucket `p_key` (capacity `p_capacity`, refilled at `p_refill_per_sec`).
-- Returns {allowed, remaining, retry_after_seconds}.
create function private.take_rate_token(
  p_key text,
  p_capacity integer,
  p_refill_per_sec double precision
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tokens double precision;
begin
  insert into private.rate_limit_buckets as b (key, tokens, updated_at)
  values (p_key, p_capacity, clock_timestamp())
  on conflict (key) do update
     set tokens = least(p_capacity::double precision,
                        b.tokens + extract(epoch from clock_timestamp() - b.updated_at)
                                   * p_refill_per_sec),
         updated_at = clock_timestamp()
  returning tokens into v_tokens;
  if v_tokens >= 1 then
    update private.rate_limit_buckets set tokens = v_tokens - 1 where key = p_key;
    return jsonb_build_object('allowed', true, 'remaining', floor(v_tokens - 1),
                              'retry_after_seconds', 0);
  end if;
  return jsonb_build_object('allowed', false, 'remaining', 0,
                            'retry_after_seconds', ceil((1 - v_tokens) / p_refill_per_sec));
end;
$$;

revoke all on all tables in schema private from anon, authenticated;
grant select, insert, update, delete on private.idempotency_keys, private.rate_limit_buckets
  to service_role;
revoke all on all functions in schema private from public, anon, authenticated;
grant execute on all functions in schema private to service_role;
