-- Platform administration and metrics.
--
-- * Platform roles (`global_admin`, `support_user`) are rows of private.platform_roles, which no
--   API role can read or write: they are granted and revoked only through
--   private.set_platform_role, which the service role alone may execute, and which refuses an
--   actor that is not a global admin (a null actor is the service role itself, e.g. Studio or
--   the first admin's bootstrap). Nothing in public, no policy and no RPC a user can call reads
--   or writes them, so a user cannot make themself admin. The `admin` function asks
--   private.platform_role() about the caller on every request.
-- * Tenants (personal accounts and companies) can be suspended with a reason. A suspended
--   personal account gets 403 `tenant_suspended` from every function but the export
--   (shared/auth.ts asks private.tenant_suspension() in requireUser) and cannot spend credits
--   (private.spend_credits refuses with SQLSTATE PT403). A suspended company's workbenches are
--   closed to its members (private.workbench_role_of answers null for them).
-- * Admin actions are RPCs that check the actor and write private.audit_log in the same
--   transaction: credits, plan, suspension, roles, plans.
-- * Metrics: private.metric_counters keeps the counts that no table holds (rate-limit refusals);
--   private.metrics() computes every series the `metrics` function exposes in one statement.

------------------------------------------------------------------------------------------------
-- Platform roles
------------------------------------------------------------------------------------------------

create table private.platform_roles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  role text not null check (role in ('global_admin', 'support_user')),
  granted_by uuid references auth.users (id) on delete set null,
  reason text not null check (char_length(reason) between 1 and 500),
  granted_at timestamptz not null default now()
);
revoke all on private.platform_roles from public, anon, authenticated;
-- Written only by private.set_platform_role (below), so every change is audited.
grant select on private.platform_roles to service_role;

-- The platform role of a user ('global_admin', 'support_user') or null.
create function private.platform_role(p_user_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select r.role from private.platform_roles r where r.user_id = p_user_id
$$;
revoke all on function private.platform_role(uuid) from public, anon, authenticated;
grant execute on function private.platform_role(uuid) to service_role;

-- Whether the actor may act as a global admin: the service role (a null actor) or a user holding
-- global_admin.
create function private.is_platform_admin(p_actor uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select p_actor is null or coalesce(private.platform_role(p_actor) = 'global_admin', false)
$$;
revoke all on function private.is_platform_admin(uuid) from public, anon, authenticated;
grant execute on function private.is_platform_admin(uuid) to service_role;

-- Raises PT403 `platform_admin_required` unless the actor is a global admin (or the service role).
create function private.require_platform_admin(p_actor uuid) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.is_platform_admin(p_actor) then
    raise exception 'platform_admin_required' using errcode = 'PT403',
      hint = 'Only a global admin may do this.';
  end if;
end;
$$;
revoke all on function private.require_platform_admin(uuid) from public, anon, authenticated;
grant execute on function private.require_platform_admin(uuid) to service_role;

-- Grants `p_role` to a user, or revokes their role when `p_role` is null; audited. The actor must
-- be a global admin (null: the service role). Returns {user_id, role}.
create function private.set_platform_role(
  p_actor uuid,
  p_user_id uuid,
  p_role text,
  p_reason text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_before text;
begin
  perform private.require_platform_admin(p_actor);
  if coalesce(pg_catalog.btrim(p_reason), '') = '' then
    raise exception 'a reason is required' using errcode = '22023';
  end if;
  v_before := private.platform_role(p_user_id);
  if p_role is null then
    delete from private.platform_roles where user_id = p_user_id;
  else
    insert into private.platform_roles (user_id, role, granted_by, reason)
    values (p_user_id, p_role, p_actor, p_reason)
    on conflict (user_id) do update
      set role = excluded.role, granted_by = excluded.granted_by, reason = excluded.reason,
          granted_at = now();
  end if;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('admin.set_platform_role', 'user', p_user_id::text,
          jsonb_build_object('actor', p_actor, 'before', v_before, 'role', p_role,
                             'reason', p_reason));
  return jsonb_build_object('user_id', p_user_id, 'role', p_role);
end;
$$;
revoke all on function private.set_platform_role(uuid, uuid, text, text)
  from public, anon, authenticated;
grant execute on function private.set_platform_role(uuid, uuid, text, text) to service_role;

------------------------------------------------------------------------------------------------
-- Tenants: suspension, credits, plan
------------------------------------------------------------------------------------------------

-- private.tenant_suspensions (a suspended personal account or company) is in the tenancy
-- migration, next to the workbench access it closes.

-- What a tenant id names: 'company', 'user' or null.
create function private.tenant_kind(p_tenant_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select case
    when exists (select 1 from public.company c where c.id = p_tenant_id) then 'company'
    when exists (select 1 from auth.users u where u.id = p_tenant_id) then 'user'
  end
$$;
revoke all on function private.tenant_kind(uuid) from public, anon, authenticated;
grant execute on function private.tenant_kind(uuid) to service_role;

-- The reason a user's personal account is suspended, or null (shared/auth.ts requireUser).
create function private.tenant_suspension(p_user_id uuid) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select s.reason from private.tenant_suspensions s where s.tenant_id = p_user_id
$$;
revoke all on function private.tenant_suspension(uuid) from public, anon, authenticated;
grant execute on function private.tenant_suspension(uuid) to service_role;

-- Suspends (p_suspend) or reinstates a tenant with a reason; audited. Returns {tenant_id, kind,
-- suspended, changed}.
create function private.set_tenant_suspension(
  p_actor uuid,
  p_tenant_id uuid,
  p_suspend boolean,
  p_reason text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_kind text;
  v_changed integer;
begin
  perform private.require_platform_admin(p_actor);
  if coalesce(pg_catalog.btrim(p_reason), '') = '' then
    raise exception 'a reason is required' using errcode = '22023';
  end if;
  v_kind := private.tenant_kind(p_tenant_id);
  if v_kind is null then
    raise exception 'no tenant %', p_tenant_id using errcode = 'P0002';
  end if;
  if p_suspend then
    insert into private.tenant_suspensions (tenant_id, tenant_kind, reason, suspended_by)
    values (p_tenant_id, v_kind, p_reason, p_actor)
    on conflict (tenant_id) do nothing;
  else
    delete from private.tenant_suspensions where tenant_id = p_tenant_id;
  end if;
  get diagnostics v_changed = row_count;
  insert into private.audit_log (action, entity, entity_id, details)
  values (case when p_suspend then 'admin.suspend' else 'admin.unsuspend' end, v_kind,
          p_tenant_id::text,
          jsonb_build_object('actor', p_actor, 'reason', p_reason, 'changed', v_changed > 0));
  return jsonb_build_object('tenant_id', p_tenant_id, 'kind', v_kind, 'suspended', p_suspend,
                            'changed', v_changed > 0);
end;
$$;
revoke all on function private.set_tenant_suspension(uuid, uuid, boolean, text)
  from public, anon, authenticated;
grant execute on function private.set_tenant_suspension(uuid, uuid, boolean, text) to service_role;

-- The wallet a tenant's credits and plan live on: the user's own, or the company's wallet (its
-- key is the company id; the tenancy migration creates it with the company).
create function private.tenant_wallet_user(p_tenant_id uuid) returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select w.user_id from public.wallet w where w.user_id = p_tenant_id
$$;
revoke all on function private.tenant_wallet_user(uuid) from public, anon, authenticated;
grant execute on function private.tenant_wallet_user(uuid) to service_role;

-- Grants credits to a tenant's wallet (public.admin_grant_credits, idempotent by reference);
-- audited with the actor and reason.
create function private.admin_tenant_credits(
  p_actor uuid,
  p_tenant_id uuid,
  p_credits integer,
  p_reference_id text,
  p_reason text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
begin
  perform private.require_platform_admin(p_actor);
  if coalesce(pg_catalog.btrim(p_reason), '') = '' then
    raise exception 'a reason is required' using errcode = '22023';
  end if;
  v_user := private.tenant_wallet_user(p_tenant_id);
  if v_user is null then
    raise exception 'no tenant %', p_tenant_id using errcode = 'P0002';
  end if;
  return public.admin_grant_credits(v_user, p_credits, p_reference_id, p_reason)
    || jsonb_build_object('wallet_user_id', v_user);
end;
$$;
revoke all on function private.admin_tenant_credits(uuid, uuid, integer, text, text)
  from public, anon, authenticated;
grant execute on function private.admin_tenant_credits(uuid, uuid, integer, text, text)
  to service_role;

-- Sets a tenant wallet's plan and seats (public.admin_set_plan); audited with actor and reason.
create function private.admin_tenant_plan(
  p_actor uuid,
  p_tenant_id uuid,
  p_plan_id text,
  p_seats integer,
  p_reason text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user uuid;
  v_wallet public.wallet;
begin
  perform private.require_platform_admin(p_actor);
  if coalesce(pg_catalog.btrim(p_reason), '') = '' then
    raise exception 'a reason is required' using errcode = '22023';
  end if;
  v_user := private.tenant_wallet_user(p_tenant_id);
  if v_user is null then
    raise exception 'no tenant %', p_tenant_id using errcode = 'P0002';
  end if;
  v_wallet := public.admin_set_plan(v_user, p_plan_id, p_seats);
  insert into private.audit_log (action, entity, entity_id, details)
  values ('admin.tenant_plan', 'tenant', p_tenant_id::text,
          jsonb_build_object('actor', p_actor, 'wallet_user_id', v_user, 'plan_id', p_plan_id,
                             'seats', p_seats, 'reason', p_reason));
  return jsonb_build_object('wallet_user_id', v_user, 'plan_id', v_wallet.plan_id,
                            'seats', v_wallet.seats, 'balance', v_wallet.balance);
end;
$$;
revoke all on function private.admin_tenant_plan(uuid, uuid, text, integer, text)
  from public, anon, authenticated;
grant execute on function private.admin_tenant_plan(uuid, uuid, text, integer, text)
  to service_role;

-- Creates (p_create) or changes a plan from a JSON object of the columns public.plans has (name,
-- description, price_paise, currency, credits, seats, contact_sales, active, sort_order); keys
-- left out keep their value (or the column default). Audited. Returns the plan row as JSON.
create function private.admin_upsert_plan(
  p_actor uuid,
  p_plan_id text,
  p_create boolean,
  p_fields jsonb,
  p_reason text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_plan public.plans;
begin
  perform private.require_platform_admin(p_actor);
  if coalesce(pg_catalog.btrim(p_reason), '') = '' then
    raise exception 'a reason is required' using errcode = '22023';
  end if;
  if p_create then
    insert into public.plans (id, name, description, price_paise, currency, credits, seats,
                              contact_sales, active, sort_order)
    values (p_plan_id, p_fields ->> 'name', coalesce(p_fields ->> 'description', ''),
            (p_fields ->> 'price_paise')::integer, coalesce(p_fields ->> 'currency', 'INR'),
            coalesce((p_fields ->> 'credits')::integer, 0),
            coalesce((p_fields ->> 'seats')::integer, 0),
            coalesce((p_fields ->> 'contact_sales')::boolean, false),
            coalesce((p_fields ->> 'active')::boolean, true),
            coalesce((p_fields ->> 'sort_order')::integer, 0))
    returning * into v_plan;
  else
    update public.plans p set
      name = case when p_fields ? 'name' then p_fields ->> 'name' else p.name end,
      description = case when p_fields ? 'description' then p_fields ->> 'description'
                         else p.description end,
      price_paise = case when p_fields ? 'price_paise' then (p_fields ->> 'price_paise')::integer
                         else p.price_paise end,
      currency = case when p_fields ? 'currency' then p_fields ->> 'currency' else p.currency end,
      credits = case when p_fields ? 'credits' then (p_fields ->> 'credits')::integer
                     else p.credits end,
      seats = case when p_fields ? 'seats' then (p_fields ->> 'seats')::integer else p.seats end,
      contact_sales = case when p_fields ? 'contact_sales'
                           then (p_fields ->> 'contact_sales')::boolean else p.contact_sales end,
      active = case when p_fields ? 'active' then (p_fields ->> 'active')::boolean
                    else p.active end,
      sort_order = case when p_fields ? 'sort_order' then (p_fields ->> 'sort_order')::integer
                        else p.sort_order end
     where p.id = p_plan_id
    returning * into v_plan;
    if not found then
      raise exception 'no plan %', p_plan_id using errcode = 'P0002';
    end if;
  end if;
  insert into private.audit_log (action, entity, entity_id, details)
  values (case when p_create then 'admin.create_plan' else 'admin.update_plan' end, 'plan',
          p_plan_id, jsonb_build_object('actor', p_actor, 'fields', p_fields, 'reason', p_reason));
  return pg_catalog.to_jsonb(v_plan);
end;
$$;
revoke all on function private.admin_upsert_plan(uuid, text, boolean, jsonb, text)
  from public, anon, authenticated;
grant execute on function private.admin_upsert_plan(uuid, text, boolean, jsonb, text)
  to service_role;

-- One page of tenants (companies and personal accounts) matching `p_search` (name, email or id),
-- newest first, with their plan, balance, seats, this month's usage, files, storage and last
-- activity. The aggregates run for the page's rows only. A personal account's workbenches are
-- those it owns outside any company.
create function private.admin_tenants(p_search text, p_limit integer, p_offset integer)
returns setof jsonb
language sql
stable
security definer
set search_path = ''
as $$
  with tenants as (
    select 'company'::text as kind, c.id, c.name::text as name, null::text as email, c.created_at
      from public.company c
    union all
    select 'user', u.id, p.full_name::text, u.email::text, u.created_at
      from auth.users u
      left join public.profiles p on p.id = u.id
  ),
  page as (
    select t.* from tenants t
     where coalesce(p_search, '') = ''
        -- A substring, case-insensitive; `%` and `_` in the search are plain characters.
        or strpos(lower(t.name), lower(p_search)) > 0
        or strpos(lower(t.email), lower(p_search)) > 0
        or t.id::text = p_search
     order by t.created_at desc, t.id
     limit p_limit offset p_offset
  )
  select jsonb_build_object(
    'id', pg.id, 'kind', pg.kind, 'name', pg.name, 'email', pg.email,
    'created_at', pg.created_at,
    'suspended', s.reason is not null, 'suspension_reason', s.reason,
    'wallet_user_id', w.user_id, 'plan_id', w.plan_id, 'balance', w.balance, 'seats', w.seats,
    'members', case when pg.kind = 'company'
                    then (select count(*) from public.company_members m
                           where m.company_id = pg.id) end,
    'workbenches', pg_catalog.cardinality(wbs.ids),
    'files', f.files, 'storage_bytes', f.bytes,
    'usage_month', jsonb_build_object(
      'credits_spent', coalesce((select -sum(u.amount) from public.wallet_usage u
                                  where pg.kind = 'user' and u.user_id = pg.id and u.amount < 0
                                    and u.created_at >= date_trunc('month', now())), 0),
      'chat_answers', (select count(*) from public.chat_session cs
                         join public.message m on m.session_id = cs.id
                        where cs.workbench_id = any (wbs.ids) and m.role = 'assistant'
                          and m.created_at >= date_trunc('month', now())),
      'reports', (select count(*) from public.reports r
                   where r.workbench_id = any (wbs.ids)
                     and r.created_at >= date_trunc('month', now()))),
    'last_activity_at', greatest(
      f.last_at,
      (select max(cs.last_message_at) from public.chat_session cs
        where cs.workbench_id = any (wbs.ids)),
      (select max(r.created_at) from public.reports r where r.workbench_id = any (wbs.ids)),
      (select u.last_sign_in_at from auth.users u where u.id = pg.id)))
  from page pg
  left join private.tenant_suspensions s on s.tenant_id = pg.id
  left join public.wallet w on w.user_id = private.tenant_wallet_user(pg.id)
  cross join lateral (
    select array(select b.id from public.workbench b
                  where (pg.kind = 'company' and b.company_id = pg.id)
                     or (pg.kind = 'user' and b.company_id is null and b.owner_user_id = pg.id))
      as ids
  ) wbs
  cross join lateral (
    select count(*) as files, coalesce(sum(fl.size_bytes), 0) as bytes,
           max(fl.created_at) as last_at
      from public.workbench_files fl where fl.workbench_id = any (wbs.ids)
  ) f
  order by pg.created_at desc, pg.id
$$;
revoke all on function private.admin_tenants(text, integer, integer)
  from public, anon, authenticated;
grant execute on function private.admin_tenants(text, integer, integer) to service_role;

-- A tenant's failed files and report jobs, for support: names, states and error messages, never
-- contents (no chunks, messages, narratives or KPIs).
create function private.admin_tenant_failures(p_tenant_id uuid, p_limit integer)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  with wbs as (
    select b.id from public.workbench b
     where b.company_id = p_tenant_id
        or (b.company_id is null and b.owner_user_id = p_tenant_id)
  )
  select jsonb_build_object(
    'files', coalesce((select jsonb_agg(x order by x.updated_at desc) from (
      select f.id, f.workbench_id, f.file_name, f.file_type, f.size_bytes, f.status,
             f.error_message, f.attempts, f.updated_at
        from public.workbench_files f
       where f.workbench_id in (select id from wbs) and f.status = 'error'
       order by f.updated_at desc limit p_limit) x), '[]'::jsonb),
    'reports', coalesce((select jsonb_agg(x order by x.updated_at desc) from (
      select r.id, r.workbench_id, r.report_type, r.status, r.stage, r.error_message, r.attempts,
             r.updated_at
        from public.reports r
       where r.workbench_id in (select id from wbs) and r.status = 'failed'
       order by r.updated_at desc limit p_limit) x), '[]'::jsonb))
$$;
revoke all on function private.admin_tenant_failures(uuid, integer)
  from public, anon, authenticated;
grant execute on function private.admin_tenant_failures(uuid, integer) to service_role;

------------------------------------------------------------------------------------------------
-- Metrics
------------------------------------------------------------------------------------------------

-- Counts of events that leave no row behind (rate-limit refusals), by name and label.
create table private.metric_counters (
  name text not null,
  label text not null,
  value bigint not null default 0,
  primary key (name, label)
);
revoke all on private.metric_counters from public, anon, authenticated;
grant select, insert, update on private.metric_counters to service_role;

-- Adds one to a counter.
create function private.bump_metric(p_name text, p_label text) returns void
language sql
security definer
set search_path = ''
as $$
  insert into private.metric_counters as c (name, label, value) values (p_name, p_label, 1)
  on conflict (name, label) do update set value = c.value + 1
$$;
revoke all on function private.bump_metric(text, text) from public, anon, authenticated;
grant execute on function private.bump_metric(text, text) to service_role;

-- The chat answer latency buckets (seconds) of aw_chat_answer_seconds.
insert into private.settings (key, value)
values ('metrics_chat_latency_buckets', '[0.5, 1, 2, 5, 10, 20, 30, 60]')
on conflict (key) do nothing;

-- Every series the `metrics` function exposes, one row per sample: name, labels, value. One
-- statement; each part reads an index or a small table. Chat latency is an answer's created_at
-- minus the question's (the user message start_chat_turn writes before the model is asked).
create function private.metrics()
returns table (name text, labels jsonb, value double precision)
language sql
stable
security definer
set search_path = ''
as $$
  with answers as (
    select extract(epoch from (a.created_at - q.created_at)) as seconds
      from public.message a
      cross join lateral (
        select m.created_at from public.message m
         where m.session_id = a.session_id and m.role = 'user' and m.created_at <= a.created_at
         order by m.created_at desc limit 1) q
     where a.role = 'assistant' and a.status = 'complete'
  ),
  buckets as (
    select (b #>> '{}')::double precision as le
      from private.settings s, jsonb_array_elements(s.value) b
     where s.key = 'metrics_chat_latency_buckets'
  )
  select 'aw_files', jsonb_build_object('status', f.status), count(*)::double precision
    from public.workbench_files f group by f.status
  union all
  select 'aw_file_bytes', '{}'::jsonb, coalesce(sum(f.size_bytes), 0)::double precision
    from public.workbench_files f
  union all
  select 'aw_queue_depth', jsonb_build_object('queue', q.name), (pgmq.metrics(q.name)).queue_length
    from unnest(array['file_index', 'report_jobs', 'storage_gc']) q(name)
  union all
  select 'aw_queue_oldest_age_seconds', jsonb_build_object('queue', q.name),
         coalesce((pgmq.metrics(q.name)).oldest_msg_age_sec, 0)
    from unnest(array['file_index', 'report_jobs', 'storage_gc']) q(name)
  union all
  select 'aw_worker_attempts_total', jsonb_build_object('worker', 'index-worker'),
         coalesce(sum(f.attempts), 0)::double precision from public.workbench_files f
  union all
  select 'aw_worker_attempts_total', jsonb_build_object('worker', 'report-worker'),
         coalesce(sum(r.attempts), 0)::double precision from public.reports r
  union all
  select 'aw_worker_failures', jsonb_build_object('worker', 'index-worker', 'reason',
           left(split_part(f.error_message, ':', 1), 60)), count(*)::double precision
    from public.workbench_files f where f.status = 'error' group by 2
  union all
  select 'aw_worker_failures', jsonb_build_object('worker', 'report-worker', 'reason',
           left(split_part(r.error_message, ':', 1), 60)), count(*)::double precision
    from public.reports r where r.status = 'failed' group by 2
  union all
  select 'aw_reports', jsonb_build_object('status', r.status), count(*)::double precision
    from public.reports r group by r.status
  union all
  select 'aw_chat_answers_total', jsonb_build_object('status', m.status), count(*)::double precision
    from public.message m where m.role = 'assistant' group by m.status
  union all
  select 'aw_chat_answer_seconds_bucket', jsonb_build_object('le', b.le::text),
         (select count(*) from answers a where a.seconds <= b.le)::double precision
    from buckets b
  union all
  select 'aw_chat_answer_seconds_bucket', jsonb_build_object('le', '+Inf'),
         count(*)::double precision from answers
  union all
  select 'aw_chat_answer_seconds_sum', '{}'::jsonb, coalesce(sum(seconds), 0) from answers
  union all
  select 'aw_chat_answer_seconds_count', '{}'::jsonb, count(*)::double precision from answers
  union all
  select 'aw_credits_granted_total', jsonb_build_object('reason', u.reason),
         sum(u.amount)::double precision
    from public.wallet_usage u where u.amount > 0 group by u.reason
  union all
  select 'aw_credits_spent_total', jsonb_build_object('reason', u.reason),
         (-sum(u.amount))::double precision
    from public.wallet_usage u where u.amount < 0 group by u.reason
  union all
  select 'aw_webhook_events_total', jsonb_build_object('provider', 'razorpay', 'outcome', e.outcome),
         count(*)::double precision
    from private.razorpay_events e group by e.outcome
  union all
  select 'aw_webhook_events_total', jsonb_build_object('provider', 'stripe', 'outcome', e.outcome),
         count(*)::double precision
    from private.stripe_events e group by e.outcome
  union all
  select 'aw_channel_messages', jsonb_build_object('direction', m.direction, 'status', m.status),
         count(*)::double precision
    from public.channel_messages m group by m.direction, m.status
  union all
  select 'aw_rate_limit_refusals_total', jsonb_build_object('scope', c.label),
         c.value::double precision
    from private.metric_counters c where c.name = 'rate_limit_refusals'
  union all
  select 'aw_tenants_suspended', jsonb_build_object('kind', s.tenant_kind), count(*)::double precision
    from private.tenant_suspensions s group by s.tenant_kind
$$;
revoke all on function private.metrics() from public, anon, authenticated;
grant execute on function private.metrics() to service_role;
