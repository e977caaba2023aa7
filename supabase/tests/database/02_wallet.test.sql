-- The wallet: signup grant, no client writes, service-only RPCs, a balance that never goes
-- negative, chat bundles, idempotent grants, payments and report charges, refund claw-backs.
begin;
create extension if not exists pgtap with schema extensions;
select plan(56);

insert into auth.users (id, email) values
  ('aaaaaaaa-0000-0000-0000-0000000000a1', 'wallet-a@example.com'),
  ('bbbbbbbb-0000-0000-0000-0000000000b2', 'wallet-b@example.com');

------------------------------------------------------------------ signup
select results_eq($$ select balance, seats from public.wallet
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  $$ values (10, 1) $$, 'a new user gets a wallet with the signup grant and one seat');
select results_eq($$ select amount, reason, reference_id from public.wallet_usage
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  $$ values (10, 'signup_grant', 'aaaaaaaa-0000-0000-0000-0000000000a1') $$,
  'the signup grant is in the ledger');
select isnt_empty($$ select 1 from public.profiles where id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  'a new user gets a profile');
select results_eq($$ select chat_inference_counter from public.wallet_counters
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$, array[0], 'and a chat counter at 0');

------------------------------------------------------------------ clients cannot write money
select tests.authenticate_as('aaaaaaaa-0000-0000-0000-0000000000a1');
select throws_ok($$ update public.wallet set balance = 1000000 $$, '42501', null,
  'a user cannot update their wallet');
select throws_ok($$ insert into public.wallet_usage (user_id, amount, balance_after, reason, reference_id)
  values (auth.uid(), 100, 110, 'grant', 'free') $$, '42501', null, 'a user cannot write the ledger');
select throws_ok($$ delete from public.wallet_usage $$, '42501', null, 'a user cannot delete ledger rows');
select throws_ok($$ update public.wallet_counters set chat_inference_counter = 0 $$, '42501', null,
  'a user cannot reset their chat counter');
select throws_ok($$ insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise)
  values (auth.uid(), 'lite', 'o', 1) $$, '42501', null, 'a user cannot create payments');
select throws_ok($$ update public.payments set status = 'paid' $$, '42501', null,
  'a user cannot mark payments paid');
select throws_ok($$ truncate public.wallet_usage $$, '42501', null, 'a user cannot truncate the ledger');
select throws_ok($$ select private.grant_credits(auth.uid(), 100, 'grant', 'x') $$, '42501', null,
  'a user cannot call the private grant function');
select throws_ok($$ select private.apply_payment('o', 'p') $$, '42501', null,
  'a user cannot apply payments');
select throws_ok($$ select public.admin_grant_credits(auth.uid(), 100, 'x') $$, '42501', null,
  'a user cannot call the admin grant');
select throws_ok($$ select public.admin_set_plan(auth.uid(), 'enterprise', 50) $$, '42501', null,
  'a user cannot set their plan');
select tests.authenticate_as_anon();
select throws_ok($$ select public.admin_grant_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 100, 'x') $$,
  '42501', null, 'anon cannot call the admin grant');
select tests.authenticate_as_service_role();
select lives_ok($$ select public.admin_grant_credits('bbbbbbbb-0000-0000-0000-0000000000b2', 90,
  'deal-1', 'enterprise deal') $$, 'service_role grants enterprise credits');
select lives_ok($$ select public.admin_set_plan('bbbbbbbb-0000-0000-0000-0000000000b2', 'enterprise', 25) $$,
  'service_role sets an enterprise plan and seats');
reset role;
select results_eq($$ select balance, plan_id, seats from public.wallet
  where user_id = 'bbbbbbbb-0000-0000-0000-0000000000b2' $$, $$ values (100, 'enterprise', 25) $$,
  'the admin grant and plan landed');
select isnt_empty($$ select 1 from private.audit_log where action = 'admin.grant_credits' $$,
  'admin grants are audited');

------------------------------------------------------------------ never negative
select throws_ok($$ select private.spend_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 11, 'spend', 's1') $$,
  'PT402', 'insufficient_credits', 'spending more than the balance raises insufficient_credits');
select throws_ok($$ update public.wallet set balance = -1 where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  '23514', null, 'the balance CHECK refuses a negative balance even for the owner role');
select results_eq($$ select (private.spend_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 4, 'spend', 's2')
  ->> 'balance')::int $$, array[6], 'a spend within the balance succeeds');
select results_eq($$ select (private.spend_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 4, 'spend', 's2')
  ->> 'applied')::boolean $$, array[false], 'the same spend key is not charged twice');

------------------------------------------------------------------ chat bundles
select results_eq($$ select count(*)::int from generate_series(1, 9) g,
  lateral private.record_chat_inference('aaaaaaaa-0000-0000-0000-0000000000a1', 'm' || g) r
  where (r ->> 'charged')::boolean $$, array[0], 'nine answers charge nothing');
select results_eq($$ select balance from public.wallet where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  array[6], 'the balance is untouched after nine answers');
select results_eq($$ select (private.record_chat_inference('aaaaaaaa-0000-0000-0000-0000000000a1', 'm9')
  ->> 'counted')::boolean $$, array[false], 'a repeated message id is not counted again');
select results_eq($$ select r ->> 'charged', r ->> 'counter', r ->> 'balance'
  from private.record_chat_inference('aaaaaaaa-0000-0000-0000-0000000000a1', 'm10') r $$,
  $$ values ('true', '0', '5') $$, 'the tenth answer costs exactly one credit and resets the counter');
select results_eq($$ select count(*)::int from public.wallet_usage
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' and reason = 'chat_bundle' $$,
  array[1], 'one chat_bundle row for ten answers');

-- Spend the rest, fill a bundle to 9: the next answer cannot be paid for.
select private.spend_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 5, 'spend', 's3');
select count(*) from generate_series(11, 19) g,
  lateral private.record_chat_inference('aaaaaaaa-0000-0000-0000-0000000000a1', 'm' || g);
select is(private.can_afford_chat('aaaaaaaa-0000-0000-0000-0000000000a1'), false,
  'the pre-check refuses an answer that would complete an unaffordable bundle');
select throws_ok($$ select private.record_chat_inference('aaaaaaaa-0000-0000-0000-0000000000a1', 'm20') $$,
  'PT402', 'insufficient_credits', 'recording that answer raises insufficient_credits');
select results_eq($$ select chat_inference_counter from public.wallet_counters
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$, array[9],
  'the refused answer is not counted');
select is(private.can_afford_chat('bbbbbbbb-0000-0000-0000-0000000000b2'), true,
  'a user with credits can chat');

------------------------------------------------------------------ idempotent grants
select private.grant_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 5, 'grant', 'promo-1');
select private.grant_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 5, 'grant', 'promo-1');
select results_eq($$ select balance from public.wallet where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  array[5], 'a grant with the same key lands once');

------------------------------------------------------------------ reports
select results_eq($$ select (private.charge_report('aaaaaaaa-0000-0000-0000-0000000000a1', 'idem-1') ->> 'balance')::int $$,
  array[4], 'a report costs one credit');
select results_eq($$ select (private.charge_report('aaaaaaaa-0000-0000-0000-0000000000a1', 'idem-1') ->> 'applied')::boolean $$,
  array[false], 'the same Idempotency-Key is charged once');
select private.refund_report('aaaaaaaa-0000-0000-0000-0000000000a1', 'idem-1');
select private.refund_report('aaaaaaaa-0000-0000-0000-0000000000a1', 'idem-1');
select results_eq($$ select balance from public.wallet where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$,
  array[5], 'a failed report is refunded once');

------------------------------------------------------------------ payments
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  ('aaaaaaaa-0000-0000-0000-0000000000a1', 'pro', 'order_pro_1', 149900);
select private.apply_payment('order_pro_1', 'pay_1', 149900);
select private.apply_payment('order_pro_1', 'pay_1', 149900);
select results_eq($$ select balance, plan_id, seats from public.wallet
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$, $$ values (405, 'pro', 2) $$,
  'a pro payment applied twice adds 400 credits and one seat once');
select results_eq($$ select status, razorpay_payment_id, credits_granted from public.payments
  where razorpay_order_id = 'order_pro_1' $$, $$ values ('paid', 'pay_1', 400) $$, 'the order is paid');
select is(private.mark_payment_failed('order_pro_1'), false, 'a paid order never moves back to failed');
select throws_ok($$ select private.apply_payment('order_pro_1', 'pay_other') $$, '23505', null,
  'a second payment id for a paid order is refused');
select throws_ok($$ select private.apply_payment('order_pro_1', 'pay_1', 100) $$, '22023', null,
  'an amount that does not match the order is refused');

------------------------------------------------------------------ refund claw-back
select private.spend_credits('aaaaaaaa-0000-0000-0000-0000000000a1', 300, 'spend', 's4');
select results_eq($$ select (r ->> 'balance')::int, (r ->> 'shortfall')::int
  from private.claw_back_payment('pay_1') r $$, $$ values (0, 295) $$,
  'a refund after spending takes what is left and reports the shortfall');
select results_eq($$ select amount, (metadata ->> 'shortfall')::int from public.wallet_usage
  where reason = 'payment_refund' and reference_id = 'pay_1' $$, $$ values (-105, 295) $$,
  'the ledger records the claw-back and its shortfall');
select results_eq($$ select (private.claw_back_payment('pay_1') ->> 'applied')::boolean $$, array[false],
  'a repeated refund claws back nothing more');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = 'aaaaaaaa-0000-0000-0000-0000000000a1' $$, $$ values (null::text, 1) $$,
  'a refund removes the seat the plan added and restores the previous plan');
select results_eq($$ select status from public.payments where razorpay_order_id = 'order_pro_1' $$,
  array['refunded'], 'the order is refunded');

-- A refund that arrives before the capture: the late capture grants nothing.
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  ('bbbbbbbb-0000-0000-0000-0000000000b2', 'lite', 'order_lite_early', 49900);
select results_eq($$ select (private.claw_back_payment('pay_early', 'order_lite_early') ->> 'applied')::boolean $$,
  array[true], 'a refund before capture is recorded against the order');
select results_eq($$ select (private.apply_payment('order_lite_early', 'pay_early') ->> 'applied')::boolean $$,
  array[false], 'the late capture of a refunded payment grants nothing');
select results_eq($$ select balance from public.wallet where user_id = 'bbbbbbbb-0000-0000-0000-0000000000b2' $$,
  array[100], 'the balance is untouched');

------------------------------------------------------------------ keys belong to one wallet
select throws_ok($$ select private.grant_credits('bbbbbbbb-0000-0000-0000-0000000000b2', 5, 'grant', 'promo-1') $$,
  '23505', null, 'another wallet cannot reuse a ledger key');
select throws_ok($$ select private.record_chat_inference('bbbbbbbb-0000-0000-0000-0000000000b2', 'm10') $$,
  '23505', null, 'another user cannot replay a counted message id for a free answer');

------------------------------------------------------------------ deleting a user
select lives_ok($$ delete from auth.users where id = 'bbbbbbbb-0000-0000-0000-0000000000b2' $$,
  'deleting a user cascades through the append-only ledger');
select is_empty($$ select 1 from public.wallet_usage where user_id = 'bbbbbbbb-0000-0000-0000-0000000000b2' $$,
  'and removes their ledger rows');

------------------------------------------------------------------ ledger and definer hygiene
select throws_ok($$ update public.wallet_usage set amount = 1000 $$, '42501', null,
  'the ledger is append-only, even for the owner role');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname in ('public', 'private') and p.prosecdef
    and not coalesce(p.proconfig @> array['search_path=""'], false) $$,
  'every SECURITY DEFINER function sets search_path to empty');

select * from finish();
rollback;
