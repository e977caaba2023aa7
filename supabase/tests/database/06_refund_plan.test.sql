-- The plan after a refund is the plan of the latest purchase still paid, or none; the purchased
-- seats are those of the purchases still paid (the base seat stays). A plan an admin set since is
-- left alone.
begin;
create extension if not exists pgtap with schema extensions;
select plan(9);

insert into auth.users (id, email) values
  ('0a100000-0000-0000-0000-000000000001', 'two-pros@example.com'),
  ('0a100000-0000-0000-0000-000000000002', 'lite-then-pro@example.com'),
  ('0a100000-0000-0000-0000-000000000003', 'enterprise@example.com');
insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise) values
  ('0a100000-0000-0000-0000-000000000001', 'pro', 'order_pro_a', 149900),
  ('0a100000-0000-0000-0000-000000000001', 'pro', 'order_pro_b', 149900),
  ('0a100000-0000-0000-0000-000000000002', 'lite', 'order_lite_c', 49900),
  ('0a100000-0000-0000-0000-000000000002', 'pro', 'order_pro_c', 149900),
  ('0a100000-0000-0000-0000-000000000003', 'pro', 'order_pro_e', 149900);

------------------------------------------------------------------ two Pro purchases
select private.apply_payment('order_pro_a', 'pay_pro_a');
select private.apply_payment('order_pro_b', 'pay_pro_b');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000001' $$, $$ values ('pro', 3) $$,
  'two Pro purchases: pro with two extra seats');
select private.claw_back_payment('pay_pro_a');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000001' $$, $$ values ('pro', 2) $$,
  'refunding the first keeps pro and the second purchase''s seat');
select private.claw_back_payment('pay_pro_b');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000001' $$, $$ values (null::text, 1) $$,
  'refunding both leaves no plan and no purchased seat');
select results_eq($$ select status from public.payments
  where user_id = '0a100000-0000-0000-0000-000000000001' order by razorpay_order_id $$,
  array['refunded', 'refunded'], 'both orders are refunded');

------------------------------------------------------------------ lite, then pro
select private.apply_payment('order_lite_c', 'pay_lite_c');
select private.apply_payment('order_pro_c', 'pay_pro_c');
-- Applied a day apart (one transaction has one now()).
update public.payments set paid_at = now() - interval '1 day' where razorpay_order_id = 'order_lite_c';
select private.claw_back_payment('pay_pro_c');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000002' $$, $$ values ('lite', 1) $$,
  'refunding the latest purchase falls back to the earlier one still paid');
select private.apply_payment('order_pro_c', 'pay_pro_c');
select results_eq($$ select plan_id from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000002' $$, array['lite'],
  'a refunded order is never applied again');
select private.claw_back_payment('pay_lite_c');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000002' $$, $$ values (null::text, 1) $$,
  'refunding the last paid purchase leaves no plan');

------------------------------------------------------------------ an admin's plan stays
select private.apply_payment('order_pro_e', 'pay_pro_e');
select public.admin_set_plan('0a100000-0000-0000-0000-000000000003', 'enterprise', 25);
select private.claw_back_payment('pay_pro_e');
select results_eq($$ select plan_id, seats from public.wallet
  where user_id = '0a100000-0000-0000-0000-000000000003' $$, $$ values ('enterprise', 24) $$,
  'a refund leaves an enterprise plan set since by an admin, taking back only its own seat');
select results_eq($$ select count(*)::int from public.wallet_usage
  where reason = 'payment_refund' and user_id in ('0a100000-0000-0000-0000-000000000001',
    '0a100000-0000-0000-0000-000000000002', '0a100000-0000-0000-0000-000000000003') $$,
  array[5], 'every refund is in the ledger once');

select * from finish();
rollback;
