-- Wallet and payments: the ledger's rules, the plan after a refund, the payments API's database
-- side, and refunds per payment. Four scenarios in one transaction, each with its own people
-- and order ids (identifiers are unique in this file):
--   1. the wallet: signup grant, no client writes, service-only RPCs, a balance that never goes
--      negative, chat bundles, idempotent grants, payments and report charges, refund claw-backs;
--   2. the plan after a refund is the plan of the latest purchase still paid, or none; the
--      purchased seats are those of the purchases still paid (the base seat stays); a plan an
--      admin set since is left alone;
--   3. the payments API: webhook events recorded once and applied in the same statement,
--      reconciliation's batches and expiry, the Studio admin views, and who may use them;
--   4. refunds are per payment, not per order (issue 10 review): refunding a duplicate payment of
--      an order another payment paid takes nothing back; a refund before any capture blocks only
--      that payment; a refund that fails is recorded for a person, and a refund already reported
--      failed takes nothing back.
begin;
create extension if not exists pgtap with schema extensions;
select plan(133);

-- A Razorpay payment.captured body for `p_payment` of `p_order`.
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
-- The balance of a test user's wallet.
create function pg_temp.balance(p_user text) returns integer language sql as $$
  select balance from public.wallet where user_id = tests.get_supabase_uid(p_user)
$$;

-- ================================================================== 1. the wallet
select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob');

------------------------------------------------------------------ signup
select results_eq($$ select balance, seats from public.wallet
  where user_id = tests.get_supabase_uid('alice') $$,
  $$ values (10, 1) $$, 'a new user gets a wallet with the signup grant and one seat');
select results_eq($$ select amount, reason, reference_id from public.wallet_usage
  where user_id = tests.get_supabase_uid('alice') $$,
  $$ values (10, 'signup_grant', tests.get_supabase_uid('alice')::text) $$,
  'the signup grant is in the ledger');
select isnt_empty($$ select 1 from public.profiles where id = tests.get_supabase_uid('alice') $$,
  'a new user gets a profile');
select results_eq($$ select chat_inference_counter from public.wallet_counters
  where user_id = tests.get_supabase_uid('alice') $$, array[0], 'and a chat counter at 0');

------------------------------------------------------------------ clients cannot write money
select tests.authenticate_as('alice');
select throws_ok($$ update public.wallet set balance = 1000000 $$, '42501', null,
  'a user cannot update their wallet');
select throws_ok($$ insert into public.wallet_usage (user_id, amount, balance_after, reason,
    reference_id)
  values (auth.uid(), 100, 110, 'grant', 'free') $$, '42501', null,
  'a user cannot write the ledger');
select throws_ok($$ delete from public.wallet_usage $$, '42501', null,
  'a user cannot delete ledger rows');
select throws_ok($$ update public.wallet_counters set chat_inference_counter = 0 $$, '42501', null,
  'a user cannot reset their chat counter');
select throws_ok($$ insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise)
  values (auth.uid(), 'lite', 'o', 1) $$, '42501', null, 'a user cannot create payments');
select throws_ok($$ update public.payments set status = 'paid' $$, '42501', null,
  'a user cannot mark payments paid');
select throws_ok($$ truncate public.wallet_usage $$, '42501', null,
  'a user cannot truncate the ledger');
select throws_ok($$ select private.grant_credits(auth.uid(), 100, 'grant', 'x') $$, '42501', null,
  'a user cannot call the private grant function');
select throws_ok($$ select private.apply_payment('o', 'p') $$, '42501', null,
  'a user cannot apply payments');
select throws_ok($$ select public.admin_grant_credits(auth.uid(), 100, 'x') $$, '42501', null,
  'a user cannot call the admin grant');
select throws_ok($$ select public.admin_set_plan(auth.uid(), 'enterprise', 50) $$, '42501', null,
  'a user cannot set their plan');
select tests.authenticate_as_anon();
select throws_ok($$ select public.admin_grant_credits(tests.get_supabase_uid('alice'), 100, 'x') $$,
  '42501', null, 'anon cannot call the admin grant');
select tests.authenticate_as_service_role();
select lives_ok($$ select public.admin_grant_credits(tests.get_supabase_uid('bob'), 90,
  'deal-1', 'enterprise deal') $$, 'service_role grants enterprise credits');
select lives_ok($$ select public.admin_set_plan(tests.get_supabase_uid('bob'), 'enterprise', 25) $$,
  'service_role sets an enterprise plan and seats');
reset role;
select results_eq($$ select balance, plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('bob') $$, $$ values (100, 'enterprise', 25) $$,
  'the admin grant and plan landed');
select isnt_empty($$ select 1 from private.audit_log where action = 'admin.grant_credits' $$,
  'admin grants are audited');

------------------------------------------------------------------ never negative
select throws_ok($$ select private.spend_credits(tests.get_supabase_uid('alice'), 11, 'spend',
  's1') $$,
  'PT402', 'insufficient_credits', 'spending more than the balance raises insufficient_credits');
select throws_ok($$ update public.wallet set balance = -1
  where user_id = tests.get_supabase_uid('alice') $$,
  '23514', null, 'the balance CHECK refuses a negative balance even for the owner role');
select results_eq($$ select (private.spend_credits(tests.get_supabase_uid('alice'), 4, 'spend',
  's2') ->> 'balance')::int $$, array[6], 'a spend within the balance succeeds');
select results_eq($$ select (private.spend_credits(tests.get_supabase_uid('alice'), 4, 'spend',
  's2') ->> 'applied')::boolean $$, array[false], 'the same spend key is not charged twice');

------------------------------------------------------------------ chat bundles
select results_eq($$ select count(*)::int from generate_series(1, 9) g,
  lateral private.record_chat_inference(tests.get_supabase_uid('alice'), 'm' || g) r
  where (r ->> 'charged')::boolean $$, array[0], 'nine answers charge nothing');
select results_eq($$ select pg_temp.balance('alice') $$,
  array[6], 'the balance is untouched after nine answers');
select results_eq($$ select (private.record_chat_inference(tests.get_supabase_uid('alice'), 'm9')
  ->> 'counted')::boolean $$, array[false], 'a repeated message id is not counted again');
select results_eq($$ select r ->> 'charged', r ->> 'counter', r ->> 'balance'
  from private.record_chat_inference(tests.get_supabase_uid('alice'), 'm10') r $$,
  $$ values ('true', '0', '5') $$,
  'the tenth answer costs exactly one credit and resets the counter');
select results_eq($$ select count(*)::int from public.wallet_usage
  where user_id = tests.get_supabase_uid('alice') and reason = 'chat_bundle' $$,
  array[1], 'one chat_bundle row for ten answers');

-- Spend the rest, fill a bundle to 9: the next answer cannot be paid for.
select private.spend_credits(tests.get_supabase_uid('alice'), 5, 'spend', 's3');
select count(*) from generate_series(11, 19) g,
  lateral private.record_chat_inference(tests.get_supabase_uid('alice'), 'm' || g);
select is(private.can_afford_chat(tests.get_supabase_uid('alice')), false,
  'the pre-check refuses an answer that would complete an unaffordable bundle');
select throws_ok($$ select private.record_chat_inference(tests.get_supabase_uid('alice'), 'm20') $$,
  'PT402', 'insufficient_credits', 'recording that answer raises insufficient_credits');
select results_eq($$ select chat_inference_counter from public.wallet_counters
  where user_id = tests.get_supabase_uid('alice') $$, array[9],
  'the refused answer is not counted');
select is(private.can_afford_chat(tests.get_supabase_uid('bob')), true,
  'a user with credits can chat');

------------------------------------------------------------------ idempotent grants
select private.grant_credits(tests.get_supabase_uid('alice'), 5, 'grant', 'promo-1');
select private.grant_credits(tests.get_supabase_uid('alice'), 5, 'grant', 'promo-1');
select results_eq($$ select pg_temp.balance('alice') $$,
  array[5], 'a grant with the same key lands once');

------------------------------------------------------------------ reports
select results_eq($$ select (private.charge_report(tests.get_supabase_uid('alice'), 'idem-1')
  ->> 'balance')::int $$, array[4], 'a report costs one credit');
select results_eq($$ select (private.charge_report(tests.get_supabase_uid('alice'), 'idem-1')
  ->> 'applied')::boolean $$, array[false], 'the same Idempotency-Key is charged once');
select private.refund_report(tests.get_supabase_uid('alice'), 'idem-1');
select private.refund_report(tests.get_supabase_uid('alice'), 'idem-1');
select results_eq($$ select pg_temp.balance('alice') $$,
  array[5], 'a failed report is refunded once');

------------------------------------------------------------------ payments
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  (tests.get_supabase_uid('alice'), 'pro', 'order_pro_1', 149900);
select private.apply_payment('order_pro_1', 'pay_1', 149900);
select private.apply_payment('order_pro_1', 'pay_1', 149900);
select results_eq($$ select balance, plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('alice') $$, $$ values (405, 'pro', 2) $$,
  'a pro payment applied twice adds 400 credits and one seat once');
select results_eq($$ select status, razorpay_payment_id, credits_granted from public.payments
  where razorpay_order_id = 'order_pro_1' $$, $$ values ('paid', 'pay_1', 400) $$,
  'the order is paid');
select is(private.mark_payment_failed('order_pro_1'), false,
  'a paid order never moves back to failed');
select throws_ok($$ select private.apply_payment('order_pro_1', 'pay_other') $$, '23505', null,
  'a second payment id for a paid order is refused');
select throws_ok($$ select private.apply_payment('order_pro_1', 'pay_1', 100) $$, '22023', null,
  'an amount that does not match the order is refused');

------------------------------------------------------------------ refund claw-back
select private.spend_credits(tests.get_supabase_uid('alice'), 300, 'spend', 's4');
select results_eq($$ select (r ->> 'balance')::int, (r ->> 'shortfall')::int
  from private.claw_back_payment('pay_1') r $$, $$ values (0, 295) $$,
  'a refund after spending takes what is left and reports the shortfall');
select results_eq($$ select amount, (metadata ->> 'shortfall')::int from public.wallet_usage
  where reason = 'payment_refund' and reference_id = 'pay_1' $$, $$ values (-105, 295) $$,
  'the ledger records the claw-back and its shortfall');
select results_eq($$ select (private.claw_back_payment('pay_1') ->> 'applied')::boolean $$,
  array[false], 'a repeated refund claws back nothing more');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('alice') $$, $$ values (null::text, 1) $$,
  'a refund removes the seat the plan added and restores the previous plan');
select results_eq($$ select status from public.payments where razorpay_order_id = 'order_pro_1' $$,
  array['refunded'], 'the order is refunded');

-- A refund that arrives before the capture: the late capture grants nothing.
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  (tests.get_supabase_uid('bob'), 'lite', 'order_lite_early', 49900);
select results_eq($$ select (private.claw_back_payment('pay_early', 'order_lite_early')
  ->> 'applied')::boolean $$, array[true], 'a refund before capture is recorded against the order');
select results_eq($$ select (private.apply_payment('order_lite_early', 'pay_early')
  ->> 'applied')::boolean $$, array[false],
  'the late capture of a refunded payment grants nothing');
select results_eq($$ select pg_temp.balance('bob') $$, array[100], 'the balance is untouched');

------------------------------------------------------------------ keys belong to one wallet
select throws_ok($$ select private.grant_credits(tests.get_supabase_uid('bob'), 5, 'grant',
  'promo-1') $$, '23505', null, 'another wallet cannot reuse a ledger key');
select throws_ok($$ select private.record_chat_inference(tests.get_supabase_uid('bob'), 'm10') $$,
  '23505', null, 'another user cannot replay a counted message id for a free answer');

------------------------------------------------------------------ deleting a user
create temp table bob on commit drop as select tests.get_supabase_uid('bob') as id;
select lives_ok($$ delete from auth.users where id = (select id from bob) $$,
  'deleting a user cascades through the append-only ledger');
select is_empty($$ select 1 from public.wallet_usage where user_id = (select id from bob) $$,
  'and removes their ledger rows');

------------------------------------------------------------------ the ledger is append-only
select throws_ok($$ update public.wallet_usage set amount = 1000 $$, '42501', null,
  'the ledger is append-only, even for the owner role');

-- ================================================================== 2. the plan after a refund
-- pia buys Pro twice, leon buys Lite then Pro, enzo buys Pro and is then given Enterprise.
select tests.create_supabase_user(u) from unnest(array['pia', 'leon', 'enzo']) u;
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  (tests.get_supabase_uid('pia'), 'pro', 'order_pro_a', 149900),
  (tests.get_supabase_uid('pia'), 'pro', 'order_pro_b', 149900),
  (tests.get_supabase_uid('leon'), 'lite', 'order_lite_c', 49900),
  (tests.get_supabase_uid('leon'), 'pro', 'order_pro_c', 149900),
  (tests.get_supabase_uid('enzo'), 'pro', 'order_pro_e', 149900);

------------------------------------------------------------------ two Pro purchases
select private.apply_payment('order_pro_a', 'pay_pro_a');
select private.apply_payment('order_pro_b', 'pay_pro_b');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('pia') $$, $$ values ('pro', 3) $$,
  'two Pro purchases: pro with two extra seats');
select private.claw_back_payment('pay_pro_a');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('pia') $$, $$ values ('pro', 2) $$,
  'refunding the first keeps pro and the second purchase''s seat');
select private.claw_back_payment('pay_pro_b');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('pia') $$, $$ values (null::text, 1) $$,
  'refunding both leaves no plan and no purchased seat');
select results_eq($$ select status from public.payments
  where user_id = tests.get_supabase_uid('pia') order by razorpay_order_id $$,
  array['refunded', 'refunded'], 'both orders are refunded');

------------------------------------------------------------------ lite, then pro
select private.apply_payment('order_lite_c', 'pay_lite_c');
select private.apply_payment('order_pro_c', 'pay_pro_c');
-- Applied a day apart (one transaction has one now()).
update public.payments set paid_at = now() - interval '1 day'
 where razorpay_order_id = 'order_lite_c';
select private.claw_back_payment('pay_pro_c');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('leon') $$, $$ values ('lite', 1) $$,
  'refunding the latest purchase falls back to the earlier one still paid');
select private.apply_payment('order_pro_c', 'pay_pro_c');
select results_eq($$ select plan_id from public.wallet
  where user_id = tests.get_supabase_uid('leon') $$, array['lite'],
  'a refunded order is never applied again');
select private.claw_back_payment('pay_lite_c');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('leon') $$, $$ values (null::text, 1) $$,
  'refunding the last paid purchase leaves no plan');

------------------------------------------------------------------ an admin's plan stays
select private.apply_payment('order_pro_e', 'pay_pro_e');
select public.admin_set_plan(tests.get_supabase_uid('enzo'), 'enterprise', 25);
select private.claw_back_payment('pay_pro_e');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = tests.get_supabase_uid('enzo') $$, $$ values ('enterprise', 24) $$,
  'a refund leaves an enterprise plan set since by an admin, taking back only its own seat');
select results_eq($$ select count(*)::int from public.wallet_usage
  where reason = 'payment_refund' and user_id in (tests.get_supabase_uid('pia'),
    tests.get_supabase_uid('leon'), tests.get_supabase_uid('enzo')) $$,
  array[5], 'every refund is in the ledger once');

-- ================================================================== 3. the payments API
-- bianca buys Lite and Pro; otto's orders fail, are paid twice, go stale or expire.
select tests.create_supabase_user('bianca');
select tests.create_supabase_user('otto');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, receipt) values
  (tests.get_supabase_uid('bianca'), 'lite', 'order_t_lite', 49900, 'rcpt_t_1'),
  (tests.get_supabase_uid('bianca'), 'pro', 'order_t_pro', 149900, 'rcpt_t_2'),
  (tests.get_supabase_uid('otto'), 'lite', 'order_t_failed', 49900, 'rcpt_t_3');

------------------------------------------------------------------ objects
select has_table('private', 'razorpay_events', 'webhook events are kept in the private schema');
select has_view('private', 'admin_wallets', 'Studio has a wallets view');
select has_view('private', 'admin_payments', 'Studio has a payments view');
select isnt_empty($$ select 1 from cron.job where jobname = 'payments-reconcile'
  and command like '%kick_payment_reconcile%' $$, 'a cron job kicks reconciliation');

------------------------------------------------------------------ API roles see none of it
select tests.authenticate_as('bianca');
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
  where user_id = tests.get_supabase_uid('bianca') $$, $$ values (110, 'lite') $$,
  'the capture credited 100 once');
select results_eq($$ select count(*)::int from private.razorpay_events
  where order_id = 'order_t_lite' $$, array[2], 'both events are kept');
select results_eq($$ select private.handle_razorpay_event('evt_frac', 'payment.captured',
    jsonb_set(pg_temp.captured('order_t_frac', 'pay_t_frac', 49900),
              '{payload,payment,entity,amount}', '499.5')) ->> 'outcome' $$,
  array['malformed_amount'], 'an amount that is not whole paise is malformed, not an error');
select results_eq($$ select outcome from private.razorpay_events where event_id = 'evt_frac' $$,
  array['malformed_amount'], 'and it is recorded');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  (tests.get_supabase_uid('otto'), 'lite', 'order_t_double', 49900);
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
select private.spend_credits(tests.get_supabase_uid('bianca'), 7, 'chat_bundle', 'm-1');
select private.spend_credits(tests.get_supabase_uid('bianca'), 1, 'report', 'r-1');
select results_eq($$ select private.handle_razorpay_event('evt_9', 'refund.processed',
    '{"payload": {"refund": {"entity": {"id": "rfnd_2", "payment_id": "pay_t_1", "amount": 49900}},
         "payment": {"entity": {"id": "pay_t_1", "order_id": "order_t_lite", "amount": 49900}}}}')
    ->> 'outcome' $$, array['clawed_back'], 'a full refund claws back');
select results_eq($$ select pg_temp.balance('bianca') $$, array[2],
  '110 - 8 spent - 100 clawed back');

------------------------------------------------------------------ the admin views
update public.payments set created_at = now() - interval '1 hour'
 where razorpay_order_id = 'order_t_lite';
select results_eq($$ select email, balance, credits_spent_this_month, last_payment_plan_id
  from private.admin_wallets where user_id = tests.get_supabase_uid('bianca') $$,
  $$ values ('bianca@test.local'::text, 2, 8, 'pro'::text) $$,
  'admin_wallets: email, balance, spent this month, last payment');
select results_eq($$ select status, webhook_events, last_event_outcome from private.admin_payments
  where razorpay_order_id = 'order_t_lite' $$,
  $$ values ('refunded'::text, 5, 'clawed_back'::text) $$,
  'admin_payments: state and the events of the order');

------------------------------------------------------------------ reconciliation
-- (The orders of scenarios 1 and 2 were made now() and are paid or refunded: none is due.)
update public.payments set created_at = now() - interval '5 minutes'
 where razorpay_order_id in ('order_t_pro', 'order_t_failed');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, created_at) values
  (tests.get_supabase_uid('otto'), 'lite', 'order_t_fresh', 49900, now()),
  (tests.get_supabase_uid('otto'), 'lite', 'order_t_old', 49900, now() - interval '4 days');
select results_eq($$ select private.kick_payment_reconcile() $$, array[true],
  'the cron job kicks the route when orders are due');
select results_eq($$ select razorpay_order_id from private.take_payments_to_reconcile(10)
  order by 1 $$, array['order_t_failed', 'order_t_pro'],
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

-- ================================================================== 4. refunds per payment
-- tara's order is paid twice, rafa's refund comes before any capture, fiona's refund fails after
-- it clawed back, felix's refund fails before anything was taken.
select tests.create_supabase_user(u) from unnest(array['tara', 'rafa', 'fiona', 'felix']) u;
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, receipt) values
  (tests.get_supabase_uid('tara'), 'lite', 'order_r_dup', 49900, 'rcpt_r_1'),
  (tests.get_supabase_uid('rafa'), 'lite', 'order_r_first', 49900, 'rcpt_r_2'),
  (tests.get_supabase_uid('fiona'), 'pro', 'order_r_fail', 149900, 'rcpt_r_3'),
  (tests.get_supabase_uid('felix'), 'lite', 'order_r_late', 49900, 'rcpt_r_4');

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
select results_eq($$ select pg_temp.balance('tara') $$, array[110],
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
select results_eq($$ select pg_temp.balance('tara') $$, array[10],
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
select results_eq($$ select pg_temp.balance('rafa') $$, array[110],
  'the customer who paid has the credits (10 + 100)');
select results_eq($$ select status, razorpay_payment_id from public.payments
  where razorpay_order_id = 'order_r_first' $$, $$ values ('paid'::text, 'pay_f_a'::text) $$,
  'the order is paid by the kept payment');
select results_eq($$ select private.handle_razorpay_event('evt_r8', 'order.paid',
    pg_temp.captured('order_r_first', 'pay_f_a', 49900)) ->> 'outcome' $$,
  array['already_credited'], 'it credits once');
select throws_ok($$ select private.apply_payment('order_r_first', 'pay_f_b') $$, '23505', null,
  'the refunded payment never credits');
select results_eq($$ select pg_temp.balance('rafa') $$, array[110], 'the balance is unchanged');

-- Reconciliation still asks Razorpay about an order whose only payment so far was refunded.
-- (Scenario 3's due orders were asked about just now, so they are not due again.)
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise, created_at) values
  (tests.get_supabase_uid('rafa'), 'lite', 'order_r_lost', 49900, now() - interval '5 minutes');
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
select results_eq($$ select pg_temp.balance('fiona') $$, array[10],
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
select results_eq($$ select pg_temp.balance('felix') $$, array[110],
  'the customer keeps the credits of the payment we kept');
select results_eq($$ select private.handle_razorpay_event('evt_r16', 'refund.processed',
    pg_temp.refund('order_r_late', 'pay_h', 'rfnd_h2', 49900)) ->> 'outcome' $$,
  array['clawed_back'], 'a new refund of the payment claws back');

select * from finish();
rollback;
