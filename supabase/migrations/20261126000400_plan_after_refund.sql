-- The plan after a refund: the plan of the latest purchase still paid, or none.
--
-- claw_back_payment used to restore the plan the wallet had before the refunded payment, so
-- refunding the first of two Pro purchases set the plan to NULL although the second was still
-- paid. Now a refund that takes away the wallet's current plan recomputes it from the purchases
-- still paid (the latest applied one wins), or none. Seats follow the same rule: each refund takes
-- back exactly the seats its payment added (never below the base seat), so the purchased seats are
-- those of the purchases still paid. A plan an admin set since (admin_set_plan) is left alone.

-- Claws back a refunded payment once: takes back what the balance still holds (never below 0),
-- records the shortfall in the ledger row's metadata, removes the seats the payment added and, when
-- the wallet's plan is the refunded one, sets the plan of the latest purchase still paid (or none).
-- A refund that arrives before the payment was applied (found by its order) marks the order
-- refunded, so the late capture grants nothing.
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
