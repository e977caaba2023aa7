-- Payments in front of the wallet: Razorpay webhook events, reconciliation, admin views.
--
-- The wallet side (payments, apply_payment, mark_payment_failed, claw_back_payment) exists since
-- 20261125000100; this adds what the `checkout` and `webhooks` functions need:
--
-- * `private.razorpay_events`: every verified webhook event once, keyed by Razorpay's
--   `x-razorpay-event-id`, with its payload and what it did (audit and replay).
-- * `private.handle_razorpay_event`: records an event and applies it in the same transaction, so
--   the webhook is one SQL statement and a retried delivery changes nothing. Captures credit
--   through apply_payment (once per payment id), failures never move a paid order back, full
--   refunds claw back through claw_back_payment (never below zero), unknown orders and unknown
--   event types are kept and change nothing.
-- * Reconciliation: orders whose webhook never came. A pg_cron job kicks `webhooks/reconcile`
--   through pg_net (Vault key, as the workers are kicked) when an order is due; the route asks
--   Razorpay for the order's payments and applies captured ones through the same RPC. Orders
--   still `created` after `payment_order_expiry_hours` (72) are marked `expired`.
-- * Read-only admin views for Studio in the private schema (never exposed to API roles).

insert into private.settings (key, value) values
  ('payment_reconcile_min_age_seconds', '120'),
  ('payment_order_expiry_hours', '72'),
  ('payment_reconcile_batch', '20')
on conflict (key) do nothing;

-- An order nobody paid for within the expiry is `expired`; the receipt we sent Razorpay is kept,
-- and when reconciliation last asked Razorpay about the order.
alter table public.payments drop constraint payments_status_check;
alter table public.payments add constraint payments_status_check
  check (status in ('created', 'paid', 'failed', 'refunded', 'expired'));
alter table public.payments add column receipt text unique;
alter table public.payments add column reconciled_at timestamptz;
create index payments_open_idx on public.payments (created_at)
  where status in ('created', 'failed');

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
-- partial_refund, unknown_order, malformed, ignored.
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
  v_outcome text;
  v_result jsonb := '{}'::jsonb;
begin
  if exists (select 1 from private.razorpay_events e where e.event_id = p_event_id) then
    return jsonb_build_object('outcome', 'duplicate');
  end if;

  if p_event not in ('payment.captured', 'order.paid', 'payment.failed', 'refund.processed',
                     'refund.created') then
    v_outcome := 'ignored';
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
        exception when unique_violation then
          v_outcome := 'paid_by_other_payment';
        end;
      end if;
    elsif p_event = 'payment.failed' then
      v_outcome := case when private.mark_payment_failed(v_row.razorpay_order_id)
                        then 'marked_failed' else 'not_failed' end;
    else
      -- refund.processed / refund.created: a full refund takes the purchase back.
      v_amount := greatest(coalesce((v_ref ->> 'amount')::bigint, 0),
                           coalesce((v_pay ->> 'amount_refunded')::bigint, 0));
      if v_payment_id is null then
        v_outcome := 'malformed';
      elsif v_amount < v_row.amount_paise then
        v_outcome := 'partial_refund';
      else
        v_result := private.claw_back_payment(v_payment_id, v_row.razorpay_order_id);
        v_outcome := case when (v_result ->> 'applied')::boolean then 'clawed_back'
                          else 'already_clawed_back' end;
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

-- Orders reconciliation should ask Razorpay about now: unpaid (`created`, or `failed`, which a
-- retried payment may still pay) for at least payment_reconcile_min_age_seconds, younger than the
-- expiry, and not asked about recently (every quarter of the order's age, at most hourly), so
-- abandoned checkouts cost few calls.
create function private.payment_reconcile_due(p_payment public.payments) returns boolean
language sql
stable
set search_path = ''
as $$
  select p_payment.status in ('created', 'failed')
     and p_payment.created_at < now()
           - make_interval(secs => private.setting_int('payment_reconcile_min_age_seconds', 120))
     and p_payment.created_at >= now()
           - make_interval(hours => private.setting_int('payment_order_expiry_hours', 72))
     and (p_payment.reconciled_at is null
          or p_payment.reconciled_at < now() - least(interval '1 hour',
                                                     (now() - p_payment.created_at) / 4))
$$;

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
     where p.status in ('created', 'failed') and private.payment_reconcile_due(p)
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
              where p.status in ('created', 'failed')
                and (private.payment_reconcile_due(p)
                     or (p.status = 'created' and p.created_at < now() - make_interval(
                           hours => private.setting_int('payment_order_expiry_hours', 72))))) then
    perform private.kick_worker('webhooks/reconcile', '{}'::jsonb);
    return true;
  end if;
  return false;
end;
$$;
revoke all on function private.payment_reconcile_due(public.payments),
  private.kick_payment_reconcile() from public, anon, authenticated;
grant execute on function private.payment_reconcile_due(public.payments),
  private.kick_payment_reconcile() to service_role;

select cron.schedule('payments-reconcile', '* * * * *',
  $$select private.kick_payment_reconcile()$$);

------------------------------------------------------------------------------------------------
-- Studio: read-only views for admins (the private schema is not exposed to API roles).
------------------------------------------------------------------------------------------------

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
