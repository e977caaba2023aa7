-- Wallet and payments: profiles, plans, the credit ledger, Razorpay payments and their webhook
-- events, reconciliation and the admin RPCs.
--
-- Every auth user gets a profile, a wallet (with the configurable signup grant, written to the
-- ledger) and a chat counter, created by a trigger on auth.users; every company gets a wallet of
-- its own (the tenancy migration), which pays for the usage on its workbenches and which its
-- Stripe purchases credit (docs/billing.md). Credits change only inside the SECURITY DEFINER
-- functions below, each in one transaction: wallet.balance >= 0 is a CHECK, every change appends a
-- wallet_usage row, and idempotency is the ledger's UNIQUE (reason, reference_id). Clients can read
-- their own rows (and their companies' wallets) and nothing else; they write none of these tables.
--
-- Payments (what the `checkout` and `webhooks` functions need):
-- * private.apply_payment credits a captured payment once per payment id, whichever of the webhook
--   events or the checkout verification arrives first; private.claw_back_payment takes a refunded
--   payment back once (never below zero).
-- * `private.razorpay_events`: every verified webhook event once, keyed by Razorpay's
--   `x-razorpay-event-id`, with its payload and what it did (audit and replay).
--   private.handle_razorpay_event records an event and applies it in the same transaction, so
--   the webhook is one SQL statement and a retried delivery changes nothing.
-- * Refunds are per payment, not per order. One order can be paid by more than one Razorpay
--   payment (a customer who pays twice); only one of them credits (the order's
--   `razorpay_payment_id`), the others are `paid_by_other_payment` and left to a person, who
--   refunds them; their refund is recorded as `refund_of_other_payment` and takes nothing back. A
--   refund before any capture blocks only that payment id (a zero `payment_refund` ledger row),
--   so another payment of the order still credits once. `refund.failed` is recorded
--   (`refund_failed`: a person restores the credits with admin_grant_credits or refunds again);
--   credits are not restored automatically, because a restore must undo exactly one claw-back
--   across events that arrive in any order, and getting that wrong gives credits away.
-- * The plan after a refund: a refund that takes away the wallet's current plan sets the plan of
--   the latest purchase still paid, or none; each refund takes back exactly the seats its payment
--   added (never below the base seat). A plan an admin set since (admin_set_plan) is left alone.
-- * Reconciliation: orders whose webhook never came. A pg_cron job kicks `webhooks/reconcile`
--   through pg_net (as the workers are kicked) when an order is due; the route asks Razorpay for
--   the order's payments and applies captured ones through the same RPC. Orders still `created`
--   after `payment_order_expiry_hours` (72) are marked `expired`.

-- The signup grant, and how many chat answers one credit pays for.
insert into private.settings (key, value) values
  ('signup_grant_credits', '10'),
  ('chat_answers_per_credit', '10')
on conflict (key) do nothing;

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  full_name private.name_text,
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
  -- What the plan allows (seed 002): seats, workbenches, stored_bytes, files_per_workbench,
  -- chat_answers_month, reports_month. -1 or a missing key is unlimited. Without a plan a wallet
  -- has the `free_plan_limits` setting's limits. Enforced by private.check_plan_limit.
  limits jsonb not null default '{}'::jsonb check (jsonb_typeof(limits) = 'object'),
  check (contact_sales or price_paise is not null)
);

-- A wallet is a user's (personal) or a company's: `user_id` is the wallet's key, the user's id
-- or, for a company wallet, the company's id (`company_id` set; its foreign key is added by the
-- tenancy migration, which creates the company wallet with the company). `person_id` carries the
-- foreign key to auth.users for personal wallets, so deleting a user (or a company) removes its
-- wallet, and the ledger rows follow the wallet.
create table public.wallet (
  user_id uuid primary key,
  company_id uuid unique check (company_id is null or company_id = user_id),
  person_id uuid generated always as (case when company_id is null then user_id end) stored
    references auth.users (id) on delete cascade,
  balance integer not null default 0 check (balance >= 0),
  plan_id text references public.plans (id),
  seats integer not null default 1 check (seats >= 1),
  -- An enterprise deal's own limits (public.admin_grant_enterprise); null = the plan's.
  custom_limits jsonb check (custom_limits is null or jsonb_typeof(custom_limits) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.wallet_counters (
  user_id uuid primary key references public.wallet (user_id) on delete cascade,
  chat_inference_counter integer not null default 0 check (chat_inference_counter >= 0),
  updated_at timestamptz not null default now()
);

create table public.wallet_usage (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.wallet (user_id) on delete cascade,
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
  -- The wallet that paid (a company's for answers on its workbenches).
  user_id uuid not null references public.wallet (user_id) on delete cascade,
  counted_at timestamptz not null default now()
);
-- The monthly count of a wallet's answers (plan limit chat_answers_month).
create index chat_inferences_user_idx on private.chat_inferences (user_id, counted_at);
revoke all on private.chat_inferences from public, anon, authenticated;
grant select, insert, update on private.chat_inferences to service_role;

create table public.payments (
  id uuid primary key default gen_random_uuid(),
  -- The buyer; for a company purchase `company_id` is set and the company's wallet is credited.
  user_id uuid not null references auth.users (id) on delete cascade,
  company_id uuid,
  plan_id text not null references public.plans (id),
  razorpay_order_id text not null unique,
  razorpay_payment_id text unique,
  amount_paise integer not null check (amount_paise > 0),
  currency text not null default 'INR',
  status text not null default 'created'
    check (status in ('created', 'paid', 'failed', 'refunded', 'expired')),
  credits_granted integer not null default 0,
  seats_granted integer not null default 0,
  -- The wallet's plan before this payment.
  previous_plan_id text references public.plans (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  refunded_at timestamptz,
  receipt text unique,
  -- When reconciliation last asked Razorpay about the order.
  reconciled_at timestamptz
);
create index payments_user_idx on public.payments (user_id, created_at desc);
create index payments_open_idx on public.payments (created_at)
  where status in ('created', 'failed');

-- The ledger is append-only.
create function private.forbid_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Deleting a user (GDPR erasure, Studio) or a company removes its wallet, which cascades to
  -- its ledger; nothing else may.
  if tg_op = 'DELETE' and not exists (select 1 from public.wallet w where w.user_id = old.user_id)
  then
    return old;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end;
$$;
revoke all on function private.forbid_change() from public, anon, authenticated;
grant execute on function private.forbid_change() to service_role;
create trigger wallet_usage_append_only before update or delete on public.wallet_usage
  for each row execute function private.forbid_change();

-- Privileges: revoke by default, grant reads explicitly. Writes happen in the functions below.
revoke all on public.profiles, public.plans, public.wallet, public.wallet_counters,
  public.wallet_usage, public.payments from anon, authenticated;
grant select on public.plans to anon, authenticated;
grant select on public.profiles, public.wallet, public.wallet_counters, public.wallet_usage,
  public.payments to authenticated;
grant update (full_name) on public.profiles to authenticated;

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
revoke all on function private.apply_ledger(uuid, integer, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.apply_ledger(uuid, integer, text, text, jsonb) to service_role;

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
revoke all on function private.grant_credits(uuid, integer, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.grant_credits(uuid, integer, text, text, jsonb) to service_role;

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
  -- A suspended account spends nothing (the admin and metrics migration).
  if private.tenant_suspension(p_user_id) is not null then
    raise exception 'tenant_suspended' using errcode = 'PT403';
  end if;
  return private.apply_ledger(p_user_id, -p_amount, p_reason, p_reference_id, p_metadata);
end;
$$;
revoke all on function private.spend_credits(uuid, integer, text, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.spend_credits(uuid, integer, text, text, jsonb) to service_role;

-- Whether the user's next chat answer can be paid for: true unless it would complete a bundle
-- that the balance cannot cover.
create function private.can_afford_chat(p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(
    (select coalesce(c.chat_inference_counter, 0) + 1
              < private.setting_int('chat_answers_per_credit', 10)
            or w.balance >= 1
       from public.wallet w
       left join public.wallet_counters c on c.user_id = w.user_id
      where w.user_id = p_user_id),
    false)
$$;
revoke all on function private.can_afford_chat(uuid) from public, anon, authenticated;
grant execute on function private.can_afford_chat(uuid) to service_role;

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
revoke all on function private.record_chat_inference(uuid, text) from public, anon, authenticated;
grant execute on function private.record_chat_inference(uuid, text) to service_role;

-- Charge one report per (user, idempotency key); refunding it later is also once only. The wallet
-- that pays is the workbench's (private.workbench_wallet: the company's for a company workbench),
-- or the user's without a workbench. A new charge past the plan's `reports_month` (reports charged
-- to that wallet this UTC month, net of refunds) raises plan_limit_reached before anything is
-- charged; the wallet row is locked while counting.
create function private.charge_report(
  p_user_id uuid,
  p_idempotency_key text,
  p_cost integer default 1,
  p_metadata jsonb default '{}'::jsonb,
  p_workbench_id uuid default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_key text := p_user_id || ':' || p_idempotency_key;
  v_wallet uuid := coalesce(private.workbench_wallet(p_workbench_id), p_user_id);
begin
  perform 1 from public.wallet w where w.user_id = v_wallet for update;
  if not exists (select 1 from public.wallet_usage u
                  where u.reason = 'report' and u.reference_id = v_key) then
    perform private.check_plan_limit(v_wallet, 'reports_month',
      (select count(*) from public.wallet_usage u
        where u.user_id = v_wallet and u.reason = 'report'
          and u.created_at >= date_trunc('month', now() at time zone 'UTC') at time zone 'UTC'
          and not exists (select 1 from public.wallet_usage r
                           where r.reason = 'report_refund' and r.reference_id = u.reference_id)));
  end if;
  return private.spend_credits(v_wallet, p_cost, 'report', v_key, p_metadata);
end;
$$;
revoke all on function private.charge_report(uuid, text, integer, jsonb, uuid)
  from public, anon, authenticated;
grant execute on function private.charge_report(uuid, text, integer, jsonb, uuid)
  to service_role;

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
  -- Back to the wallet that paid (a company's for a report on its workbench).
  return private.apply_ledger(v_charge.user_id, -v_charge.amount, 'report_refund',
                              v_charge.reference_id,
                              jsonb_build_object('charge_id', v_charge.id));
end;
$$;
revoke all on function private.refund_report(uuid, text) from public, anon, authenticated;
grant execute on function private.refund_report(uuid, text) to service_role;

------------------------------------------------------------------------------------------------
-- Payments.
------------------------------------------------------------------------------------------------

-- Applies a captured Razorpay payment once per payment id, whichever of the webhook events or the
-- checkout verification arrives first: marks the order paid (never moves it back), grants the
-- plan's credits, records the plan and adds its seats. Returns {applied, balance, credits}. A
-- payment that was refunded (a `payment_refund` ledger row under its id, written by
-- claw_back_payment even before the capture) grants nothing; another payment of the same order
-- still credits once.
--
-- Few statements on the credit path (the webhook acknowledgement bench): the order and its plan
-- are read in one statement (the order row locked), the wallet is locked, the ledger is asked once
-- whether the payment was refunded or already credited, and the ledger write is done here
-- (apply_ledger's steps, inlined) with one wallet update for balance, plan and seats. Locks: the
-- order row, then the wallet row, so concurrent captures, verifies and refunds of one payment run
-- one after the other.
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
  v_payment record;
  v_wallet_id uuid;
  v_wallet record;
  v_has_wallet boolean;
  v_refunded boolean;
  v_credited_to uuid;
  v_credited_amount integer;
  v_balance integer;
begin
  select p.*, pl.credits as plan_credits, pl.seats as plan_seats into v_payment
    from public.payments p join public.plans pl on pl.id = p.plan_id
   where p.razorpay_order_id = p_order_id
     for update of p;
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
  if p_payment_id is null or p_payment_id = '' then
    raise exception 'a reference id is required' using errcode = '22023';
  end if;

  -- The wallet is locked before the ledger is read, as apply_ledger did: the buyer's, or the
  -- company's for a company purchase.
  v_wallet_id := coalesce(v_payment.company_id, v_payment.user_id);
  select w.balance, w.plan_id into v_wallet from public.wallet w
   where w.user_id = v_wallet_id
     for update;
  v_has_wallet := found;

  -- Refunded (a `payment_refund` row, even one written before the capture) or already credited
  -- (a `purchase` row): one look at the ledger under the (reason, reference_id) key.
  select coalesce(bool_or(u.reason = 'payment_refund'), false),
         (array_agg(u.user_id) filter (where u.reason = 'purchase'))[1],
         (array_agg(u.amount) filter (where u.reason = 'purchase'))[1]
    into v_refunded, v_credited_to, v_credited_amount
    from public.wallet_usage u
   where u.reason in ('payment_refund', 'purchase') and u.reference_id = p_payment_id;

  if v_refunded
     or (v_payment.status = 'refunded' and v_payment.razorpay_payment_id = p_payment_id) then
    return jsonb_build_object('applied', false, 'refunded', true, 'credits', 0,
                              'user_id', v_payment.user_id);
  end if;
  if not v_has_wallet then
    raise exception 'no wallet for user %', v_wallet_id using errcode = 'P0002';
  end if;
  if v_credited_to is not null then
    if v_credited_to <> v_wallet_id then
      raise exception 'reference % is already used by another wallet', p_payment_id
        using errcode = '23505';
    end if;
    return jsonb_build_object('applied', false, 'balance', v_wallet.balance,
                              'amount', v_credited_amount,
                              'credits', v_payment.plan_credits, 'user_id', v_payment.user_id);
  end if;
  if v_wallet.balance + v_payment.plan_credits < 0 then
    raise exception 'insufficient_credits'
      using errcode = 'PT402',
            detail = format('balance %s, needed %s', v_wallet.balance, -v_payment.plan_credits);
  end if;

  update public.wallet
     set balance = balance + v_payment.plan_credits,
         plan_id = v_payment.plan_id,
         seats = seats + v_payment.plan_seats,
         updated_at = now()
   where user_id = v_wallet_id
  returning balance into v_balance;
  insert into public.wallet_usage (user_id, amount, balance_after, reason, reference_id, metadata)
  values (v_wallet_id, v_payment.plan_credits, v_balance, 'purchase', p_payment_id,
          jsonb_build_object('order_id', p_order_id, 'plan_id', v_payment.plan_id));
  update public.payments
     set razorpay_payment_id = p_payment_id,
         status = 'paid',
         credits_granted = v_payment.plan_credits,
         seats_granted = v_payment.plan_seats,
         previous_plan_id = v_wallet.plan_id,
         paid_at = coalesce(paid_at, now()),
         updated_at = now()
   where id = v_payment.id;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('payment.applied', 'payments', v_payment.id::text,
          jsonb_build_object('order_id', p_order_id, 'payment_id', p_payment_id,
                             'credits', v_payment.plan_credits));
  return jsonb_build_object('applied', true, 'balance', v_balance,
                            'amount', v_payment.plan_credits,
                            'credits', v_payment.plan_credits, 'user_id', v_payment.user_id);
end;
$$;
revoke all on function private.apply_payment(text, text, integer) from public, anon, authenticated;
grant execute on function private.apply_payment(text, text, integer) to service_role;

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
revoke all on function private.mark_payment_failed(text) from public, anon, authenticated;
grant execute on function private.mark_payment_failed(text) to service_role;

-- Claws back a refunded payment once. Found by its payment id, or by its order (p_order_id) when
-- the payment was not applied:
-- * the order is paid by another payment: nothing to take back → {applied: false, other_payment};
-- * the order has no payment yet (refund before capture): a zero `payment_refund` ledger row under
--   the payment id makes that payment's capture grant nothing; the order is marked refunded but
--   keeps no payment id, so another payment of it still credits → {applied: true, before_capture};
-- * the payment was applied: takes back what the balance still holds (never below 0), records
--   the shortfall in the ledger row's metadata, removes the seats the payment added and, when the
--   wallet's plan is the refunded one, sets the plan of the latest purchase still paid (or none).
-- Raises P0002 only when neither the payment nor the order is known.
create function private.claw_back_payment(p_payment_id text, p_order_id text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_payment public.payments;
  v_wallet_id uuid;
  v_balance integer;
  v_take integer;
  v_result jsonb;
begin
  select * into v_payment from public.payments p
   where p.razorpay_payment_id = p_payment_id or p.razorpay_order_id = p_order_id
   order by (p.razorpay_payment_id = p_payment_id) desc nulls last
   limit 1
   for update;
  if not found then
    raise exception 'unknown payment %', p_payment_id using errcode = 'P0002';
  end if;
  -- The wallet the payment credits: the buyer's, or the company's for a company purchase.
  v_wallet_id := coalesce(v_payment.company_id, v_payment.user_id);
  select w.balance into v_balance from public.wallet w where w.user_id = v_wallet_id
     for update;
  if exists (select 1 from public.wallet_usage u
              where u.reason = 'payment_refund' and u.reference_id = p_payment_id) then
    return jsonb_build_object('applied', false, 'balance', v_balance);
  end if;

  if v_payment.razorpay_payment_id is not null and v_payment.razorpay_payment_id <> p_payment_id then
    -- A duplicate payment of an order another payment paid: it never credited anything.
    return jsonb_build_object('applied', false, 'other_payment', true, 'balance', v_balance);
  end if;

  if v_payment.razorpay_payment_id is null then
    -- Not applied yet: nothing to take back, but this payment must never pay out now.
    update public.payments set status = 'refunded', refunded_at = now(), updated_at = now()
     where id = v_payment.id;
    v_result := private.apply_ledger(v_wallet_id, 0, 'payment_refund', p_payment_id,
      jsonb_build_object('before_capture', true, 'order_id', v_payment.razorpay_order_id));
    insert into private.audit_log (action, entity, entity_id, details)
    values ('payment.refunded_before_capture', 'payments', v_payment.id::text,
            jsonb_build_object('payment_id', p_payment_id));
    return v_result || jsonb_build_object('shortfall', 0, 'before_capture', true);
  end if;

  if v_payment.status <> 'paid' then
    -- Its own payment, refunded without a ledger row (an older refund path): nothing to take.
    return jsonb_build_object('applied', false, 'balance', v_balance);
  end if;

  v_take := least(v_balance, v_payment.credits_granted);
  v_result := private.apply_ledger(v_wallet_id, -v_take, 'payment_refund', p_payment_id,
    jsonb_build_object('credits_granted', v_payment.credits_granted,
                       'shortfall', v_payment.credits_granted - v_take));
  update public.payments set status = 'refunded', refunded_at = now(), updated_at = now()
   where id = v_payment.id;
  update public.wallet w
     set seats = greatest(1, w.seats - v_payment.seats_granted),
         plan_id = case when w.plan_id = v_payment.plan_id then
                          (select p.plan_id from public.payments p
                            where coalesce(p.company_id, p.user_id) = v_wallet_id
                              and p.status = 'paid'
                            order by p.paid_at desc nulls last, p.created_at desc, p.id desc
                            limit 1)
                        else w.plan_id end,
         updated_at = now()
   where w.user_id = v_wallet_id;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('payment.refunded', 'payments', v_payment.id::text,
          jsonb_build_object('payment_id', p_payment_id, 'taken', v_take,
                             'shortfall', v_payment.credits_granted - v_take));
  return v_result || jsonb_build_object('shortfall', v_payment.credits_granted - v_take);
end;
$$;
revoke all on function private.claw_back_payment(text, text) from public, anon, authenticated;
grant execute on function private.claw_back_payment(text, text) to service_role;

create table private.razorpay_events (
  event_id text primary key,
  event_type text not null,
  order_id text,
  payment_id text,
  payload jsonb not null,
  outcome text not null,
  result jsonb not null default '{}'::jsonb,
  received_at timestamptz not null default clock_timestamp()
);
create index razorpay_events_order_idx on private.razorpay_events (order_id);
create index razorpay_events_payment_idx on private.razorpay_events (payment_id);
revoke all on private.razorpay_events from public, anon, authenticated;
-- Written only by handle_razorpay_event (below); an audit trail nobody edits.
grant select on private.razorpay_events to service_role;

-- Records a verified webhook event once and applies it. Returns {outcome, ...}; outcome is one of
-- duplicate, credited, already_credited, refunded_before_capture, amount_mismatch,
-- paid_by_other_payment, marked_failed, not_failed, clawed_back, already_clawed_back,
-- partial_refund, refund_of_other_payment, refund_already_failed, refund_failed,
-- refund_failed_nothing_taken, unknown_payment, unknown_order, malformed, ignored.
create function private.handle_razorpay_event(p_event_id text, p_event text, p_payload jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_pay jsonb := p_payload #> '{payload,payment,entity}';
  v_ord jsonb := p_payload #> '{payload,order,entity}';
  v_ref jsonb := p_payload #> '{payload,refund,entity}';
  v_order_id text := coalesce(v_pay ->> 'order_id', v_ord ->> 'id');
  v_payment_id text := coalesce(v_pay ->> 'id', v_ref ->> 'payment_id');
  v_row public.payments;
  v_amount bigint;
  v_taken integer;
  v_outcome text;
  v_result jsonb := '{}'::jsonb;
begin
  if exists (select 1 from private.razorpay_events e where e.event_id = p_event_id) then
    return jsonb_build_object('outcome', 'duplicate');
  end if;

  if p_event not in ('payment.captured', 'order.paid', 'payment.failed', 'refund.processed',
                     'refund.created', 'refund.failed') then
    v_outcome := 'ignored';
  elsif exists (select 1 from (values (v_pay -> 'amount'), (v_pay -> 'amount_refunded'),
                                      (v_ord -> 'amount_paid'), (v_ref -> 'amount')) a (v)
                 where a.v is not null and a.v <> 'null'::jsonb
                   and (a.v #>> '{}') !~ '^[0-9]{1,15}$') then
    -- Amounts are whole paise. Anything else (a fraction, a word, an object) would fail the casts
    -- below; it is recorded as `malformed_amount`, changes nothing, and the webhook answers 400.
    v_outcome := 'malformed_amount';
  else
    select * into v_row from public.payments p
     where p.razorpay_order_id = v_order_id
        or (v_order_id is null and p.razorpay_payment_id = v_payment_id);
    if not found then
      v_outcome := 'unknown_order';
    elsif p_event in ('payment.captured', 'order.paid') then
      v_amount := coalesce((v_pay ->> 'amount')::bigint, (v_ord ->> 'amount_paid')::bigint);
      if v_payment_id is null then
        v_outcome := 'malformed';
      elsif v_amount is distinct from v_row.amount_paise
            or coalesce(v_pay ->> 'currency', v_ord ->> 'currency') is distinct from v_row.currency then
        v_outcome := 'amount_mismatch';
      else
        begin
          v_result := private.apply_payment(v_row.razorpay_order_id, v_payment_id,
                                            v_amount::integer);
          v_outcome := case
            when (v_result ->> 'applied')::boolean then 'credited'
            when (v_result ->> 'refunded')::boolean then 'refunded_before_capture'
            else 'already_credited' end;
        exception
          when unique_violation then v_outcome := 'paid_by_other_payment';
          when no_data_found then v_outcome := 'unknown_order';
        end;
      end if;
    elsif p_event = 'payment.failed' then
      v_outcome := case when private.mark_payment_failed(v_row.razorpay_order_id)
                        then 'marked_failed' else 'not_failed' end;
    elsif v_payment_id is null then
      v_outcome := 'malformed';
    elsif p_event = 'refund.failed' then
      -- The money stays with us. If a claw-back took the purchase back, a person decides (restore
      -- with admin_grant_credits, or refund again); nothing is changed automatically.
      select -u.amount into v_taken from public.wallet_usage u
       where u.reason = 'payment_refund' and u.reference_id = v_payment_id
         and not coalesce((u.metadata ->> 'before_capture')::boolean, false);
      v_result := jsonb_build_object('refund_id', v_ref ->> 'id', 'clawed_back', v_taken is not null,
                                     'taken', coalesce(v_taken, 0));
      v_outcome := case when v_taken is not null then 'refund_failed'
                        else 'refund_failed_nothing_taken' end;
    else
      -- refund.processed / refund.created: a full refund of the payment that paid the order (or,
      -- before any capture, of this payment) takes the purchase back.
      v_amount := greatest(coalesce((v_ref ->> 'amount')::bigint, 0),
                           coalesce((v_pay ->> 'amount_refunded')::bigint, 0));
      if exists (select 1 from private.razorpay_events e
                  where e.payment_id = v_payment_id and e.event_type = 'refund.failed'
                    and e.payload #>> '{payload,refund,entity,id}' = v_ref ->> 'id') then
        v_outcome := 'refund_already_failed';
      elsif v_amount < v_row.amount_paise then
        v_outcome := 'partial_refund';
      else
        begin
          v_result := private.claw_back_payment(v_payment_id, v_row.razorpay_order_id);
          v_outcome := case
            when (v_result ->> 'applied')::boolean then 'clawed_back'
            when (v_result ->> 'other_payment')::boolean then 'refund_of_other_payment'
            else 'already_clawed_back' end;
        exception when no_data_found then
          v_outcome := 'unknown_payment';
        end;
      end if;
    end if;
  end if;

  -- Recorded with what it did, in the same transaction (one write). The same event delivered
  -- concurrently waits here for its twin; everything above is idempotent, so it changed nothing.
  insert into private.razorpay_events
    (event_id, event_type, order_id, payment_id, payload, outcome, result)
  values (p_event_id, p_event, v_order_id, v_payment_id, p_payload, v_outcome, v_result)
  on conflict (event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  return jsonb_build_object('outcome', v_outcome) || v_result;
end;
$$;
revoke all on function private.handle_razorpay_event(text, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.handle_razorpay_event(text, text, jsonb) to service_role;

-- Reconciliation: how soon an unpaid order is asked about, when it expires, how many per run.
insert into private.settings (key, value) values
  ('payment_reconcile_min_age_seconds', '120'),
  ('payment_order_expiry_hours', '72'),
  ('payment_reconcile_batch', '20')
on conflict (key) do nothing;

-- Orders reconciliation should ask Razorpay about now: unpaid (`created`, or `failed`, which a
-- retried payment may still pay; or `refunded` without a payment id, whose only payment so far was
-- refunded before capture: another payment of it may be captured and its webhook lost) for at
-- least payment_reconcile_min_age_seconds, younger than the expiry, and not asked about recently
-- (every quarter of the order's age, at most hourly), so abandoned checkouts cost few calls.
create function private.payment_reconcile_due(p_payment public.payments) returns boolean
language sql
stable
set search_path = ''
as $$
  select (p_payment.status in ('created', 'failed')
          or (p_payment.status = 'refunded' and p_payment.razorpay_payment_id is null))
     and p_payment.created_at < now()
           - make_interval(secs => private.setting_int('payment_reconcile_min_age_seconds', 120))
     and p_payment.created_at >= now()
           - make_interval(hours => private.setting_int('payment_order_expiry_hours', 72))
     and (p_payment.reconciled_at is null
          or p_payment.reconciled_at < now() - least(interval '1 hour',
                                                     (now() - p_payment.created_at) / 4))
$$;
revoke all on function private.payment_reconcile_due(public.payments)
  from public, anon, authenticated;
grant execute on function private.payment_reconcile_due(public.payments) to service_role;

-- Marks orders past the expiry `expired`, then takes up to p_limit due orders (marking them
-- asked, so concurrent runs split the work). Returns the orders to ask Razorpay about.
create function private.take_payments_to_reconcile(p_limit integer)
returns table (razorpay_order_id text, amount_paise integer, currency text)
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.payments p set status = 'expired', updated_at = now()
   where p.status = 'created'
     and p.created_at < now()
           - make_interval(hours => private.setting_int('payment_order_expiry_hours', 72));
  return query
  with picked as (
    select p.id from public.payments p
     where p.status in ('created', 'failed', 'refunded') and private.payment_reconcile_due(p)
     order by p.reconciled_at nulls first, p.created_at
     limit greatest(p_limit, 0)
     for update skip locked
  )
  update public.payments p set reconciled_at = now()
    from picked where p.id = picked.id
  returning p.razorpay_order_id, p.amount_paise, p.currency;
end;
$$;
revoke all on function private.take_payments_to_reconcile(integer) from public, anon, authenticated;
grant execute on function private.take_payments_to_reconcile(integer) to service_role;

-- The cron job's body: kicks `webhooks/reconcile` only when an order is due or must expire.
create function private.kick_payment_reconcile() returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.payments p
              where p.status in ('created', 'failed', 'refunded')
                and (private.payment_reconcile_due(p)
                     or (p.status = 'created' and p.created_at < now() - make_interval(
                           hours => private.setting_int('payment_order_expiry_hours', 72))))) then
    perform private.kick_worker('webhooks/reconcile', '{}'::jsonb);
    return true;
  end if;
  return false;
end;
$$;
revoke all on function private.kick_payment_reconcile() from public, anon, authenticated;
grant execute on function private.kick_payment_reconcile() to service_role;

select cron.schedule('payments-reconcile', '* * * * *',
  $$select private.kick_payment_reconcile()$$);

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
revoke all on function public.admin_grant_credits(uuid, integer, text, text)
  from public, anon, authenticated;
grant execute on function public.admin_grant_credits(uuid, integer, text, text) to service_role;

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
revoke all on function public.admin_set_plan(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.admin_set_plan(uuid, text, integer) to service_role;

------------------------------------------------------------------------------------------------
-- Billing beside Razorpay: prices per provider, token packs, Stripe customers, subscriptions,
-- invoices and webhook events, plan limits. One ledger: a Stripe invoice or pack payment credits
-- once under the ledger key ('purchase', 'stripe:<invoice id | payment intent id>') and a refund
-- takes it back once under ('payment_refund', the same key), never below zero, the shortfall in
-- the row's metadata, exactly as Razorpay's claw_back_payment does. Nothing in the wallet knows
-- which provider paid. Razorpay keeps public.payments (its orders); the lists and Studio views
-- below read both.
------------------------------------------------------------------------------------------------

-- Free plan limits (a wallet with no plan) and the limit keys every plan states.
insert into private.settings (key, value) values
  ('free_plan_limits', '{"seats": 5, "workbenches": 25, "stored_bytes": 1073741824,
    "files_per_workbench": 500, "chat_answers_month": 2000, "reports_month": 50}'::jsonb)
on conflict (key) do nothing;

-- One-off token packs (Stripe `payment` mode).
create table public.token_packs (
  id text primary key,
  name text not null,
  credits integer not null check (credits > 0),
  active boolean not null default true,
  sort_order integer not null default 0
);

-- What a plan or a pack costs, per provider, currency and interval (plans: month | year; packs:
-- once). Amounts in the currency's minor unit (paise, cents). `stripe_price_id` is an optional
-- Stripe Price (needed for plan changes in Stripe's portal); without one, Checkout gets the
-- amount inline from this row.
create table public.prices (
  id text primary key,
  plan_id text references public.plans (id),
  pack_id text references public.token_packs (id),
  provider text not null check (provider in ('razorpay', 'stripe')),
  currency text not null check (currency in ('INR', 'USD')),
  billing_interval text not null check (billing_interval in ('month', 'year', 'once')),
  amount_minor integer not null check (amount_minor > 0),
  stripe_price_id text unique,
  active boolean not null default true,
  check ((plan_id is null) <> (pack_id is null)),
  check ((pack_id is null) = (billing_interval <> 'once')),
  unique nulls not distinct (plan_id, pack_id, provider, currency, billing_interval)
);

-- A provider's customer for a user (personal billing) or a company (company billing: `user_id`
-- is the admin who set it up; the company's credits go to the company's wallet).
create table public.billing_customers (
  provider text not null check (provider in ('stripe')),
  customer_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  company_id uuid,
  created_at timestamptz not null default now(),
  primary key (provider, customer_id)
);
create unique index billing_customers_user_idx on public.billing_customers (provider, user_id)
  where company_id is null;
create unique index billing_customers_company_idx on public.billing_customers (provider, company_id)
  where company_id is not null;

create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('stripe')),
  provider_subscription_id text not null,
  customer_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  price_id text references public.prices (id),
  plan_id text references public.plans (id),
  status text not null default 'active' check (status in ('active', 'past_due', 'canceled')),
  current_period_start timestamptz,
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  -- A plan change Stripe applies at the next period (customer.subscription.updated).
  pending_plan_id text references public.plans (id),
  -- The Stripe `created` time of the newest event applied to the status, so an older event that
  -- arrives late does not move the status back.
  status_event_at bigint not null default 0,
  -- When reconciliation last asked Stripe about the subscription's invoices.
  reconciled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (provider, provider_subscription_id)
);
create index subscriptions_user_idx on public.subscriptions (user_id);

-- Every captured payment of a non-Razorpay provider (a subscription invoice or a pack payment).
create table public.billing_invoices (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (provider in ('stripe')),
  -- The ledger key: the invoice id (plans) or the payment intent id (packs).
  reference text not null,
  -- The buyer; for company billing `company_id` is set and the company's wallet was credited.
  user_id uuid not null references auth.users (id) on delete cascade,
  company_id uuid,
  price_id text references public.prices (id),
  plan_id text references public.plans (id),
  pack_id text references public.token_packs (id),
  provider_subscription_id text,
  provider_invoice_id text,
  provider_payment_intent text,
  provider_charge_id text,
  amount_minor integer not null check (amount_minor >= 0),
  currency text not null,
  status text not null default 'paid' check (status in ('paid', 'refunded')),
  credits_granted integer not null default 0,
  hosted_invoice_url text,
  period_start timestamptz,
  period_end timestamptz,
  paid_at timestamptz not null default now(),
  refunded_at timestamptz,
  unique (provider, reference)
);
create index billing_invoices_user_idx on public.billing_invoices (user_id, paid_at desc);
create index billing_invoices_pi_idx on public.billing_invoices (provider_payment_intent);
create index billing_invoices_charge_idx on public.billing_invoices (provider_charge_id);

revoke all on public.token_packs, public.prices, public.billing_customers, public.subscriptions,
  public.billing_invoices from anon, authenticated;
grant select on public.token_packs, public.prices to anon, authenticated;
grant select on public.subscriptions, public.billing_invoices to authenticated;
alter table public.token_packs enable row level security;
alter table public.prices enable row level security;
alter table public.billing_customers enable row level security;
alter table public.subscriptions enable row level security;
alter table public.billing_invoices enable row level security;
create policy "packs are public" on public.token_packs for select to anon, authenticated
  using (active);
create policy "prices are public" on public.prices for select to anon, authenticated using (active);
create policy "own subscriptions" on public.subscriptions for select to authenticated
  using (user_id = (select auth.uid()));
create policy "own invoices" on public.billing_invoices for select to authenticated
  using (user_id = (select auth.uid()));

create table private.stripe_events (
  event_id text primary key,
  event_type text not null,
  object_id text,
  payload jsonb not null,
  outcome text not null,
  result jsonb not null default '{}'::jsonb,
  received_at timestamptz not null default clock_timestamp()
);
revoke all on private.stripe_events from public, anon, authenticated;
-- Written only by handle_stripe_event; an audit trail nobody edits.
grant select on private.stripe_events to service_role;

-- Credits a Stripe payment once under ('purchase', 'stripe:' || p_reference): records the invoice
-- row (once), checks amount and currency against our price, grants the plan's or the pack's
-- credits and, for a plan, sets the wallet's plan. The wallet is the buyer's, or the company's
-- when `p_details.company_id` names it (a company customer's payment). Locks: the invoice row,
-- then the wallet.
-- A refund seen first (a `payment_refund` row under the key) makes it grant nothing.
-- Returns {outcome: credited | already_credited | refunded_before_capture | amount_mismatch}.
create function private.apply_stripe_payment(
  p_user_id uuid,
  p_reference text,
  p_price_id text,
  p_amount bigint,
  p_currency text,
  p_details jsonb default '{}'::jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_price public.prices;
  v_credits integer;
  v_key text := 'stripe:' || p_reference;
  v_inv public.billing_invoices;
  v_wallet uuid;
  v_balance integer;
begin
  select * into v_price from public.prices pr where pr.id = p_price_id and pr.provider = 'stripe';
  if not found or p_amount is distinct from v_price.amount_minor::bigint
     or upper(p_currency) is distinct from v_price.currency then
    return jsonb_build_object('outcome', 'amount_mismatch');
  end if;
  v_credits := coalesce((select pl.credits from public.plans pl where pl.id = v_price.plan_id),
                        (select tp.credits from public.token_packs tp where tp.id = v_price.pack_id));

  insert into public.billing_invoices
    (provider, reference, user_id, company_id, price_id, plan_id, pack_id,
     provider_subscription_id, provider_invoice_id, provider_payment_intent, provider_charge_id,
     amount_minor, currency, hosted_invoice_url, period_start, period_end)
  values ('stripe', p_reference, p_user_id, (p_details ->> 'company_id')::uuid, v_price.id, v_price.plan_id, v_price.pack_id,
          p_details ->> 'subscription', p_details ->> 'invoice', p_details ->> 'payment_intent',
          p_details ->> 'charge', p_amount, v_price.currency, p_details ->> 'hosted_invoice_url',
          to_timestamp((p_details ->> 'period_start')::bigint),
          to_timestamp((p_details ->> 'period_end')::bigint))
  on conflict (provider, reference) do nothing;
  select * into v_inv from public.billing_invoices i
   where i.provider = 'stripe' and i.reference = p_reference for update;
  v_wallet := coalesce(v_inv.company_id, v_inv.user_id);
  select w.balance into v_balance from public.wallet w where w.user_id = v_wallet for update;
  if not found then
    raise exception 'no wallet for user %', v_wallet using errcode = 'P0002';
  end if;

  if exists (select 1 from public.wallet_usage u
              where u.reason = 'payment_refund' and u.reference_id = v_key) then
    update public.billing_invoices set status = 'refunded', refunded_at = coalesce(refunded_at, now())
     where id = v_inv.id;
    return jsonb_build_object('outcome', 'refunded_before_capture');
  end if;
  if exists (select 1 from public.wallet_usage u
              where u.reason = 'purchase' and u.reference_id = v_key) then
    return jsonb_build_object('outcome', 'already_credited', 'balance', v_balance);
  end if;

  update public.wallet
     set balance = balance + v_credits,
         plan_id = coalesce(v_price.plan_id, plan_id),
         updated_at = now()
   where user_id = v_wallet
  returning balance into v_balance;
  insert into public.wallet_usage (user_id, amount, balance_after, reason, reference_id, metadata)
  values (v_wallet, v_credits, v_balance, 'purchase', v_key,
          jsonb_build_object('provider', 'stripe', 'price_id', v_price.id,
                             'plan_id', v_price.plan_id, 'pack_id', v_price.pack_id));
  update public.billing_invoices set credits_granted = v_credits,
         provider_charge_id = coalesce(provider_charge_id, p_details ->> 'charge'),
         provider_payment_intent = coalesce(provider_payment_intent, p_details ->> 'payment_intent')
   where id = v_inv.id;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('payment.applied', 'billing_invoices', v_inv.id::text,
          jsonb_build_object('provider', 'stripe', 'reference', p_reference, 'credits', v_credits));
  return jsonb_build_object('outcome', 'credited', 'credits', v_credits, 'balance', v_balance);
end;
$$;
revoke all on function private.apply_stripe_payment(uuid, text, text, bigint, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.apply_stripe_payment(uuid, text, text, bigint, text, jsonb)
  to service_role;

-- Takes a refunded Stripe payment back once (Razorpay's rules): what the balance still holds,
-- never below zero, the shortfall recorded; before the payment was credited, a zero row under
-- the key makes its later credit grant nothing.
-- Returns {outcome: clawed_back | already_clawed_back | refunded_before_capture}.
create function private.claw_back_stripe_payment(p_user_id uuid, p_reference text) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_key text := 'stripe:' || p_reference;
  v_inv public.billing_invoices;
  v_user uuid;
  v_balance integer;
  v_granted integer;
  v_take integer;
  v_result jsonb;
begin
  select * into v_inv from public.billing_invoices i
   where i.provider = 'stripe' and i.reference = p_reference for update;
  -- The wallet the payment credited (the company's for a company payment), else the given one.
  v_user := coalesce(v_inv.company_id, v_inv.user_id, p_user_id);
  select w.balance into v_balance from public.wallet w where w.user_id = v_user for update;
  if not found then
    raise exception 'no wallet for user %', v_user using errcode = 'P0002';
  end if;
  if exists (select 1 from public.wallet_usage u
              where u.reason = 'payment_refund' and u.reference_id = v_key) then
    return jsonb_build_object('outcome', 'already_clawed_back');
  end if;
  select u.amount into v_granted from public.wallet_usage u
   where u.reason = 'purchase' and u.reference_id = v_key;
  if not found then
    perform private.apply_ledger(v_user, 0, 'payment_refund', v_key,
      jsonb_build_object('before_capture', true, 'provider', 'stripe'));
    return jsonb_build_object('outcome', 'refunded_before_capture');
  end if;
  v_take := least(v_balance, v_granted);
  v_result := private.apply_ledger(v_user, -v_take, 'payment_refund', v_key,
    jsonb_build_object('provider', 'stripe', 'credits_granted', v_granted,
                       'shortfall', v_granted - v_take));
  update public.billing_invoices set status = 'refunded', refunded_at = now()
   where provider = 'stripe' and reference = p_reference;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('payment.refunded', 'billing_invoices', coalesce(v_inv.id::text, p_reference),
          jsonb_build_object('provider', 'stripe', 'taken', v_take,
                             'shortfall', v_granted - v_take));
  return jsonb_build_object('outcome', 'clawed_back', 'taken', v_take,
                            'shortfall', v_granted - v_take,
                            'balance', v_result -> 'balance');
end;
$$;
revoke all on function private.claw_back_stripe_payment(uuid, text) from public, anon, authenticated;
grant execute on function private.claw_back_stripe_payment(uuid, text) to service_role;

-- Records a verified Stripe event once (by its `evt_` id) and applies it, in one statement.
-- Handled: checkout.session.completed (packs credit; subscriptions link), invoice.paid (the plan's
-- credits once per invoice; status active), invoice.payment_failed (past_due; credits stay),
-- customer.subscription.updated (status, cancel at period end, plan change pending until the
-- next paid invoice), customer.subscription.deleted (canceled; the wallet back to the free plan),
-- charge.refunded (claw back a full refund; partial refunds are left to a person). Status
-- changes apply only from an event newer than the last one applied (any order). Other types:
-- `ignored`. Returns {outcome, ...}.
create function private.handle_stripe_event(p_event_id text, p_type text, p_payload jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_obj jsonb := p_payload #> '{data,object}';
  v_at bigint := coalesce((p_payload ->> 'created')::bigint, 0);
  v_user uuid;
  v_company uuid;
  v_sub text;
  v_price text;
  v_status text;
  v_row public.subscriptions;
  v_inv public.billing_invoices;
  v_ref text;
  v_outcome text;
  v_result jsonb := '{}'::jsonb;
begin
  if exists (select 1 from private.stripe_events e where e.event_id = p_event_id) then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  select c.user_id, c.company_id into v_user, v_company from public.billing_customers c
   where c.provider = 'stripe' and c.customer_id = v_obj ->> 'customer';
  v_sub := coalesce(case when v_obj ->> 'object' = 'subscription' then v_obj ->> 'id' end,
                    v_obj ->> 'subscription',
                    v_obj #>> '{parent,subscription_details,subscription}');
  -- Our price: the metadata we set at checkout (on the session and the subscription), else a
  -- Stripe Price we know.
  v_price := coalesce(
    v_obj #>> '{metadata,price_id}',
    v_obj #>> '{subscription_details,metadata,price_id}',
    v_obj #>> '{parent,subscription_details,metadata,price_id}',
    (select pr.id from public.prices pr
      where pr.stripe_price_id in (v_obj #>> '{items,data,0,price,id}',
                                   v_obj #>> '{lines,data,0,price,id}',
                                   v_obj #>> '{lines,data,0,pricing,price_details,price}')));
  if v_user is null and p_type <> 'charge.refunded'
     and (v_obj #>> '{metadata,user_id}') ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' then
    v_user := (v_obj #>> '{metadata,user_id}')::uuid;
  end if;

  if p_type not in ('checkout.session.completed', 'invoice.paid', 'invoice.payment_failed',
                    'customer.subscription.updated', 'customer.subscription.deleted',
                    'charge.refunded') then
    v_outcome := 'ignored';
  elsif v_user is null or not exists (select 1 from public.wallet w where w.user_id = v_user) then
    v_outcome := 'unknown_customer';
  elsif p_type = 'checkout.session.completed' and v_obj ->> 'mode' = 'payment' then
    if v_obj ->> 'payment_status' <> 'paid' or v_obj ->> 'payment_intent' is null then
      v_outcome := 'not_paid';
    else
      v_result := private.apply_stripe_payment(v_user, v_obj ->> 'payment_intent', v_price,
        (v_obj ->> 'amount_total')::bigint, v_obj ->> 'currency',
        jsonb_build_object('payment_intent', v_obj ->> 'payment_intent',
                           'company_id', v_company));
      v_outcome := v_result ->> 'outcome';
    end if;
  elsif p_type = 'invoice.paid' then
    if v_price is null then
      select s.price_id into v_price from public.subscriptions s
       where s.provider = 'stripe' and s.provider_subscription_id = v_sub;
    end if;
    v_result := private.apply_stripe_payment(v_user, v_obj ->> 'id', v_price,
      (v_obj ->> 'amount_paid')::bigint, v_obj ->> 'currency',
      jsonb_build_object('invoice', v_obj ->> 'id', 'subscription', v_sub,
                         'payment_intent', v_obj ->> 'payment_intent',
                         'charge', v_obj ->> 'charge',
                         'hosted_invoice_url', v_obj ->> 'hosted_invoice_url',
                         'period_start', v_obj #>> '{lines,data,0,period,start}',
                         'period_end', v_obj #>> '{lines,data,0,period,end}',
                         'company_id', v_company));
    v_outcome := v_result ->> 'outcome';
    v_status := 'active';
  elsif p_type = 'invoice.payment_failed' then
    v_outcome := 'marked_past_due';
    v_status := 'past_due';
  elsif p_type = 'charge.refunded' then
    select * into v_inv from public.billing_invoices i
     where i.provider = 'stripe'
       and (i.provider_charge_id = v_obj ->> 'id'
            or i.provider_payment_intent = v_obj ->> 'payment_intent'
            or i.provider_invoice_id = v_obj ->> 'invoice')
     limit 1;
    v_ref := coalesce(v_inv.reference, v_obj ->> 'invoice', v_obj ->> 'payment_intent');
    if (v_obj ->> 'amount_refunded')::bigint < (v_obj ->> 'amount')::bigint then
      v_outcome := 'partial_refund';
    elsif v_ref is null then
      v_outcome := 'malformed';
    else
      v_result := private.claw_back_stripe_payment(coalesce(v_inv.company_id, v_inv.user_id,
                                                            v_company, v_user), v_ref);
      v_outcome := v_result ->> 'outcome';
    end if;
  elsif p_type = 'checkout.session.completed' then
    v_outcome := 'linked';
  else
    v_status := case when p_type = 'customer.subscription.deleted' then 'canceled'
                     when v_obj ->> 'status' in ('active', 'trialing') then 'active'
                     when v_obj ->> 'status' in ('past_due', 'unpaid', 'incomplete') then 'past_due'
                     else 'canceled' end;
    v_outcome := case when p_type = 'customer.subscription.deleted' then 'canceled'
                      else 'updated' end;
  end if;

  -- The subscription row: created by whichever event names it first; status moves only forward.
  if v_sub is not null and v_user is not null
     and v_outcome not in ('ignored', 'unknown_customer', 'amount_mismatch') then
    insert into public.subscriptions (provider, provider_subscription_id, customer_id, user_id,
                                      price_id, plan_id)
    values ('stripe', v_sub, coalesce(v_obj ->> 'customer', ''), v_user, v_price,
            (select pr.plan_id from public.prices pr where pr.id = v_price))
    on conflict (provider, provider_subscription_id) do nothing;
    select * into v_row from public.subscriptions s
     where s.provider = 'stripe' and s.provider_subscription_id = v_sub for update;
    if p_type = 'customer.subscription.updated' and v_price is not null
       and v_price is distinct from v_row.price_id then
      update public.subscriptions
         set pending_plan_id = (select pr.plan_id from public.prices pr where pr.id = v_price)
       where id = v_row.id;
    elsif p_type = 'invoice.paid' and v_price is not null then
      update public.subscriptions
         set price_id = v_price,
             plan_id = (select pr.plan_id from public.prices pr where pr.id = v_price),
             pending_plan_id = null,
             current_period_start = coalesce(to_timestamp(
               (v_obj #>> '{lines,data,0,period,start}')::bigint), current_period_start),
             current_period_end = coalesce(to_timestamp(
               (v_obj #>> '{lines,data,0,period,end}')::bigint), current_period_end)
       where id = v_row.id;
    end if;
    if p_type in ('customer.subscription.updated', 'customer.subscription.deleted')
       and v_at >= v_row.status_event_at then
      update public.subscriptions
         set cancel_at_period_end = coalesce((v_obj ->> 'cancel_at_period_end')::boolean, false),
             current_period_end = coalesce(to_timestamp(coalesce(
               v_obj ->> 'current_period_end',
               v_obj #>> '{items,data,0,current_period_end}')::bigint), current_period_end)
       where id = v_row.id;
    end if;
    if v_status is not null and (v_at >= v_row.status_event_at or v_row.status_event_at = 0)
       and v_row.status <> 'canceled' then
      update public.subscriptions set status = v_status, status_event_at = v_at,
             updated_at = now()
       where id = v_row.id;
      if v_status = 'canceled' then
        update public.wallet w set plan_id = null, updated_at = now()
         where w.user_id = coalesce(v_company, v_user) and w.plan_id = v_row.plan_id
           and w.custom_limits is null;
      end if;
    end if;
  end if;

  insert into private.stripe_events (event_id, event_type, object_id, payload, outcome, result)
  values (p_event_id, p_type, v_obj ->> 'id', p_payload, v_outcome, v_result)
  on conflict (event_id) do nothing;
  if not found then
    return jsonb_build_object('outcome', 'duplicate');
  end if;
  return v_result || jsonb_build_object('outcome', v_outcome);
end;
$$;
revoke all on function private.handle_stripe_event(text, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.handle_stripe_event(text, text, jsonb) to service_role;

------------------------------------------------------------------------------------------------
-- Plan limits, enforced where a thing is created or counted (a trigger on workbench insert in
-- the tenancy migration, charge_report here). The wallet row is locked first, so a concurrent
-- burst at a limit runs one after the other and never ends above it.
------------------------------------------------------------------------------------------------

-- The limits a wallet has now: an enterprise deal's own, else its plan's, else the free plan's.
create function private.plan_limits(p_user_id uuid) returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(w.custom_limits, p.limits,
                  (select s.value from private.settings s where s.key = 'free_plan_limits'),
                  '{}'::jsonb)
    from public.wallet w left join public.plans p on p.id = w.plan_id
   where w.user_id = p_user_id
$$;
revoke all on function private.plan_limits(uuid) from public, anon, authenticated;
grant execute on function private.plan_limits(uuid) to service_role;

-- Raises plan_limit_reached (SQLSTATE PT403, DETAIL a JSON {limit, plan, usage, max}; the
-- functions answer 403) when adding p_adding to p_usage would pass the wallet's limit. The
-- caller holds the wallet row lock (lock_wallet_for_limit) while it counts.
create function private.check_plan_limit(
  p_user_id uuid,
  p_limit text,
  p_usage bigint,
  p_adding bigint default 1
) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_max bigint := (private.plan_limits(p_user_id) ->> p_limit)::bigint;
begin
  if v_max is not null and v_max >= 0 and p_usage + p_adding > v_max then
    raise exception 'plan_limit_reached'
      using errcode = 'PT403',
            detail = jsonb_build_object(
              'limit', p_limit, 'usage', p_usage, 'max', v_max,
              'plan', coalesce((select w.plan_id from public.wallet w
                                 where w.user_id = p_user_id), 'free'))::text;
  end if;
end;
$$;
revoke all on function private.check_plan_limit(uuid, text, bigint, bigint)
  from public, anon, authenticated;
grant execute on function private.check_plan_limit(uuid, text, bigint, bigint) to service_role;

-- An enterprise deal: the plan, seats and the deal's own limits (null = the plan's).
create function public.admin_grant_enterprise(
  p_user_id uuid,
  p_seats integer,
  p_limits jsonb
) returns public.wallet
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_wallet public.wallet;
begin
  update public.wallet set plan_id = 'enterprise', seats = p_seats, custom_limits = p_limits,
         updated_at = now()
   where user_id = p_user_id
  returning * into v_wallet;
  if not found then
    raise exception 'no wallet for user %', p_user_id using errcode = 'P0002';
  end if;
  insert into private.audit_log (action, entity, entity_id, details)
  values ('admin.grant_enterprise', 'wallet', p_user_id::text,
          jsonb_build_object('seats', p_seats, 'limits', p_limits));
  return v_wallet;
end;
$$;
revoke all on function public.admin_grant_enterprise(uuid, integer, jsonb)
  from public, anon, authenticated;
grant execute on function public.admin_grant_enterprise(uuid, integer, jsonb) to service_role;

-- Usage against each limit of a wallet (personal, or a company's: its workbenches and members)
-- for the wallet's current period (the UTC month; a subscription's period when one is active), and
-- the credits spent per day and reason between p_from and p_to, straight from the ledger (so the
-- numbers equal it). plpgsql: it reads tables of later domains.
create function private.billing_usage(p_user_id uuid, p_from timestamptz, p_to timestamptz)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_limits jsonb := private.plan_limits(p_user_id);
  v_month timestamptz := date_trunc('month', now() at time zone 'UTC') at time zone 'UTC';
  v_usage jsonb;
begin
  v_usage := jsonb_build_object(
    -- A company wallet's seats are its members; a personal wallet's, the seats it holds.
    'seats', (select case when w.company_id is null then w.seats::bigint else
                (select count(*) from public.company_members m where m.company_id = w.company_id)
              end from public.wallet w where w.user_id = p_user_id),
    'workbenches', (select count(*) from public.workbench b
                     where (b.company_id = p_user_id
                            or (b.company_id is null and b.owner_user_id = p_user_id))),
    'stored_bytes', (select coalesce(sum(f.size_bytes), 0) from public.workbench_files f
                       join public.workbench b on b.id = f.workbench_id
                      where (b.company_id = p_user_id
                             or (b.company_id is null and b.owner_user_id = p_user_id))),
    'files_per_workbench', (select coalesce(max(n), 0) from (
                              select count(*) as n from public.workbench_files f
                                join public.workbench b on b.id = f.workbench_id
                               where (b.company_id = p_user_id
                                      or (b.company_id is null and b.owner_user_id = p_user_id))
                               group by f.workbench_id) c),
    'chat_answers_month', (select count(*) from private.chat_inferences i
                            where i.user_id = p_user_id and i.counted_at >= v_month),
    'reports_month', (select count(*) from public.wallet_usage u
                       where u.user_id = p_user_id and u.reason = 'report'
                         and u.created_at >= v_month));
  return jsonb_build_object(
    'plan_id', coalesce((select w.plan_id from public.wallet w where w.user_id = p_user_id), 'free'),
    'period', jsonb_build_object('from', p_from, 'to', p_to, 'month_start', v_month),
    'limits', (select jsonb_agg(jsonb_build_object(
                        'limit', k, 'max', coalesce((v_limits ->> k)::bigint, -1),
                        'usage', (v_usage ->> k)::bigint) order by k)
                 from jsonb_object_keys(v_usage) k),
    'credits', coalesce((select jsonb_agg(jsonb_build_object('day', d.day, 'reason', d.reason,
                                                             'credits', d.credits)
                                          order by d.day, d.reason)
                           from (select (u.created_at at time zone 'UTC')::date as day, u.reason,
                                        sum(-u.amount) as credits
                                   from public.wallet_usage u
                                  where u.user_id = p_user_id and u.amount < 0
                                    and u.created_at >= p_from and u.created_at < p_to
                                  group by 1, 2) d), '[]'::jsonb),
    'spent', (select coalesce(sum(-u.amount), 0) from public.wallet_usage u
               where u.user_id = p_user_id and u.amount < 0
                 and u.created_at >= p_from and u.created_at < p_to));
end;
$$;
revoke all on function private.billing_usage(uuid, timestamptz, timestamptz)
  from public, anon, authenticated;
grant execute on function private.billing_usage(uuid, timestamptz, timestamptz) to service_role;

-- Receipt PDFs, made once per captured payment (either provider) and kept in storage.
create table private.receipts (
  provider text not null,
  reference text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  path text not null,
  created_at timestamptz not null default now(),
  primary key (provider, reference)
);
revoke all on private.receipts from public, anon, authenticated;
grant select, insert on private.receipts to service_role;

-- Captured payments of both providers for one user, newest first (GET /billing/invoices).
create function private.billing_invoices_of(p_user_id uuid, p_limit integer, p_offset integer)
returns table (id uuid, provider text, reference text, plan_id text, pack_id text,
               amount_minor integer, currency text, status text, credits_granted integer,
               hosted_invoice_url text, receipt_path text, paid_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select * from (
    select p.id, 'razorpay'::text, p.razorpay_payment_id, p.plan_id, null::text, p.amount_paise,
           p.currency, p.status, p.credits_granted, null::text, r.path, p.paid_at
      from public.payments p
      left join private.receipts r
        on r.provider = 'razorpay' and r.reference = p.razorpay_payment_id
     where p.user_id = p_user_id and p.status in ('paid', 'refunded') and p.paid_at is not null
    union all
    select i.id, i.provider, i.reference, i.plan_id, i.pack_id, i.amount_minor, i.currency,
           i.status, i.credits_granted, i.hosted_invoice_url, r.path, i.paid_at
      from public.billing_invoices i
      left join private.receipts r on r.provider = i.provider and r.reference = i.reference
     where i.user_id = p_user_id) x
  order by x.paid_at desc, x.id desc
  limit p_limit offset p_offset
$$;
revoke all on function private.billing_invoices_of(uuid, integer, integer)
  from public, anon, authenticated;
grant execute on function private.billing_invoices_of(uuid, integer, integer) to service_role;

-- Stripe reconciliation (webhooks get lost): subscriptions not canceled, not asked about in the
-- last `stripe_reconcile_interval_minutes` (60), up to p_limit, marked asked (concurrent runs
-- split the work). The route asks Stripe for each one's invoices and applies the paid ones as
-- `invoice.paid` events (id `reconcile:<invoice id>`) through handle_stripe_event: the ledger key
-- is the invoice, so a webhook that comes later credits nothing more.
insert into private.settings (key, value) values ('stripe_reconcile_interval_minutes', '60')
on conflict (key) do nothing;

create function private.take_stripe_subscriptions_to_reconcile(p_limit integer)
returns table (provider_subscription_id text)
language sql
security definer
set search_path = ''
as $$
  with picked as (
    select s.id from public.subscriptions s
     where s.provider = 'stripe' and s.status <> 'canceled'
       and (s.reconciled_at is null or s.reconciled_at < now() - make_interval(
              mins => private.setting_int('stripe_reconcile_interval_minutes', 60)))
     order by s.reconciled_at nulls first
     limit greatest(p_limit, 0)
     for update skip locked)
  update public.subscriptions s set reconciled_at = now()
    from picked where s.id = picked.id
  returning s.provider_subscription_id
$$;
revoke all on function private.take_stripe_subscriptions_to_reconcile(integer)
  from public, anon, authenticated;
grant execute on function private.take_stripe_subscriptions_to_reconcile(integer) to service_role;

-- The cron job's body: kicks `webhooks/reconcile-stripe` only when a subscription is due.
create function private.kick_stripe_reconcile() returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if exists (select 1 from public.subscriptions s
              where s.provider = 'stripe' and s.status <> 'canceled'
                and (s.reconciled_at is null or s.reconciled_at < now() - make_interval(
                       mins => private.setting_int('stripe_reconcile_interval_minutes', 60)))) then
    perform private.kick_worker('webhooks/reconcile-stripe', '{}'::jsonb);
    return true;
  end if;
  return false;
end;
$$;
revoke all on function private.kick_stripe_reconcile() from public, anon, authenticated;
grant execute on function private.kick_stripe_reconcile() to service_role;

select cron.schedule('stripe-reconcile', '*/5 * * * *', $$select private.kick_stripe_reconcile()$$);

-- Studio: subscriptions, invoices of both providers, usage per user, month and reason.
create view private.admin_subscriptions as
  select s.*, p.email from public.subscriptions s left join public.profiles p on p.id = s.user_id;
create view private.admin_invoices as
  select 'razorpay'::text as provider, p.razorpay_payment_id as reference, p.user_id,
         p.plan_id, null::text as pack_id, p.amount_paise as amount_minor, p.currency,
         p.status, p.credits_granted, null::text as hosted_invoice_url, p.paid_at
    from public.payments p where p.status in ('paid', 'refunded') and p.paid_at is not null
  union all
  select i.provider, i.reference, i.user_id, i.plan_id, i.pack_id, i.amount_minor, i.currency,
         i.status, i.credits_granted, i.hosted_invoice_url, i.paid_at
    from public.billing_invoices i;
create view private.admin_usage as
  select u.user_id, date_trunc('month', u.created_at) as month, u.reason,
         sum(u.amount) as credits, count(*) as entries
    from public.wallet_usage u group by 1, 2, 3;
revoke all on private.admin_subscriptions, private.admin_invoices, private.admin_usage
  from public, anon, authenticated;
grant select on private.admin_subscriptions, private.admin_invoices, private.admin_usage
  to service_role;

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
  -- The sign-up metadata is the user's own text: kept when it is a clean name, else left out.
  v_name text := pg_catalog.btrim(pg_catalog.normalize(new.raw_user_meta_data ->> 'full_name'));
begin
  begin
    perform v_name::private.name_text;
  exception when check_violation then
    v_name := null;
  end;
  insert into public.profiles (id, email, full_name)
  values (new.id, new.email, v_name)
  on conflict (id) do nothing;
  insert into public.wallet (user_id) values (new.id) on conflict (user_id) do nothing;
  insert into public.wallet_counters (user_id) values (new.id) on conflict (user_id) do nothing;
  if v_grant > 0 then
    perform private.grant_credits(new.id, v_grant, 'signup_grant', new.id::text);
  end if;
  return new;
end;
$$;
revoke all on function private.handle_new_user() from public, anon, authenticated;
grant execute on function private.handle_new_user() to service_role;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();
