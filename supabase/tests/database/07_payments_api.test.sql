-- The payments API's database side: webhook events recorded once and applied in the same
-- statement, reconciliation's batches and expiry, the Studio admin views, and who may use them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(38);

insert into auth.users (id, email) values
  ('0b100000-0000-0000-0000-000000000001', 'buyer@example.com'),
  ('0b100000-0000-0000-0000-000000000002', 'other@example.com');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, receipt) values
  ('0b100000-0000-0000-0000-000000000001', 'lite', 'order_t_lite', 49900, 'rcpt_t_1'),
  ('0b100000-0000-0000-0000-000000000001', 'pro', 'order_t_pro', 149900, 'rcpt_t_2'),
  ('0b100000-0000-0000-0000-000000000002', 'lite', 'order_t_failed', 49900, 'rcpt_t_3');

create function pg_temp.captured(p_order text, p_payment text, p_amount integer) returns jsonb
language sql as $$
  select jsonb_build_object('event', 'payment.captured', 'payload', jsonb_build_object(
    'payment', jsonb_build_object('entity', jsonb_build_object('id', p_payment, 'entity', 'payment',
      'order_id', p_order, 'amount', p_amount, 'currency', 'INR', 'status', 'captured'))))
$$;

------------------------------------------------------------------ objects
select has_table('private', 'razorpay_events', 'webhook events are kept in the private schema');
select has_view('private', 'admin_wallets', 'Studio has a wallets view');
select has_view('private', 'admin_payments', 'Studio has a payments view');
select isnt_empty($$ select 1 from cron.job where jobname = 'payments-reconcile'
  and command like '%kick_payment_reconcile%' $$, 'a cron job kicks reconciliation');

------------------------------------------------------------------ API roles see none of it
select tests.authenticate_as('0b100000-0000-0000-0000-000000000001');
select throws_ok($$ select * from private.razorpay_events $$, '42501', null,
  'a user cannot read webhook events');
select throws_ok($$ select * from private.admin_wallets $$, '42501', null,
  'a user cannot read the admin wallets view');
select throws_ok($$ select * from private.admin_payments $$, '42501', null,
  'a user cannot read the admin payments view');
select throws_ok($$ select private.handle_razorpay_event('e', 'payment.captured', '{}') $$, '42501',
  null, 'a user cannot feed webhook events');
select throws_ok($$ select * from private.take_payments_to_reconcile(10) $$, '42501', null,
  'a user cannot take orders to reconcile');
select throws_ok($$ update public.payments set status = 'expired' $$, '42501', null,
  'a user cannot expire payments');
select tests.authenticate_as_anon();
select throws_ok($$ select * from private.admin_wallets $$, '42501', null,
  'anon cannot read the admin wallets view');
select throws_ok($$ select private.kick_payment_reconcile() $$, '42501', null,
  'anon cannot kick reconciliation');
select tests.authenticate_as_service_role();
select lives_ok($$ select * from private.admin_wallets $$, 'service_role reads the wallets view');
select throws_ok($$ update private.razorpay_events set outcome = 'credited' $$, '42501', null,
  'not even service_role edits webhook events');
select results_eq($$ select private.handle_razorpay_event('evt_1', 'payment.captured',
    pg_temp.captured('order_t_lite', 'pay_t_1', 49900)) ->> 'outcome' $$,
  array['credited'], 'service_role applies a capture');
reset role;

------------------------------------------------------------------ events: once, in any order
select results_eq($$ select private.handle_razorpay_event('evt_1', 'payment.captured',
    pg_temp.captured('order_t_lite', 'pay_t_1', 49900)) ->> 'outcome' $$,
  array['duplicate'], 'the same event id is recorded once and not applied again');
select results_eq($$ select private.handle_razorpay_event('evt_2', 'order.paid',
    pg_temp.captured('order_t_lite', 'pay_t_1', 49900)) ->> 'outcome' $$,
  array['already_credited'], 'another event for the same payment credits nothing');
select results_eq($$ select balance, plan_id from public.wallet
  where user_id = '0b100000-0000-0000-0000-000000000001' $$, $$ values (110, 'lite') $$,
  'the capture credited 100 once');
select results_eq($$ select count(*)::int from private.razorpay_events where order_id = 'order_t_lite' $$,
  array[2], 'both events are kept');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  ('0b100000-0000-0000-0000-000000000002', 'lite', 'order_t_double', 49900);
select results_eq($$ select private.handle_razorpay_event('evt_d1', 'payment.captured',
    pg_temp.captured('order_t_double', 'pay_d1', 49900)) ->> 'outcome' $$,
  array['credited'], 'a second customer payment on one order: the first credits');
select results_eq($$ select private.handle_razorpay_event('evt_d2', 'payment.captured',
    pg_temp.captured('order_t_double', 'pay_d2', 49900)) ->> 'outcome' $$,
  array['paid_by_other_payment'], 'the second is kept for a person (a refund) and credits nothing');
select results_eq($$ select private.handle_razorpay_event('evt_3', 'payment.captured',
    pg_temp.captured('order_t_pro', 'pay_t_2', 100)) ->> 'outcome' $$,
  array['amount_mismatch'], 'a payment of another amount credits nothing');
select results_eq($$ select private.handle_razorpay_event('evt_4', 'payment.captured',
    pg_temp.captured('order_nobody', 'pay_t_3', 49900)) ->> 'outcome' $$,
  array['unknown_order'], 'an unknown order is kept and credits nothing');
select results_eq($$ select private.handle_razorpay_event('evt_5', 'subscription.charged',
    '{"payload": {}}') ->> 'outcome' $$, array['ignored'], 'unknown event types are ignored');
select results_eq($$ select private.handle_razorpay_event('evt_6', 'payment.failed',
    pg_temp.captured('order_t_lite', 'pay_t_9', 49900)) ->> 'outcome' $$,
  array['not_failed'], 'a failure never moves a paid order back');
select results_eq($$ select private.handle_razorpay_event('evt_7', 'payment.failed',
    pg_temp.captured('order_t_failed', 'pay_t_8', 49900)) ->> 'outcome' $$,
  array['marked_failed'], 'a failure marks an unpaid order failed');
select results_eq($$ select private.handle_razorpay_event('evt_8', 'refund.processed',
    pg_temp.captured('order_t_lite', 'pay_t_1', 49900)
    || '{"payload": {"refund": {"entity": {"id": "rfnd_1", "payment_id": "pay_t_1", "amount": 100}},
         "payment": {"entity": {"id": "pay_t_1", "order_id": "order_t_lite", "amount": 49900}}}}')
    ->> 'outcome' $$, array['partial_refund'], 'a partial refund takes nothing back');
select private.spend_credits('0b100000-0000-0000-0000-000000000001', 7, 'chat_bundle', 'm-1');
select private.spend_credits('0b100000-0000-0000-0000-000000000001', 1, 'report', 'r-1');
select results_eq($$ select private.handle_razorpay_event('evt_9', 'refund.processed',
    '{"payload": {"refund": {"entity": {"id": "rfnd_2", "payment_id": "pay_t_1", "amount": 49900}},
         "payment": {"entity": {"id": "pay_t_1", "order_id": "order_t_lite", "amount": 49900}}}}')
    ->> 'outcome' $$, array['clawed_back'], 'a full refund claws back');
select results_eq($$ select balance from public.wallet
  where user_id = '0b100000-0000-0000-0000-000000000001' $$, array[2],
  '110 - 8 spent - 100 clawed back');

------------------------------------------------------------------ the admin views
update public.payments set created_at = now() - interval '1 hour'
 where razorpay_order_id = 'order_t_lite';
select results_eq($$ select email, balance, credits_spent_this_month, last_payment_plan_id
  from private.admin_wallets where user_id = '0b100000-0000-0000-0000-000000000001' $$,
  $$ values ('buyer@example.com'::text, 2, 8, 'pro'::text) $$,
  'admin_wallets: email, balance, spent this month, last payment');
select results_eq($$ select status, webhook_events, last_event_outcome from private.admin_payments
  where razorpay_order_id = 'order_t_lite' $$,
  $$ values ('refunded'::text, 5, 'clawed_back'::text) $$,
  'admin_payments: state and the events of the order');

------------------------------------------------------------------ reconciliation
update public.payments set created_at = now() - interval '5 minutes'
 where razorpay_order_id in ('order_t_pro', 'order_t_failed');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, created_at) values
  ('0b100000-0000-0000-0000-000000000002', 'lite', 'order_t_fresh', 49900, now()),
  ('0b100000-0000-0000-0000-000000000002', 'lite', 'order_t_old', 49900, now() - interval '4 days');
select results_eq($$ select private.kick_payment_reconcile() $$, array[true],
  'the cron job kicks the route when orders are due');
select results_eq($$ select razorpay_order_id from private.take_payments_to_reconcile(10) order by 1 $$,
  array['order_t_failed', 'order_t_pro'],
  'unpaid and failed orders older than two minutes are due; fresh ones are not');
select is_empty($$ select * from private.take_payments_to_reconcile(10) $$,
  'an order just asked about is not asked again at once');
select results_eq($$ select status from public.payments where razorpay_order_id = 'order_t_old' $$,
  array['expired'], 'an order unpaid after three days is expired');
select results_eq($$ select private.handle_razorpay_event('evt_10', 'payment.captured',
    pg_temp.captured('order_t_old', 'pay_t_old', 49900)) ->> 'outcome' $$, array['credited'],
  'money captured for an expired order is still credited');
update public.payments set reconciled_at = now() - interval '10 minutes'
 where razorpay_order_id = 'order_t_pro';
select results_eq($$ select razorpay_order_id from private.take_payments_to_reconcile(10) $$,
  array['order_t_pro'], 'asked again after a quarter of its age');
select results_eq($$ select private.setting_int('payment_reconcile_min_age_seconds', 0),
  private.setting_int('payment_order_expiry_hours', 0) $$, $$ values (120, 72) $$,
  'the thresholds are settings');

select * from finish();
rollback;
