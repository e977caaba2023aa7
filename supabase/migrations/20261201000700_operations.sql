-- Operations: what keeps the service safe to run.
--
-- * Rate limits for the routes that create things, take uploads or answer in chat, per user and
--   per client IP, through token buckets. The limits are one setting, `rate_limits` in
--   private.settings: for each scope a bucket capacity (the burst) and a refill per minute, for the
--   user and (looser, many users may share an address) for the IP. Change them with an update of
--   that row; no deploy needed. Creating companies, workbenches and invitations takes its token
--   in the database (a trigger), so writes through the Data API are limited the same way.
-- * No stored object without a row. An upload stores a file's bytes first and writes its row
--   after (so a row never points at missing bytes); a function killed between the two leaves an
--   object that no row claims. Every 10 minutes a pg_cron job queues such objects of the
--   `workbench` bucket on `storage_gc` once they are older than the grace period (setting
--   `orphan_object_grace_minutes`, default 15: far longer than any upload request may run), and
--   kicks the worker that removes them.
-- * pg_cron's run history stays small. pg_cron writes a row to cron.job_run_details for every run
--   and never deletes one (the re-kick jobs every 10 s alone write 8,640 rows a day each); a daily job deletes the rows
--   older than `cron_run_details_keep_days` (private.settings, default 7).
-- * Read-only views for admins in Studio (the private schema is not exposed to API roles): one row
--   per wallet and one per payment.

-- Token buckets for rate limits (per user or IP and route).
create table private.rate_limit_buckets (
  key text primary key,
  tokens double precision not null,
  updated_at timestamptz not null default clock_timestamp()
);
revoke all on private.rate_limit_buckets from public, anon, authenticated;
grant select, insert, update, delete on private.rate_limit_buckets to service_role;

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
revoke all on function private.take_rate_token(text, integer, double precision)
  from public, anon, authenticated;
grant execute on function private.take_rate_token(text, integer, double precision) to service_role;

insert into private.settings (key, value) values ('rate_limits', $json${
  "uploads":     {"capacity": 30, "per_minute": 30, "ip_capacity": 120, "ip_per_minute": 120},
  "create":      {"capacity": 20, "per_minute": 20, "ip_capacity": 100, "ip_per_minute": 100},
  "invitations": {"capacity": 20, "per_minute": 1,  "ip_capacity": 60,  "ip_per_minute": 5},
  "chat":        {"capacity": 30, "per_minute": 30, "ip_capacity": 120, "ip_per_minute": 120}
}$json$::jsonb)
on conflict (key) do nothing;

-- Takes a token for `p_scope` from the user's bucket and the IP's bucket. Returns
-- {allowed, retry_after_seconds}; unknown scopes are not limited.
create function private.check_rate_limit(p_scope text, p_user_id uuid, p_ip text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit jsonb := (select s.value -> p_scope from private.settings s where s.key = 'rate_limits');
  v_user jsonb;
  v_ip jsonb;
begin
  if v_limit is null then
    return jsonb_build_object('allowed', true, 'retry_after_seconds', 0);
  end if;
  v_user := private.take_rate_token(
    p_scope || ':user:' || coalesce(p_user_id::text, 'anonymous'),
    (v_limit ->> 'capacity')::integer,
    (v_limit ->> 'per_minute')::double precision / 60);
  v_ip := private.take_rate_token(
    p_scope || ':ip:' || coalesce(nullif(p_ip, ''), 'unknown'),
    (v_limit ->> 'ip_capacity')::integer,
    (v_limit ->> 'ip_per_minute')::double precision / 60);
  if not ((v_user ->> 'allowed')::boolean and (v_ip ->> 'allowed')::boolean) then
    -- Counted for the metrics (aw_rate_limit_refusals_total); rolled back with a refused insert.
    perform private.bump_metric('rate_limit_refusals', p_scope);
  end if;
  return jsonb_build_object(
    'allowed', (v_user ->> 'allowed')::boolean and (v_ip ->> 'allowed')::boolean,
    'retry_after_seconds', greatest((v_user ->> 'retry_after_seconds')::numeric,
                                    (v_ip ->> 'retry_after_seconds')::numeric));
end;
$$;
revoke all on function private.check_rate_limit(text, uuid, text) from public, anon, authenticated;
grant execute on function private.check_rate_limit(text, uuid, text) to service_role;

-- The client IP of the current request: the first `x-forwarded-for` hop of `request.headers`,
-- which PostgREST sets from the request and the functions set from theirs
-- (shared/rate_limit.ts `forwardClientIp`); '' when unknown.
create function private.request_ip() returns text
language sql stable
set search_path = ''
as $$
  select coalesce(pg_catalog.btrim(pg_catalog.split_part(
    nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb
      ->> 'x-forwarded-for', ',', 1)), '')
$$;
revoke all on function private.request_ip() from public, anon, authenticated;
grant execute on function private.request_ip() to service_role;

-- Creations are rate limited in the database, so the Data API (which skips the functions) takes
-- the same tokens as the routes, one per row: a BEFORE INSERT trigger takes a token of scope
-- TG_ARGV[0] for the calling user (auth.uid()) and the request's IP, and refuses the row with
-- SQLSTATE PT429 (PostgREST answers 429; the functions answer 429 `rate_limited` with
-- Retry-After, see shared/db.ts) and the seconds to wait in DETAIL. Writes without a user (the
-- service role, migrations, the user-deletion hand-over) are not limited. The routes that write
-- these rows leave the limit to this trigger, so a request takes one token, not two.
create function private.rate_limit_insert() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid := auth.uid();
  v_result jsonb;
begin
  if v_user is null then
    return new;
  end if;
  v_result := private.check_rate_limit(tg_argv[0], v_user, private.request_ip());
  if not (v_result ->> 'allowed')::boolean then
    raise exception 'rate_limited' using errcode = 'PT429',
      detail = (v_result ->> 'retry_after_seconds'),
      hint = 'Too many ' || tg_argv[0] || ' requests; try again later.';
  end if;
  return new;
end;
$$;
revoke all on function private.rate_limit_insert() from public, anon, authenticated;
grant execute on function private.rate_limit_insert() to service_role;
create trigger company_rate_limit before insert on public.company
  for each row execute function private.rate_limit_insert('create');
create trigger workbench_rate_limit before insert on public.workbench
  for each row execute function private.rate_limit_insert('create');
create trigger company_invitations_rate_limit before insert on public.company_invitations
  for each row execute function private.rate_limit_insert('invitations');

-- The grace period before an unclaimed object is removed.
insert into private.settings (key, value) values ('orphan_object_grace_minutes', '15')
on conflict (key) do nothing;

-- Queues up to 1,000 unclaimed objects per call; returns how many. Queuing one twice is harmless
-- (removing a removed object is not an error).
create function private.sweep_orphan_objects() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  with orphans as (
    select o.name
      from storage.objects o
     where o.bucket_id = 'workbench'
       and o.created_at < now()
             - make_interval(mins => private.setting_int('orphan_object_grace_minutes', 15))
       and not exists (select 1 from public.workbench_files f where f.storage_path = o.name)
     order by o.created_at
     limit 1000
  )
  select count(*)::integer into v_count
    from orphans, lateral pgmq.send('storage_gc',
      jsonb_build_object('bucket', 'workbench', 'path', orphans.name, 'reason', 'orphan'));
  if v_count > 0 then
    perform private.kick_worker('index-worker', jsonb_build_object('queue', 'storage_gc'));
  end if;
  return v_count;
end;
$$;
revoke all on function private.sweep_orphan_objects() from public, anon, authenticated;
grant execute on function private.sweep_orphan_objects() to service_role;

select cron.schedule('storage-orphan-sweep', '*/10 * * * *',
  $$select private.sweep_orphan_objects()$$);

-- How many days of pg_cron's run history are kept.
insert into private.settings (key, value) values ('cron_run_details_keep_days', '7')
on conflict (key) do nothing;

-- Deletes the runs in cron.job_run_details that ended (or, never ended, started) more than
-- `cron_run_details_keep_days` ago; returns how many.
create function private.prune_cron_run_details() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  delete from cron.job_run_details d
   where coalesce(d.end_time, d.start_time)
         < now() - make_interval(days => private.setting_int('cron_run_details_keep_days', 7));
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
revoke all on function private.prune_cron_run_details() from public, anon, authenticated;
grant execute on function private.prune_cron_run_details() to service_role;

select cron.schedule('cron-run-details-prune', '17 3 * * *',
  $$select private.prune_cron_run_details()$$);

-- One row per wallet: who, plan, balance, seats, their last payment, credits spent this month
-- (chat bundles, reports net of report refunds, other spends; UTC calendar month).
create view private.admin_wallets as
select w.user_id,
       u.email::text as email,
       w.plan_id,
       pl.name as plan_name,
       w.balance,
       w.seats,
       coalesce(c.chat_inference_counter, 0) as chat_inference_counter,
       coalesce(spent.credits, 0) as credits_spent_this_month,
       lp.status as last_payment_status,
       lp.plan_id as last_payment_plan_id,
       lp.amount_paise as last_payment_amount_paise,
       lp.razorpay_order_id as last_payment_order_id,
       lp.created_at as last_payment_at,
       w.created_at,
       w.updated_at
  from public.wallet w
  join auth.users u on u.id = w.user_id
  left join public.plans pl on pl.id = w.plan_id
  left join public.wallet_counters c on c.user_id = w.user_id
  left join lateral (
    select p.status, p.plan_id, p.amount_paise, p.razorpay_order_id, p.created_at
      from public.payments p where p.user_id = w.user_id
     order by p.created_at desc limit 1) lp on true
  left join lateral (
    select (-sum(x.amount))::integer as credits from public.wallet_usage x
     where x.user_id = w.user_id
       and x.reason in ('chat_bundle', 'report', 'report_refund', 'spend')
       and x.created_at >= date_trunc('month', now(), 'UTC')) spent on true;

-- One row per payment: who, plan, money, state, and the webhook events seen for its order.
create view private.admin_payments as
select p.id,
       p.user_id,
       u.email::text as email,
       p.plan_id,
       p.amount_paise,
       p.currency,
       p.status,
       p.razorpay_order_id,
       p.razorpay_payment_id,
       p.receipt,
       p.credits_granted,
       p.seats_granted,
       p.created_at,
       p.paid_at,
       p.refunded_at,
       p.reconciled_at,
       coalesce(ev.events, 0) as webhook_events,
       ev.last_event_type,
       ev.last_event_outcome,
       ev.last_event_at
  from public.payments p
  join auth.users u on u.id = p.user_id
  left join lateral (
    select count(*) over ()::integer as events, e.event_type as last_event_type,
           e.outcome as last_event_outcome, e.received_at as last_event_at
      from private.razorpay_events e where e.order_id = p.razorpay_order_id
     order by e.received_at desc limit 1) ev on true;
revoke all on private.admin_wallets, private.admin_payments from public, anon, authenticated;
grant select on private.admin_wallets, private.admin_payments to service_role;
