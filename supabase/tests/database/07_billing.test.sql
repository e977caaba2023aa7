-- Billing beside Razorpay (issue 21): Stripe events through the same exactly-once ledger, in any
-- order and repeated; refunds never below zero with the shortfall recorded; plan limits in the
-- database; the enterprise admin RPC and the Studio views, and who may use them.
begin;
create extension if not exists pgtap with schema extensions;
select plan(69);

-- A Stripe event envelope as Stripe sends it: {id, object: "event", type, created, data.object}.
create function pg_temp.evt(p_type text, p_created bigint, p_obj jsonb) returns jsonb
language sql as $$
  select jsonb_build_object('id', 'evt_' || md5(p_type || p_created || p_obj::text),
    'object', 'event', 'api_version', '2025-08-27.basil', 'created', p_created,
    'livemode', false, 'type', p_type, 'data', jsonb_build_object('object', p_obj))
$$;
-- An invoice `p_id` of subscription `p_sub` paid for our price `p_price`.
create function pg_temp.invoice(p_id text, p_sub text, p_price text, p_amount integer,
                                p_start bigint) returns jsonb
language sql as $$
  select jsonb_build_object('id', p_id, 'object', 'invoice', 'customer', 'cus_billing_alice',
    'amount_paid', p_amount, 'currency', 'usd', 'status', 'paid', 'payment_intent', 'pi_' || p_id,
    'charge', 'ch_' || p_id, 'hosted_invoice_url', 'https://invoice.stripe.com/i/' || p_id,
    'parent', jsonb_build_object('type', 'subscription_details', 'subscription_details',
      jsonb_build_object('subscription', p_sub, 'metadata', jsonb_build_object('price_id', p_price))),
    'lines', jsonb_build_object('object', 'list', 'data', jsonb_build_array(jsonb_build_object(
      'period', jsonb_build_object('start', p_start, 'end', p_start + 2592000)))))
$$;
create function pg_temp.handle(p_event jsonb) returns text language sql as $$
  select private.handle_stripe_event(p_event ->> 'id', p_event ->> 'type', p_event) ->> 'outcome'
$$;
create function pg_temp.balance(p_user text) returns integer language sql as $$
  select balance from public.wallet where user_id = tests.get_supabase_uid(p_user)
$$;

select tests.create_supabase_user('billing_alice');
select tests.create_supabase_user('billing_bob');
insert into public.billing_customers (provider, customer_id, user_id)
values ('stripe', 'cus_billing_alice', tests.get_supabase_uid('billing_alice'));

-- 1. A monthly subscription: renewed twice, every event repeated, out of order.
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 100,
            pg_temp.invoice('in_b1', 'sub_b1', 'lite-stripe-usd-month', 900, 1000))),
          'credited', 'invoice.paid before checkout.session.completed credits the plan');
select is(pg_temp.balance('billing_alice'), 110, 'the signup grant and the lite credits');
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 100,
            pg_temp.invoice('in_b1', 'sub_b1', 'lite-stripe-usd-month', 900, 1000))),
          'duplicate', 'the same event again is a duplicate');
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 101,
            pg_temp.invoice('in_b1', 'sub_b1', 'lite-stripe-usd-month', 900, 1000))),
          'already_credited', 'another event for the same invoice credits nothing');
select is(pg_temp.handle(pg_temp.evt('checkout.session.completed', 99, jsonb_build_object(
            'id', 'cs_b1', 'object', 'checkout.session', 'mode', 'subscription',
            'customer', 'cus_billing_alice', 'subscription', 'sub_b1', 'payment_status', 'paid',
            'metadata', jsonb_build_object('price_id', 'lite-stripe-usd-month')))),
          'linked', 'checkout.session.completed of a subscription links it and credits nothing');
select is(pg_temp.balance('billing_alice'), 110, 'still one grant');
select is((select plan_id from public.wallet where user_id = tests.get_supabase_uid('billing_alice')),
          'lite', 'the wallet has the plan');
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 200,
            pg_temp.invoice('in_b2', 'sub_b1', 'lite-stripe-usd-month', 900, 2000))),
          'credited', 'the first renewal credits');
select is(pg_temp.handle(pg_temp.evt('invoice.payment_failed', 300, pg_temp.invoice(
            'in_b3', 'sub_b1', 'lite-stripe-usd-month', 900, 3000) || '{"status": "open"}')),
          'marked_past_due', 'a failed renewal');
select is((select status from public.subscriptions where provider_subscription_id = 'sub_b1'),
          'past_due', 'the subscription is past_due');
select is(pg_temp.balance('billing_alice'), 210, 'credits already granted stay');
select is(pg_temp.handle(pg_temp.evt('customer.subscription.updated', 250, jsonb_build_object(
            'id', 'sub_b1', 'object', 'subscription', 'customer', 'cus_billing_alice',
            'status', 'active', 'cancel_at_period_end', false))),
          'updated', 'an older update arrives late');
select is((select status from public.subscriptions where provider_subscription_id = 'sub_b1'),
          'past_due', 'an older event does not move the status back');
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 400,
            pg_temp.invoice('in_b3', 'sub_b1', 'lite-stripe-usd-month', 900, 3000))),
          'credited', 'the retried renewal is paid');
select is((select status from public.subscriptions where provider_subscription_id = 'sub_b1'),
          'active', 'active again');
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 401,
            pg_temp.invoice('in_b4', 'sub_b1', 'lite-stripe-usd-month', 100, 4000))),
          'amount_mismatch', 'an invoice of another amount credits nothing');
select is(pg_temp.balance('billing_alice'), 310, 'three grants of 100');

-- 2. Upgrade at the next period, cancel at period end, deleted → free plan.
select is(pg_temp.handle(pg_temp.evt('customer.subscription.updated', 500, jsonb_build_object(
            'id', 'sub_b1', 'object', 'subscription', 'customer', 'cus_billing_alice',
            'status', 'active', 'cancel_at_period_end', true,
            'metadata', jsonb_build_object('price_id', 'pro-stripe-usd-month')))),
          'updated', 'an upgrade and a cancel at period end');
select is((select (pending_plan_id, cancel_at_period_end)::text from public.subscriptions
            where provider_subscription_id = 'sub_b1'),
          '(pro,t)', 'the upgrade waits for the next period; cancel at period end recorded');
select is(pg_temp.handle(pg_temp.evt('customer.subscription.deleted', 600, jsonb_build_object(
            'id', 'sub_b1', 'object', 'subscription', 'customer', 'cus_billing_alice',
            'status', 'canceled'))),
          'canceled', 'deleted at period end');
select is((select plan_id from public.wallet where user_id = tests.get_supabase_uid('billing_alice')),
          null, 'back to the free plan');

-- 3. A pack, a refund after part was spent: never below zero, the shortfall recorded.
select is(pg_temp.handle(pg_temp.evt('checkout.session.completed', 700, jsonb_build_object(
            'id', 'cs_pack', 'object', 'checkout.session', 'mode', 'payment',
            'customer', 'cus_billing_alice', 'payment_intent', 'pi_pack', 'payment_status', 'paid',
            'amount_total', 1000, 'currency', 'usd',
            'metadata', jsonb_build_object('price_id', 'pack-100-stripe-usd')))),
          'credited', 'a token pack credits');
select private.spend_credits(tests.get_supabase_uid('billing_alice'), 380, 'spend', 'billing-spend');
select is(pg_temp.handle(pg_temp.evt('charge.refunded', 800, jsonb_build_object(
            'id', 'ch_pack', 'object', 'charge', 'customer', 'cus_billing_alice',
            'payment_intent', 'pi_pack', 'amount', 1000, 'amount_refunded', 1000))),
          'clawed_back', 'a full refund claws back');
select is(pg_temp.balance('billing_alice'), 0, 'never below zero');
select is((select (metadata ->> 'shortfall')::integer from public.wallet_usage
            where reason = 'payment_refund' and reference_id = 'stripe:pi_pack'),
          70, 'the shortfall is recorded');

-- 4. A refund before the payment: the payment grants nothing later.
select is(pg_temp.handle(pg_temp.evt('charge.refunded', 900, jsonb_build_object(
            'id', 'ch_in_b9', 'object', 'charge', 'customer', 'cus_billing_alice',
            'invoice', 'in_b9', 'amount', 900, 'amount_refunded', 900))),
          'refunded_before_capture', 'a refund before its invoice.paid');
select is(pg_temp.handle(pg_temp.evt('invoice.paid', 901,
            pg_temp.invoice('in_b9', 'sub_b9', 'lite-stripe-usd-month', 900, 5000))),
          'refunded_before_capture', 'then the invoice credits nothing');

-- 5. Plan limits: the free plan's workbench limit, 403 before anything is written.
update private.settings set value = value || '{"workbenches": 1}' where key = 'free_plan_limits';
select tests.authenticate_as('billing_bob');
insert into public.workbench (name) values ('first');
select throws_ok($$insert into public.workbench (name) values ('second')$$, 'PT403',
                 'plan_limit_reached', 'the workbench past the limit is refused');
reset role;
select public.admin_grant_enterprise(tests.get_supabase_uid('billing_bob'), 5,
                                     '{"workbenches": 3}');
select tests.authenticate_as('billing_bob');
select lives_ok($$insert into public.workbench (name) values ('second')$$,
                'an enterprise deal with its own limits allows more');
select throws_ok($$select public.admin_grant_enterprise(auth.uid(), 5, '{}')$$, '42501', null,
                 'only the service role grants enterprise');
reset role;

-- 5b. File limits: files per workbench and stored bytes, checked on the file insert.
select tests.create_supabase_user('billing_dave');
select public.admin_grant_enterprise(tests.get_supabase_uid('billing_dave'), 1,
  '{"files_per_workbench": 1, "stored_bytes": 100}');
insert into public.workbench (id, name, owner_user_id)
values (tests.uuid_for('dave-wb1'), 'one', tests.get_supabase_uid('billing_dave')),
       (tests.uuid_for('dave-wb2'), 'two', tests.get_supabase_uid('billing_dave'));
select lives_ok($$insert into public.workbench_files
                    (workbench_id, file_name, file_type, size_bytes, content_hash)
                  values (tests.uuid_for('dave-wb1'), 'a.csv', 'csv', 50, 'h1')$$,
                'a file within the limits');
select throws_ok($$insert into public.workbench_files
                     (workbench_id, file_name, file_type, size_bytes, content_hash)
                   values (tests.uuid_for('dave-wb1'), 'b.csv', 'csv', 1, 'h2')$$,
                 'PT403', 'plan_limit_reached', 'a second file in the workbench passes the limit');
select throws_ok($$insert into public.workbench_files
                     (workbench_id, file_name, file_type, size_bytes, content_hash)
                   values (tests.uuid_for('dave-wb2'), 'c.csv', 'csv', 60, 'h3')$$,
                 'PT403', 'plan_limit_reached', 'stored bytes across workbenches pass the limit');

-- 6. The report limit: counted in the month, a retried key is not a new report.
select tests.create_supabase_user('billing_carol');
update private.settings set value = value || '{"reports_month": 1}' where key = 'free_plan_limits';
select private.charge_report(tests.get_supabase_uid('billing_carol'), 'r1');
select lives_ok($$select private.charge_report(tests.get_supabase_uid('billing_carol'), 'r1')$$,
                'the same report key again is no new report');
select throws_ok($$select private.charge_report(tests.get_supabase_uid('billing_carol'), 'r2')$$,
                 'PT403', 'plan_limit_reached', 'the report past the limit is refused');
select is(pg_temp.balance('billing_carol'), 9, 'and charged nothing');

select is(pg_temp.handle(pg_temp.evt('checkout.session.completed', 990, jsonb_build_object(
            'id', 'cs_nobody', 'object', 'checkout.session', 'mode', 'payment',
            'customer', 'cus_nobody', 'metadata', jsonb_build_object('user_id', 'not-a-uuid')))),
          'unknown_customer', 'an event for nobody we know is recorded and changes nothing');

-- 7. Usage equals the ledger.
select is((private.billing_usage(tests.get_supabase_uid('billing_alice'), '-infinity', 'infinity')
             ->> 'spent')::integer,
          (select sum(-amount)::integer from public.wallet_usage
            where user_id = tests.get_supabase_uid('billing_alice') and amount < 0),
          'credits spent in the usage equal the ledger');

-- 8. Company billing: a company has its own wallet, which its Stripe purchases credit and which
-- pays for the usage on its workbenches; a personal workbench keeps the user's own wallet. The
-- free plan's limits here: 2 seats, 2 chat answers a month.
update private.settings
   set value = value || '{"workbenches": 25, "reports_month": 50, "seats": 2,
                          "chat_answers_month": 2}'::jsonb
 where key = 'free_plan_limits';
update private.settings set value = '1' where key = 'chat_answers_per_credit';
select tests.create_supabase_user('co_admin');
select tests.create_supabase_user('co_member');
select tests.create_supabase_user('co_third');
insert into public.company (id, name, created_by)
values (tests.uuid_for('co'), 'Acme', tests.get_supabase_uid('co_admin'));
create function pg_temp.company_balance() returns integer language sql as $$
  select balance from public.wallet where user_id = tests.uuid_for('co')
$$;
select is((select balance from public.wallet where company_id = tests.uuid_for('co')), 0,
          'a company gets its own wallet, empty');
select is((select chat_inference_counter from public.wallet_counters
            where user_id = tests.uuid_for('co')), 0, 'and its answer counter');
insert into public.billing_customers (provider, customer_id, user_id, company_id)
values ('stripe', 'cus_co', tests.get_supabase_uid('co_admin'), tests.uuid_for('co'));
select is(pg_temp.handle(pg_temp.evt('checkout.session.completed', 2000, jsonb_build_object(
            'id', 'cs_co', 'object', 'checkout.session', 'mode', 'payment',
            'customer', 'cus_co', 'payment_intent', 'pi_co', 'payment_status', 'paid',
            'amount_total', 1000, 'currency', 'usd',
            'metadata', jsonb_build_object('price_id', 'pack-100-stripe-usd')))),
          'credited', 'a company''s pack credits');
select is(pg_temp.company_balance(), 100, 'the company wallet');
select is(pg_temp.balance('co_admin'), 10, 'not the buying admin''s');
select is((select company_id from public.billing_invoices where reference = 'pi_co'),
          tests.uuid_for('co'), 'the invoice names the company');

-- Seats: the owner holds one; a second member fits, a third is refused.
select lives_ok($$insert into public.company_members (company_id, user_id, role)
                  values (tests.uuid_for('co'), tests.get_supabase_uid('co_member'), 'member')$$,
                'a member within the company plan''s seats');
select throws_ok($$insert into public.company_members (company_id, user_id, role)
                   values (tests.uuid_for('co'), tests.get_supabase_uid('co_third'), 'member')$$,
                 'PT403', 'plan_limit_reached', 'the member past the seats is refused');
select is((select count(*)::integer from public.company_members
            where company_id = tests.uuid_for('co')), 2, 'and not added');

-- Chat answers: on the company workbench the company pays, on their own one the member does.
insert into public.workbench (id, name, owner_user_id, company_id) values
  (tests.uuid_for('co-wb'), 'Co books', tests.get_supabase_uid('co_admin'), tests.uuid_for('co')),
  (tests.uuid_for('own-wb'), 'Mine', tests.get_supabase_uid('co_member'), null);
insert into public.chat_session (id, workbench_id, user_id) values
  (tests.uuid_for('co-s'), tests.uuid_for('co-wb'), tests.get_supabase_uid('co_member')),
  (tests.uuid_for('own-s'), tests.uuid_for('own-wb'), tests.get_supabase_uid('co_member'));
create function pg_temp.answer(p_session text) returns jsonb language sql as $$
  select private.finish_chat_turn(tests.get_supabase_uid('co_member'), tests.uuid_for(p_session),
    gen_random_uuid(), private.begin_chat_answer(tests.uuid_for(p_session),
                                                 tests.get_supabase_uid('co_member')),
    'an answer', '[]', '[]', 'm', 1, 1, false)
$$;
select is(private.reserve_chat_answer(tests.get_supabase_uid('co_member'), tests.uuid_for('co-s')),
          true, 'the company wallet can pay for an answer');
select is((pg_temp.answer('co-s') #>> '{wallet,balance}')::integer, 99,
          'a member''s answer on a company workbench debits the company wallet');
select is(pg_temp.balance('co_member'), 10, 'not the member''s');
select is((pg_temp.answer('own-s') #>> '{wallet,balance}')::integer, 9,
          'an answer on their personal workbench debits their own wallet');
select is(pg_temp.company_balance(), 99, 'not the company''s');
select is((pg_temp.answer('co-s') #>> '{wallet,balance}')::integer, 98,
          'a second company answer (2 of 2 this month)');
select throws_ok($$select private.reserve_chat_answer(tests.get_supabase_uid('co_member'),
                                                      tests.uuid_for('co-s'))$$,
                 'PT403', 'plan_limit_reached',
                 'the answer past chat_answers_month is refused before any model call');
select is(pg_temp.company_balance(), 98, 'and nothing is charged');
select lives_ok($$select private.reserve_chat_answer(tests.get_supabase_uid('co_member'),
                                                     tests.uuid_for('own-s'))$$,
                'the member''s own wallet has its own count');

-- Reports on the company workbench: charged to and refunded to the company wallet.
select private.charge_report(tests.get_supabase_uid('co_member'), 'co-r1', 1, '{}',
                             tests.uuid_for('co-wb'));
select is(pg_temp.company_balance(), 97, 'a report on a company workbench charges the company');
select private.refund_report(tests.get_supabase_uid('co_member'), 'co-r1');
select is(pg_temp.company_balance(), 98, 'and its refund goes back there');

-- A refund of the company's pack claws back from the company wallet, never below zero.
select is(pg_temp.handle(pg_temp.evt('charge.refunded', 2100, jsonb_build_object(
            'id', 'ch_co', 'object', 'charge', 'customer', 'cus_co',
            'payment_intent', 'pi_co', 'amount', 1000, 'amount_refunded', 1000))),
          'clawed_back', 'a refund of the company''s pack claws back');
select is(pg_temp.company_balance(), 0, 'from the company wallet');

-- A Razorpay order bought for the company credits the company wallet once; its refund claws back
-- from there and the company's plan goes back to none.
insert into public.payments (user_id, company_id, plan_id, razorpay_order_id, amount_paise)
values (tests.get_supabase_uid('co_admin'), tests.uuid_for('co'), 'lite', 'order_co', 49900);
select is((private.apply_payment('order_co', 'pay_co') ->> 'applied')::boolean, true,
          'a company''s Razorpay payment is applied');
select private.apply_payment('order_co', 'pay_co');
select is(pg_temp.company_balance(), 100, 'once, to the company wallet');
select is((select plan_id from public.wallet where user_id = tests.uuid_for('co')), 'lite',
          'the company''s plan is the one bought');
select is(pg_temp.balance('co_admin'), 10, 'the buying admin''s wallet is untouched');
select is(private.claw_back_payment('pay_co') ->> 'applied', 'true',
          'its refund claws back');
select is((select (pg_temp.company_balance(),
                   (select plan_id from public.wallet where user_id = tests.uuid_for('co')))::text),
          '(0,)', 'from the company wallet, and its plan goes');

-- Members read the company wallet; others do not; its ledger is append-only too.
select tests.authenticate_as('co_member');
select is((select count(*)::integer from public.wallet where user_id = tests.uuid_for('co')), 1,
          'a member reads the company wallet');
select tests.authenticate_as('billing_bob');
select is((select count(*)::integer from public.wallet_usage
            where user_id = tests.uuid_for('co')), 0, 'an outsider reads none of its ledger');
reset role;
select throws_ok($$delete from public.wallet_usage where user_id = tests.uuid_for('co')$$,
                 '42501', null, 'the company ledger is append-only');

select * from finish();
rollback;
