-- Platform admins and metrics: platform roles are granted only through
-- private.set_platform_role (service role, or an actor holding global_admin), never by a user
-- through any table, policy or RPC; suspension closes spending and a suspended company's
-- workbenches; admin RPCs check the actor and write the audit log; private.metrics() answers the
-- series and counts rate-limit refusals.
begin;
create extension if not exists pgtap with schema extensions;
select plan(29);

select tests.create_supabase_user('ada');    -- becomes global_admin
select tests.create_supabase_user('sue');    -- becomes support_user
select tests.create_supabase_user('mallory');
insert into public.company (id, name, created_by)
values (tests.uuid_for('acme'), 'Acme', tests.get_supabase_uid('mallory'));
insert into public.workbench (id, name, owner_user_id, company_id)
values (tests.uuid_for('acme-wb'), 'Books', tests.get_supabase_uid('mallory'), tests.uuid_for('acme'));

------------------------------------------------------------------ a user cannot become admin
select tests.authenticate_as('mallory');
select throws_ok($$ insert into private.platform_roles (user_id, role, reason)
                    values (auth.uid(), 'global_admin', 'me') $$, '42501', null,
  'a user cannot write platform roles');
select throws_ok($$ select * from private.platform_roles $$, '42501', null,
  'a user cannot read platform roles');
select throws_ok($$ select private.set_platform_role(null, auth.uid(), 'global_admin', 'me') $$,
  '42501', null, 'a user cannot call set_platform_role (not even as the "service" null actor)');
select throws_ok($$ select private.set_platform_role(auth.uid(), auth.uid(), 'global_admin', 'me') $$,
  '42501', null, 'a user cannot call set_platform_role as themself');
select throws_ok($$ select private.set_tenant_suspension(null, auth.uid(), false, 'x') $$,
  '42501', null, 'a user cannot lift a suspension');
select is((select count(*)::integer from pg_catalog.pg_proc p
             join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public' and p.proname ilike '%platform%'), 0,
  'no public RPC touches platform roles');
reset role;

------------------------------------------------------------------ grants: service role, then admins
select tests.authenticate_as_service_role();
select is(private.set_platform_role(null, tests.get_supabase_uid('ada'), 'global_admin',
                                    'bootstrap') ->> 'role', 'global_admin',
  'the service role grants the first admin');
select throws_ok(format($$ select private.set_platform_role(%L, %L, 'global_admin', 'escalate') $$,
                        tests.get_supabase_uid('mallory'), tests.get_supabase_uid('mallory')),
  'PT403', 'platform_admin_required', 'a non-admin actor is refused by the RPC itself');
select is(private.set_platform_role(tests.get_supabase_uid('ada'), tests.get_supabase_uid('sue'),
                                    'support_user', 'helpdesk') ->> 'role', 'support_user',
  'an admin grants support_user');
select throws_ok(format($$ select private.set_platform_role(%L, %L, 'global_admin', 'x') $$,
                        tests.get_supabase_uid('sue'), tests.get_supabase_uid('sue')),
  'PT403', 'platform_admin_required', 'a support user cannot promote themself');
select is(private.platform_role(tests.get_supabase_uid('sue')), 'support_user',
  'the support role is held');
select is((select count(*)::integer from private.audit_log
            where action = 'admin.set_platform_role'), 2, 'each grant is audited');
select throws_ok($$ select private.set_platform_role(null, tests.uuid_for('x'), 'global_admin', '') $$,
  '22023', null, 'a reason is required');

------------------------------------------------------------------ support_user reads no messages
insert into public.chat_session (id, workbench_id, user_id)
values (tests.uuid_for('acme-chat'), tests.uuid_for('acme-wb'), tests.get_supabase_uid('mallory'));
insert into public.message (session_id, role, content)
values (tests.uuid_for('acme-chat'), 'user', 'secret question');
reset role;
select tests.authenticate_as('sue');
select is((select count(*)::integer from public.message), 0, 'a support user reads no messages');
select is((select count(*)::integer from public.workbench_chunks), 0,
  'a support user reads no document contents');
reset role;

------------------------------------------------------------------ suspension
select tests.authenticate_as_service_role();
select is(private.set_tenant_suspension(tests.get_supabase_uid('ada'),
            tests.get_supabase_uid('mallory'), true, 'fraud') ->> 'kind', 'user',
  'an admin suspends a personal account');
select is(private.tenant_suspension(tests.get_supabase_uid('mallory')), 'fraud',
  'the suspension and its reason are held');
select throws_ok(format($$ select private.spend_credits(%L, 1, 'spend', 'suspended-1') $$,
                        tests.get_supabase_uid('mallory')),
  'PT403', 'tenant_suspended', 'a suspended account spends nothing');
select throws_ok(format($$ select private.set_tenant_suspension(%L, %L, false, 'mine') $$,
                        tests.get_supabase_uid('mallory'), tests.get_supabase_uid('mallory')),
  'PT403', 'platform_admin_required', 'the suspended user cannot lift it');
select is(private.set_tenant_suspension(tests.get_supabase_uid('ada'), tests.uuid_for('acme'), true,
            'unpaid') ->> 'kind', 'company', 'an admin suspends a company');
select is(private.workbench_role_of(tests.uuid_for('acme-wb'), tests.get_supabase_uid('mallory')),
  null, 'a suspended company''s workbench is closed to its members');
select tests.authenticate_as('mallory');
select is((select count(*)::integer from public.readable_workbench_ids() i
            where i = tests.uuid_for('acme-wb')), 0,
  'nor is it listed for them');
select tests.authenticate_as_service_role();
select private.set_tenant_suspension(null, tests.uuid_for('acme'), false, 'paid');
select is(private.workbench_role_of(tests.uuid_for('acme-wb'), tests.get_supabase_uid('mallory')),
  'owner', 'unsuspended, it opens again');
select is((select count(*)::integer from private.audit_log
            where action in ('admin.suspend', 'admin.unsuspend')), 3,
  'each suspension change is audited');

------------------------------------------------------------------ plans and credits
select is(private.admin_upsert_plan(tests.get_supabase_uid('ada'), 'team', true,
            '{"name": "Team", "price_paise": 99900, "credits": 300, "seats": 5}', 'launch')
            ->> 'credits', '300', 'an admin creates a plan');
select is(private.admin_upsert_plan(tests.get_supabase_uid('ada'), 'team', false,
            '{"credits": 350}', 'more') ->> 'credits', '350',
  'an admin changes a plan, keeping the other fields');
select is(private.admin_tenant_credits(tests.get_supabase_uid('ada'), tests.uuid_for('acme'), 25,
            'deal-1', 'enterprise deal') ->> 'wallet_user_id',
  tests.uuid_for('acme')::text, 'a company''s credits go to the company''s own wallet');

------------------------------------------------------------------ metrics
select private.bump_metric('rate_limit_refusals', 'chat');
select is((select value from private.metrics()
            where name = 'aw_rate_limit_refusals_total' and labels ->> 'scope' = 'chat'), 1::float8,
  'metrics() answers the rate-limit refusals');
select is((select value from private.metrics()
            where name = 'aw_tenants_suspended' and labels ->> 'kind' = 'user'), 1::float8,
  'metrics() answers the suspended tenants');
reset role;

select * from finish();
rollback;
