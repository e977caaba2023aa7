-- Refunds are per payment, not per order (issue 10 review): refunding a duplicate payment of an
-- order another payment paid is recorded and takes nothing back; a refund that comes before any
-- capture blocks only that payment, so the payment the customer kept still credits once; a refund
-- that fails is recorded for a person, and a refund already reported failed takes nothing back.
begin;
create extension if not exists pgtap with schema extensions;
select plan(29);

insert into auth.users (id, email) values
  ('0c200000-0000-0000-0000-000000000001', 'paid-twice@example.com'),
  ('0c200000-0000-0000-0000-000000000002', 'refund-first@example.com'),
  ('0c200000-0000-0000-0000-000000000003', 'refund-failed@example.com'),
  ('0c200000-0000-0000-0000-000000000004', 'failed-first@example.com');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, receipt) values
  ('0c200000-0000-0000-0000-000000000001', 'lite', 'order_r_dup', 49900, 'rcpt_r_1'),
  ('0c200000-0000-0000-0000-000000000002', 'lite', 'order_r_first', 49900, 'rcpt_r_2'),
  ('0c200000-0000-0000-0000-000000000003', 'pro', 'order_r_fail', 149900, 'rcpt_r_3'),
  ('0c200000-0000-0000-0000-000000000004', 'lite', 'order_r_late', 49900, 'rcpt_r_4');

create function pg_temp.captured(p_order text, p_payment text, p_amount integer) returns jsonb
language sql as $$
  select jsonb_build_object('event', 'payment.captured', 'payload', jsonb_build_object(
    'payment', jsonb_build_object('entity', jsonb_build_object('id', p_payment, 'entity', 'payment',
      'order_id', p_order, 'amount', p_amount, 'currency', 'INR', 'status', 'captured'))))
$$;
-- A full refund `p_refund` of `p_payment` (refund.created / .processed / .failed carry both).
create function pg_temp.refund(p_order text, p_payment text, p_refund text, p_amount integer)
returns jsonb language sql as $$
  select jsonb_build_object('payload', jsonb_build_object(
    'refund', jsonb_build_object('entity', jsonb_build_object('id', p_refund, 'entity', 'refund',
      'payment_id', p_payment, 'amount', p_amount, 'currency', 'INR')),
    'payment', jsonb_build_object('entity', jsonb_build_object('id', p_payment, 'entity', 'payment',
      'order_id', p_order, 'amount', p_amount, 'currency', 'INR', 'status', 'refunded',
      'amount_refunded', p_amount))))
$$;
create function pg_temp.balance(p_user uuid) returns integer language sql as $$
  select balance from public.wallet where user_id = p_user
$$;

------------------------------------------------------------------ refunding a duplicate payment
select results_eq($$ select private.handle_razorpay_event('evt_r1', 'payment.captured',
    pg_temp.captured('order_r_dup', 'pay_r_a', 49900)) ->> 'outcome' $$,
  array['credited'], 'the first payment of the order credits');
select results_eq($$ select private.handle_razorpay_event('evt_r2', 'payment.captured',
    pg_temp.captured('order_r_dup', 'pay_r_b', 49900)) ->> 'outcome' $$,
  array['paid_by_other_payment'], 'the second payment of the order is kept for a person');
select results_eq($$ select private.handle_razorpay_event('evt_r3', 'refund.processed',
    pg_temp.refund('order_r_dup', 'pay_r_b', 'rfnd_r_b', 49900)) ->> 'outcome' $$,
  array['refund_of_other_payment'], 'refunding the duplicate payment is recorded, not an error');
select results_eq($$ select outcome from private.razorpay_events where event_id = 'evt_r3' $$,
  array['refund_of_other_payment'], 'the refund event is kept, so Razorpay stops retrying');
select results_eq($$ select pg_temp.balance('0c200000-0000-0000-0000-000000000001') $$, array[110],
  'refunding the duplicate takes nothing back (10 + 100)');
select results_eq($$ select status, razorpay_payment_id from public.payments
  where razorpay_order_id = 'order_r_dup' $$, $$ values ('paid'::text, 'pay_r_a'::text) $$,
  'the order stays paid by the payment that credited');
select results_eq($$ select private.handle_razorpay_event('evt_r4', 'refund.created',
    pg_temp.refund('order_r_dup', 'pay_r_b', 'rfnd_r_b', 49900)) ->> 'outcome' $$,
  array['refund_of_other_payment'], 'refund.created of the duplicate is the same');
select results_eq($$ select private.handle_razorpay_event('evt_r5', 'refund.processed',
    pg_temp.refund('order_r_dup', 'pay_r_a', 'rfnd_r_a', 49900)) ->> 'outcome' $$,
  array['clawed_back'], 'refunding the payment that credited still claws back');
select results_eq($$ select pg_temp.balance('0c200000-0000-0000-0000-000000000001') $$, array[10],
  'only that refund took the 100 back');
select results_eq($$ select (r ->> 'applied')::boolean, (r ->> 'other_payment')::boolean
  from private.claw_back_payment('pay_r_c', 'order_r_dup') r $$, $$ values (false, true) $$,
  'claw_back_payment: another payment of a paid order takes nothing and does not raise');
select throws_ok($$ select private.claw_back_payment('pay_r_nobody', 'order_r_nobody') $$, 'P0002',
  null, 'claw_back_payment: an unknown payment of an unknown order still raises');

------------------------------------------------------------------ a refund before any capture
select results_eq($$ select private.handle_razorpay_event('evt_r6', 'refund.processed',
    pg_temp.refund('order_r_first', 'pay_f_b', 'rfnd_f_b', 49900)) ->> 'outcome' $$,
  array['clawed_back'], 'a refund of one payment before any capture is recorded');
select results_eq($$ select razorpay_payment_id from public.payments
  where razorpay_order_id = 'order_r_first' $$, array[null::text],
  'the order is not tied to the refunded payment');
select results_eq($$ select private.handle_razorpay_event('evt_r7', 'payment.captured',
    pg_temp.captured('order_r_first', 'pay_f_a', 49900)) ->> 'outcome' $$,
  array['credited'], 'the payment the customer kept credits');
select results_eq($$ select pg_temp.balance('0c200000-0000-0000-0000-000000000002') $$, array[110],
  'the customer who paid has the credits (10 + 100)');
select results_eq($$ select status, razorpay_payment_id from public.payments
  where razorpay_order_id = 'order_r_first' $$, $$ values ('paid'::text, 'pay_f_a'::text) $$,
  'the order is paid by the kept payment');
select results_eq($$ select private.handle_razorpay_event('evt_r8', 'order.paid',
    pg_temp.captured('order_r_first', 'pay_f_a', 49900)) ->> 'outcome' $$,
  array['already_credited'], 'it credits once');
select throws_ok($$ select private.apply_payment('order_r_first', 'pay_f_b') $$, '23505', null,
  'the refunded payment never credits');
select results_eq($$ select pg_temp.balance('0c200000-0000-0000-0000-000000000002') $$, array[110],
  'the balance is unchanged');

-- Reconciliation still asks Razorpay about an order whose only payment so far was refunded.
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, created_at) values
  ('0c200000-0000-0000-0000-000000000002', 'lite', 'order_r_lost', 49900,
   now() - interval '5 minutes');
select private.handle_razorpay_event('evt_r8b', 'refund.processed',
  pg_temp.refund('order_r_lost', 'pay_l_b', 'rfnd_l_b', 49900));
select results_eq($$ select razorpay_order_id from private.take_payments_to_reconcile(10) $$,
  array['order_r_lost'], 'an order whose only payment was refunded before capture is reconciled');
select results_eq($$ select (private.apply_payment('order_r_lost', 'pay_l_a', 49900)
    ->> 'applied')::boolean $$, array[true],
  'the kept payment reconciliation finds credits');

------------------------------------------------------------------ a refund that fails
select private.handle_razorpay_event('evt_r9', 'payment.captured',
  pg_temp.captured('order_r_fail', 'pay_g', 149900));
select results_eq($$ select private.handle_razorpay_event('evt_r10', 'refund.created',
    pg_temp.refund('order_r_fail', 'pay_g', 'rfnd_g1', 149900)) ->> 'outcome' $$,
  array['clawed_back'], 'refund.created of a full refund claws back');
select results_eq($$ select r ->> 'outcome', (r ->> 'taken')::int
  from private.handle_razorpay_event('evt_r11', 'refund.failed',
    pg_temp.refund('order_r_fail', 'pay_g', 'rfnd_g1', 149900)) r $$,
  $$ values ('refund_failed'::text, 400) $$,
  'refund.failed of a refund that clawed back is recorded for a person, with what was taken');
select results_eq($$ select pg_temp.balance('0c200000-0000-0000-0000-000000000003') $$, array[10],
  'nothing is restored automatically (a person decides)');
select results_eq($$ select private.handle_razorpay_event('evt_r12', 'refund.failed',
    pg_temp.refund('order_r_fail', 'pay_g', 'rfnd_g1', 149900)) ->> 'outcome' $$,
  array['refund_failed'], 'another delivery of the failure changes nothing either');

-- The failure arrives before the refund's refund.created (events come in any order).
select private.handle_razorpay_event('evt_r13', 'payment.captured',
  pg_temp.captured('order_r_late', 'pay_h', 49900));
select results_eq($$ select private.handle_razorpay_event('evt_r14', 'refund.failed',
    pg_temp.refund('order_r_late', 'pay_h', 'rfnd_h1', 49900)) ->> 'outcome' $$,
  array['refund_failed_nothing_taken'], 'a failure before anything was taken is recorded');
select results_eq($$ select private.handle_razorpay_event('evt_r15', 'refund.created',
    pg_temp.refund('order_r_late', 'pay_h', 'rfnd_h1', 49900)) ->> 'outcome' $$,
  array['refund_already_failed'], 'the late refund.created of the failed refund takes nothing');
select results_eq($$ select pg_temp.balance('0c200000-0000-0000-0000-000000000004') $$, array[110],
  'the customer keeps the credits of the payment we kept');
select results_eq($$ select private.handle_razorpay_event('evt_r16', 'refund.processed',
    pg_temp.refund('order_r_late', 'pay_h', 'rfnd_h2', 49900)) ->> 'outcome' $$,
  array['clawed_back'], 'a new refund of the payment claws back');

select * from finish();
rollback;
