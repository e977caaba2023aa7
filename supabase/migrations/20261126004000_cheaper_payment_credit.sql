-- Fewer statements on the credit path of a Razorpay payment (issue 10, webhook acknowledgement
-- bench). Same results, same errors, same locks in the same order as 20261126002100; only the work
-- per credited payment is smaller: apply_payment reads the order and its plan in one statement (the
-- order row locked, as before), locks the wallet, asks the ledger once whether the payment was
-- refunded or already credited (two lookups before), and does the ledger write itself
-- (apply_ledger's steps, inlined) with one wallet update for balance, plan and seats (two before)
-- and the previous plan taken from the locked wallet row (a sub-select before): 7 statements
-- instead of 11 and one PL/pgSQL call less. Locks: the order row, then the wallet row, as before,
-- so concurrent captures, verifies and refunds of one payment still run one after the other.
--
-- Every statement costs ~0.3-0.5 ms in PGlite (the local stack's one serialised session); on
-- PostgreSQL the difference is small. handle_razorpay_event (20261126002100) is unchanged and
-- calls this.

-- Applies a captured Razorpay payment once per payment id (see 20261126002100 for the rules).
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
  v_payment record;
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

  -- The wallet is locked before the ledger is read, as apply_ledger did.
  select w.balance, w.plan_id into v_wallet from public.wallet w
   where w.user_id = v_payment.user_id
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
    raise exception 'no wallet for user %', v_payment.user_id using errcode = 'P0002';
  end if;
  if v_credited_to is not null then
    if v_credited_to <> v_payment.user_id then
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
   where user_id = v_payment.user_id
  returning balance into v_balance;
  insert into public.wallet_usage (user_id, amount, balance_after, reason, reference_id, metadata)
  values (v_payment.user_id, v_payment.plan_credits, v_balance, 'purchase', p_payment_id,
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
