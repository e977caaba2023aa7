-- Refund edge cases of Razorpay payments (issue 10 review): refunds are per payment, not per order.
--
-- One order can be paid by more than one Razorpay payment (a customer who pays twice); only one of
-- them credits (the order's `razorpay_payment_id`), the others are `paid_by_other_payment` and left
-- to a person, who refunds them. Before this migration:
--
-- 1. Refunding such a duplicate payment made `claw_back_payment` raise "unknown payment" inside
--    `handle_razorpay_event`: the webhook answered 500, Razorpay retried for ever and the event was
--    never recorded. Now the refund of another payment than the one that paid the order is recorded
--    as `refund_of_other_payment` (takes nothing back, kept for a person), and no unknown-payment
--    error escapes the handler (`unknown_payment` is recorded instead).
-- 2. A refund that came before any capture marked the whole order refunded under the refunded
--    payment's id, so the capture of the payment the customer kept credited nothing. Now a refund
--    before capture blocks only that payment id: the zero `payment_refund` ledger row (reason,
--    payment id) is the record apply_payment checks; the order keeps no payment id (its status says
--    `refunded` until another payment of it is captured, which credits once; reconciliation keeps
--    asking Razorpay about such an order, as about unpaid ones).
-- 3. `refund.failed` was ignored, so credits clawed back by `refund.created` for a refund that then
--    failed were gone for good. It is now recorded as `refund_failed` (credits were taken back: a
--    person restores them with admin_grant_credits or refunds again) or `refund_failed_nothing_taken`,
--    and a `refund.created`/`refund.processed` of a refund already reported failed (events arrive in
--    any order) takes nothing back (`refund_already_failed`). Credits are not restored automatically:
--    a restore must undo exactly one claw-back (credits, seats, plan) and allow the next one when
--    staff refund again, across events that arrive in any order; getting that wrong gives credits
--    away, while a failed refund is rare, keeps the money with us and is visible in Studio.

-- Applies a captured Razorpay payment once per payment id (see 20261125000100). A payment that was
-- refunded (a `payment_refund` ledger row under its id, written by claw_back_payment even before
-- the capture) grants nothing; another payment of the same order still credits once.
create or replace function private.apply_payment(
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

  -- This payment was refunded (before or after it was applied; events arrive in any order).
  if exists (select 1 from public.wallet_usage u
              where u.reason = 'payment_refund' and u.reference_id = p_payment_id)
     or (v_payment.status = 'refunded' and v_payment.razorpay_payment_id = p_payment_id) then
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
revoke all on function private.apply_payment(text, text, integer) from public, anon, authenticated;
grant execute on function private.apply_payment(text, text, integer) to service_role;

-- Claws back a refunded payment once (see 20261126000400 for the plan and seats rule). Found by its
-- payment id, or by its order (p_order_id) when the payment was not applied:
-- * the order is paid by another payment: nothing to take back → {applied: false, other_payment};
-- * the order has no payment yet (refund before capture): a zero `payment_refund` ledger row under
--   the payment id makes that payment's capture grant nothing; the order is marked refunded but
--   keeps no payment id, so another payment of it still credits → {applied: true, before_capture};
-- * the payment was applied: takes back what the balance still holds (never below 0) and records
--   the shortfall.
-- Raises P0002 only when neither the payment nor the order is known.
create or replace function private.claw_back_payment(p_payment_id text, p_order_id text default null)
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
   where p.razorpay_payment_id = p_payment_id or p.razorpay_order_id = p_order_id
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

  if v_payment.razorpay_payment_id is not null and v_payment.razorpay_payment_id <> p_payment_id then
    -- A duplicate payment of an order another payment paid: it never credited anything.
    return jsonb_build_object('applied', false, 'other_payment', true, 'balance', v_balance);
  end if;

  if v_payment.razorpay_payment_id is null then
    -- Not applied yet: nothing to take back, but this payment must never pay out now.
    update public.payments set status = 'refunded', refunded_at = now(), updated_at = now()
     where id = v_payment.id;
    v_result := private.apply_ledger(v_payment.user_id, 0, 'payment_refund', p_payment_id,
      jsonb_build_object('before_capture', true, 'order_id', v_payment.razorpay_order_id));
    insert into private.audit_log (action, entity, entity_id, details)
    values ('payment.refunded_before_capture', 'payments', v_payment.id::text,
            jsonb_build_object('payment_id', p_payment_id));
    return v_result || jsonb_build_object('shortfall', 0, 'before_capture', true);
  end if;

  if v_payment.status <> 'paid' then
    -- Its own payment, refunded without a ledger row (before 20261126002100): nothing to take.
    return jsonb_build_object('applied', false, 'balance', v_balance);
  end if;

  v_take := least(v_balance, v_payment.credits_granted);
  v_result := private.apply_ledger(v_payment.user_id, -v_take, 'payment_refund', p_payment_id,
    jsonb_build_object('credits_granted', v_payment.credits_granted,
                       'shortfall', v_payment.credits_granted - v_take));
  update public.payments set status = 'refunded', refunded_at = now(), updated_at = now()
   where id = v_payment.id;
  update public.wallet w
     set seats = greatest(1, w.seats - v_payment.seats_granted),
         plan_id = case when w.plan_id = v_payment.plan_id then
                          (select p.plan_id from public.payments p
                            where p.user_id = v_payment.user_id and p.status = 'paid'
                            order by p.paid_at desc nulls last, p.created_at desc, p.id desc
                            limit 1)
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
revoke all on function private.claw_back_payment(text, text) from public, anon, authenticated;
grant execute on function private.claw_back_payment(text, text) to service_role;

-- Records a verified webhook event once and applies it (see 20261126002000). Returns
-- {outcome, ...}; outcome is one of duplicate, credited, already_credited, refunded_before_capture,
-- amount_mismatch, paid_by_other_payment, marked_failed, not_failed, clawed_back,
-- already_clawed_back, partial_refund, refund_of_other_payment, refund_already_failed,
-- refund_failed, refund_failed_nothing_taken, unknown_payment, unknown_order, malformed, ignored.
create or replace function private.handle_razorpay_event(p_event_id text, p_event text, p_payload jsonb)
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

-- Reconciliation also asks about an order whose only payment so far was refunded before capture
-- (`refunded` without a payment id): another payment of it may be captured and its webhook lost.
-- Otherwise as in 20261126002000.
create or replace function private.payment_reconcile_due(p_payment public.payments) returns boolean
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

create or replace function private.take_payments_to_reconcile(p_limit integer)
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

create or replace function private.kick_payment_reconcile() returns boolean
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
