-- Profiles, plans and the credit wallet.
--
-- Every auth user gets a profile, a wallet (with the configurable signup grant, written to the
-- ledger) and a chat counter, created by a trigger on auth.users. Credits change only inside the
-- SECURITY DEFINER functions below, each in one transaction: wallet.balance >= 0 is a CHECK, every
-- change appends a wallet_usage row, and idempotency is the ledger's UNIQUE (reason, reference_id).
-- Clients can read their own rows and nothing else; they write none of these tables.
-- Independent of pgvector (applies to a plain Postgres).

-- Settings the database reads (signup grant, bundle size).
create table private.settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
insert into private.settings (key, value) values
  ('signup_grant_credits', '10'),
  ('chat_answers_per_credit', '10')
on conflict (key) do nothing;

create function private.setting_int(p_key text, p_default integer) returns integer
language sql stable
set search_path = ''
as $$
  select coalesce((select (s.value #>> '{}')::integer from private.settings s where s.key = p_key),
                  p_default)
$$;

-- Audit trail for money and admin actions (read by admins in Studio).
create table private.audit_log (
  id bigint generated always as identity primary key,
  actor text not null default coalesce(
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub', current_user),
  action text not null,
  entity text not null,
  entity_id text,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
create index audit_log_entity_idx on private.audit_log (entity, entity_id);

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  full_name text check (char_length(full_name) <= 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.plans (
  id text primary key,
  name text not null,
  description text not null default '',
  price_paise integer check (price_paise is null or price_paise > 0),
  currency text not null default 'INR',
  credits integer not null default 0 check (credits >= 0),
  seats integer not null default 0 check (seats >= 0),
  contact_sales boolean not null default false,
  active boolean not null default true,
  sort_order integer not null default 0,
  check (contact_sales or price_paise is not null)
);

create table public.wallet (
  user_id uuid primary key references auth.users (id) on delete cascade,
  balance integer not null default 0 check (balance >= 0),
  plan_id text references public.plans (id),
  seats integer not null default 1 check (seats >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.wallet_counters (
  user_id uuid primary key references auth.users (id) on delete cascade,
  chat_inference_counter integer not null default 0 check (chat_inference_counter >= 0),
  updated_at timestamptz not null default now()
);

create table public.wallet_usage (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  amount integer not null,
  balance_after integer not null check (balance_after >= 0),
  reason text not null check (reason in (
    'signup_grant', 'purchase', 'chat_bundle', 'report', 'report_refund', 'admin_grant',
    'payment_refund', 'grant', 'spend')),
  reference_id text not null,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  unique (reason, reference_id)
);
create index wallet_usage_user_idx on public.wallet_usage (user_id, created_at desc);

-- Answers already counted, so a retried request never counts twice.
create table private.chat_inferences (
  message_id text primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  counted_at timestamptz not null default now()
);

create table public.payments (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  plan_id text not null references public.plans (id),
  razorpay_order_id text not null unique,
  razorpay_payment_id text unique,
  amount_paise integer not null check (amount_paise > 0),
  currency text not null default 'INR',
  status text not null default 'created' check (status in ('created', 'paid', 'failed', 'refunded')),
  credits_granted integer not null default 0,
  seats_granted integer not null default 0,
  -- The wallet's plan before this payment, restored if the payment is refunded.
  previous_plan_id text references public.plans (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  refunded_at timestamptz
);
create index payments_user_idx on public.payments (user_id, created_at desc);

-- The ledger is append-only.
create function private.forbid_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Deleting a user (GDPR erasure, Studio) cascades to their ledger; nothing else may.
  if tg_op = 'DELETE' and not exists (select 1 from auth.users u where u.id = old.user_id) then
    return old;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end;
$$;
create trigger wallet_usage_append_only before update or delete on public.wallet_usage
  for each row execute function private.forbid_change();

-- Privileges: revoke by default, grant reads explicitly. Writes happen in the functions below.
revoke all on public.profiles, public.plans, public.wallet, public.wallet_counters,
  public.wallet_usage, public.payments from anon, authenticated;
grant select on public.plans to anon, authenticated;
grant select on public.profiles, public.wallet, public.wallet_counters, public.wallet_usage,
  public.payments to authenticated;
grant update (full_name) on public.profiles to authenticated;
revoke all on all tables in schema private from anon, authenticated;

alter table public.profiles enable row level security;
alter table public.plans enable row level security;
alter table public.wallet enable row level security;
alter table public.wallet_counters enable row level security;
alter table public.wallet_usage enable row level security;
alter table public.payments enable row level security;

create policy "plans are public" on public.plans for select to anon, authenticated using (active);
create policy "own profile" on public.profiles for select to authenticated
  using (id = (select auth.uid()));
create policy "update own profile" on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy "own wallet" on public.wallet for select to authenticated
  using (user_id = (select auth.uid()));
create policy "own counters" on public.wallet_counters for select to authenticated
  using (user_id = (select auth.uid()));
create policy "own ledger" on public.wallet_usage for select to authenticated
  using (user_id = (select auth.uid()));
create policy "own payments" on public.payments for select to authenticated
  using (user_id = (select auth.uid()));

------------------------------------------------------------------------------------------------
-- Ledger core: one function moves credits; everything else calls it.
------------------------------------------------------------------------------------------------

-- Applies `amount` (positive = credit, negative = debit) once per (reason, reference_id).
-- Returns {applied, balance, amount}. A debit larger than the balance raises insufficient_credits
-- (SQLSTATE PT402, which PostgREST also maps to HTTP 402).
create function private.apply_ledger(
  p_user_id uuid,
  p_amount integer,
  p_reason text,
  p_reference_id text,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_balance integer;
  v_existing public.wallet_usage;
begin
  if p_reference_id is null or p_reference_id = '' then
    raise exception 'a reference id is required' using errcode = '22023';
  end if;
  -- Lock the wallet row: concurrent changes to one wallet run one after the other.
  select w.balance into v_balance from public.wallet w where w.user_id = p_user_id for update;
  if not found then
    raise exception 'no wallet for user %', p_user_id using errcode = 'P0002';
  end if;

  select * into v_existing from public.wallet_usage u
   where u.reason = p_reason and u.reference_id = p_reference_id;
  if found then
    if v_existing.user_id <> p_user_id then
      raise exception 'reference % is already used by another wallet', p_reference_id
        using errcode = '23505';
    end if;
    return jsonb_build_object('applied', false, 'balance', v_balance, 'amount', v_existing.amount);
  end if;

  if v_balance + p_amount < 0 then
    raise exception 'insufficient_credits'
      using errcode = 'PT402',
            detail = format('balance %s, needed %s', v_balance, -p_amount);
  end if;

  update public.wallet set balance = balance + p_amount, updated_at = now()
   where user_id = p_user_id
  returning balance into v_balance;
  insert into public.wallet_usage (user_id, amount, balance_after, reason, reference_id, metadata)
  values (p_user_id, p_amount, v_balance, p_reason, p_reference_id, coalesce(p_metadata, '{}'));
  return jsonb_build_object('applied', true, 'balance', v_balance, 'amount', p_amount);
end;
$$;

-- Grant credits, idempotent by (reason, reference_id).
create function private.grant_credits(
  p_user_id uuid,
  p_amount integer,
  p_reason text,
  p_reference_id text,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'a grant must be positive' using errcode = '22023';
  end if;
  return private.apply_ledger(p_user_id, p_amount, p_reason, p_reference_id, p_metadata);
end;
$$;

-- Spend credits atomically, idempotent by (reason, reference_id); raises insufficient_credits.
create function private.spend_credits(
  p_user_id uuid,
  p_amount integer,
  p_reason text,
  p_reference_id text,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'a spend must be positive' using errcode = '22023';
  end if;
  return private.apply_ledger(p_user_id, -p_amount, p_reason, p_reference_id, p_metadata);
end;
$$;

-- Whether the user's next chat answer can be paid for: true unless it would complete a bundle
-- that the balance cannot cover.
create function private.can_afford_chat(p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select c.chat_inference_counter + 1 < private.setting_int('chat_answers_per_credit', 10)
            or w.balance >= 1
       from public.wallet w
       left join public.wallet_counters c on c.user_id = w.user_id
      where w.user_id = p_user_id),
    false)
$$;

-- Counts one chat answer (once per message id). The answer that completes a bundle deducts one
-- credit, resets the counter and writes a chat_bundle ledger row, all or nothing; when the balance
-- cannot cover it, raises insufficient_credits and counts nothing.
-- Returns {counted, counter, charged, balance}.
create function private.record_chat_inference(p_user_id uuid, p_message_id text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_bundle integer := private.setting_int('chat_answers_per_credit', 10);
  v_counter integer;
  v_balance integer;
  v_charged boolean := false;
begin
  -- Lock the wallet first (same order as apply_ledger), then the counter.
  select w.balance into v_balance from public.wallet w where w.user_id = p_user_id for update;
  if not found then
    raise exception 'no wallet for user %', p_user_id using errcode = 'P0002';
  end if;
  insert into public.wallet_counters (user_id) values (p_user_id) on conflict do nothing;
  select c.chat_inference_counter into v_counter
    from public.wallet_counters c where c.user_id = p_user_id for update;

  insert into private.chat_inferences (message_id, user_id) values (p_message_id, p_user_id)
  on conflict do nothing;
  if not found then
    if not exists (select 1 from private.chat_inferences i
                    where i.message_id = p_message_id and i.user_id = p_user_id) then
      raise exception 'message % belongs to another user', p_message_id using errcode = '23505';
    end if;
    return jsonb_build_object('counted', false, 'counter', v_counter, 'charged', false,
                              'balance', v_balance);
  end if;

  v_counter := v_counter + 1;
  if v_counter >= v_bundle then
    v_balance := (private.apply_ledger(p_user_id, -1, 'chat_bundle', p_message_id,
                  jsonb_build_object('answers', v_bundle)) ->> 'balance')::integer;
    v_counter := 0;
    v_charged := true;
  end if;
  update public.wallet_counters set chat_inference_counter = v_counter, updated_at = now()
   where user_id = p_user_id;
  return jsonb_build_object('counted', true, 'counter', v_counter, 'charged', v_charged,
                            'balance', v_balance);
end;
$$;

-- Charge one report per (user, idempotency key); refunding it later is also once only.
create function private.charge_report(
  p_user_id uuid,
  p_idempotency_key text,
  p_cost integer default 1,
  p_metadata jsonb default '{}'::jsonb
) returns jsonb
language sql
security definer
set search_path = ''
as $$
  select private.spend_credits(p_user_id, p_cost, 'report', p_user_id || ':' || p_idempotency_key,
                               p_metadata)
$$;

create function private.refund_report(p_user_id uuid, p_idempotency_key text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_charge public.wallet_usage;
begin
  select * into v_charge from public.wallet_usage u
   where u.reason = 'report' and u.reference_id = p_user_id || ':' || p_idempotency_key;
  if not found then
    raise exception 'no report charge for key %', p_idempotency_key using errcode = 'P0002';
  end if;
  return private.apply_ledger(p_user_id, -v_charge.amount, 'report_refund', v_charge.reference_id,
                              jsonb_build_object('charge_id', v_charge.id));
end;
$$;

-- Applies a captured Razorpay payment once per payment id, whichever of the webhook events or the
-- checkout verification arrives first: marks the order paid (never moves it back), grants the
-- plan's credits, records the plan and adds its seats. Returns {applied, balance, credits}.
create function private.apply_payment(
  p_order_id text,
  p_payment_id text,
  p_amount_paise integer default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment public.payments;
  v_plan public.plans;
  v_result jsonb;
begin
  select * into v_payment from public.payments p where p.razorpay_order_id = p_order_id for update;
  if not found then
    raise exception 'unknown order %', p_order_id using errcode = 'P0002';
  end if;
  if v_payment.razorpay_payment_id is not null and v_payment.razorpay_payment_id <> p_payment_id then
    raise exception 'order % is already paid by payment %', p_order_id, v_payment.razorpay_payment_id
      using errcode = '23505';
  end if;
  if p_amount_paise is not null and p_amount_paise <> v_payment.amount_paise then
    raise exception 'amount % does not match the order amount %', p_amount_paise,
      v_payment.amount_paise using errcode = '22023';
  end if;
  select * into v_plan from public.plans where id = v_payment.plan_id;

  -- Refunded before it was applied (events can arrive in any order): grant nothing.
  if v_payment.status = 'refunded' then
    return jsonb_build_object('applied', false, 'refunded', true, 'credits', 0,
                              'user_id', v_payment.user_id);
  end if;

  v_result := private.apply_ledger(v_payment.user_id, v_plan.credits, 'purchase', p_payment_id,
    jsonb_build_object('order_id', p_order_id, 'plan_id', v_plan.id));
  if (v_result ->> 'applied')::boolean then
    update public.payments p
       set razorpay_payment_id = p_payment_id,
           status = 'paid',
           credits_granted = v_plan.credits,
           seats_granted = v_plan.seats,
           previous_plan_id = (select w.plan_id from public.wallet w where w.user_id = p.user_id),
           paid_at = coalesce(paid_at, now()),
           updated_at = now()
     where id = v_payment.id;
    update public.wallet
       set plan_id = v_plan.id, seats = seats + v_plan.seats, updated_at = now()
     where user_id = v_payment.user_id;
    insert into private.audit_log (action, entity, entity_id, details)
    values ('payment.applied', 'payments', v_payment.id::text,
            jsonb_build_object('order_id', p_order_id, 'payment_id', p_payment_id,
                               'credits', v_plan.credits));
  end if;
  return v_result || jsonb_build_object('credits', v_plan.credits, 'user_id', v_payment.user_id);
end;
$$;

-- Marks an order failed unless it is already paid (a paid order never moves back).
create function private.mark_payment_failed(p_order_id text) returns boolean
language sql
security definer
set search_path = ''
as $$
  with u as (
    update public.payments set status = 'failed', updated_at = now()
     where razorpay_order_id = p_order_id and status = 'created'
    returning 1)
  select exists (select 1 from u)
$$;

-- Claws back a refunded payment once: takes back what the balance still holds (never below 0),
-- records the shortfall in the ledger row's metadata, removes the seats the payment added and
-- restores the previous plan. A refund that arrives before the payment was applied (found by its
-- order) marks the order refunded, so the late capture grants nothing.
create function private.claw_back_payment(p_payment_id text, p_order_id text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment public.payments;
  v_balance integer;
  v_take integer;
  v_result jsonb;
begin
  select * into v_payment from public.payments p
   where p.razorpay_payment_id = p_payment_id
      or (p.razorpay_order_id = p_order_id and p.razorpay_payment_id is null)
   order by (p.razorpay_payment_id = p_payment_id) desc nulls last
   limit 1
   for update;
  if not found then
    raise exception 'unknown payment %', p_payment_id using errcode = 'P0002';
  end if;
  select w.balance into v_balance from public.wallet w where w.user_id = v_payment.user_id
     for update;
  if exists (select 1 from public.wallet_usage u
              where u.reason = 'payment_refund' and u.reference_id = p_payment_id) then
    return jsonb_build_object('applied', false, 'balance', v_balance);
  end if;

  if v_payment.status <> 'paid' then
    -- Not applied yet: nothing to take back, but the order must never pay out now.
    update public.payments
       set status = 'refunded', razorpay_payment_id = p_payment_id, refunded_at = now(),
           updated_at = now()
     where id = v_payment.id;
    v_result := private.apply_ledger(v_payment.user_id, 0, 'payment_refund', p_payment_id,
      jsonb_build_object('before_capture', true));
    insert into private.audit_log (action, entity, entity_id, details)
    values ('payment.refunded_before_capture', 'payments', v_payment.id::text,
            jsonb_build_object('payment_id', p_payment_id));
    return v_result || jsonb_build_object('shortfall', 0);
  end if;

  v_take := least(v_balance, v_payment.credits_granted);
  v_result := private.apply_ledger(v_payment.user_id, -v_take, 'payment_refund', p_payment_id,
    jsonb_build_object('credits_granted', v_payment.credits_granted,
                       'shortfall', v_payment.credits_granted - v_take));
  update public.payments set status = 'refunded', refunded_at = now(), updated_at = now()
   where id = v_payment.id;
  update public.wallet w
     set seats = greatest(1, w.seats - v_payment.seats_granted),
         plan_id = case when w.plan_id = v_payment.plan_id then v_payment.previous_plan_id
                        else w.plan_id end,
         updated_at = now()
   where w.user_id = v_payment.user_id;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('payment.refunded', 'payments', v_payment.id::text,
          jsonb_build_object('payment_id', p_payment_id, 'taken', v_take,
                             'shortfall', v_payment.credits_granted - v_take));
  return v_result || jsonb_build_object('shortfall', v_payment.credits_granted - v_take);
end;
$$;

------------------------------------------------------------------------------------------------
-- Admin RPCs (enterprise deals): service_role only, e.g. from Studio.
------------------------------------------------------------------------------------------------

create function public.admin_grant_credits(
  p_user_id uuid,
  p_credits integer,
  p_reference_id text,
  p_note text default ''
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  v_result := private.grant_credits(p_user_id, p_credits, 'admin_grant', p_reference_id,
                                    jsonb_build_object('note', p_note));
  insert into private.audit_log (action, entity, entity_id, details)
  values ('admin.grant_credits', 'wallet', p_user_id::text,
          jsonb_build_object('credits', p_credits, 'reference_id', p_reference_id, 'note', p_note,
                             'applied', v_result -> 'applied'));
  return v_result;
end;
$$;

create function public.admin_set_plan(p_user_id uuid, p_plan_id text, p_seats integer)
returns public.wallet
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_wallet public.wallet;
begin
  update public.wallet set plan_id = p_plan_id, seats = p_seats, updated_at = now()
   where user_id = p_user_id
  returning * into v_wallet;
  if not found then
    raise exception 'no wallet for user %', p_user_id using errcode = 'P0002';
  end if;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('admin.set_plan', 'wallet', p_user_id::text,
          jsonb_build_object('plan_id', p_plan_id, 'seats', p_seats));
  return v_wallet;
end;
$$;

------------------------------------------------------------------------------------------------
-- New users: profile, wallet with the signup grant (in the ledger), counter.
------------------------------------------------------------------------------------------------

create function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_grant integer := private.setting_int('signup_grant_credits', 0);
begin
  insert into public.profiles (id, email, full_name)
  values (new.id, new.email, new.raw_user_meta_data ->> 'full_name')
  on conflict (id) do nothing;
  insert into public.wallet (user_id) values (new.id) on conflict (user_id) do nothing;
  insert into public.wallet_counters (user_id) values (new.id) on conflict (user_id) do nothing;
  if v_grant > 0 then
    perform private.grant_credits(new.id, v_grant, 'signup_grant', new.id::text);
  end if;
  return new;
end;
$$;

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

-- Execute: nobody by default; the service role calls the private functions, the admin RPCs are
-- service_role only.
revoke all on all functions in schema private from public, anon, authenticated;
grant execute on all functions in schema private to service_role;
revoke all on function public.admin_grant_credits(uuid, integer, text, text),
  public.admin_set_plan(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.admin_grant_credits(uuid, integer, text, text),
  public.admin_set_plan(uuid, text, integer) to service_role;
grant select, insert, update on all tables in schema private to service_role;
