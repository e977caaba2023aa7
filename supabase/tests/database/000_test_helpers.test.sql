-- Helpers the scenario files share, in schema `tests` (as basejump's supabase_test_helpers do).
-- This file runs first (files run in name order) and, unlike the scenario files, keeps what it
-- creates: the helpers are committed, then a trivial check runs in a rolled-back transaction.
-- Nothing here is part of the product: `supabase db push` never sees this folder.
create extension if not exists pgtap with schema extensions;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Acts as a signed-in user for the rest of the transaction, as PostgREST does: role
-- `authenticated` and the JWT claims (`auth.uid()` reads `sub`). `reset role` goes back.
create or replace function tests.authenticate_as(p_user_id uuid) returns void
language sql
as $$
  select set_config('role', 'authenticated', true),
         set_config('request.jwt.claims',
                    json_build_object('sub', p_user_id, 'role', 'authenticated')::text, true)
$$;
grant execute on function tests.authenticate_as(uuid) to anon, authenticated, service_role;

-- The same as the anonymous role (a request with only the publishable key).
create or replace function tests.authenticate_as_anon() returns void
language sql
as $$
  select set_config('role', 'anon', true),
         set_config('request.jwt.claims', '{"role": "anon"}', true)
$$;
grant execute on function tests.authenticate_as_anon() to anon, authenticated, service_role;

-- The same as the service role (a function holding the secret key).
create or replace function tests.authenticate_as_service_role() returns void
language sql
as $$
  select set_config('role', 'service_role', true),
         set_config('request.jwt.claims', '{"role": "service_role"}', true)
$$;
grant execute on function tests.authenticate_as_service_role() to anon, authenticated, service_role;
commit;

begin;
select plan(4);
select has_function('tests', 'authenticate_as', array['uuid'], 'tests.authenticate_as exists');
select tests.authenticate_as('00000000-0000-0000-0000-0000000000aa');
select is(auth.uid(), '00000000-0000-0000-0000-0000000000aa'::uuid,
  'tests.authenticate_as sets the caller that auth.uid() reads');
select tests.authenticate_as_anon();
select is(current_user::text, 'anon', 'tests.authenticate_as_anon switches to anon');
select tests.authenticate_as_service_role();
select is(auth.role(), 'service_role', 'tests.authenticate_as_service_role sets the service role');
select * from finish();
rollback;
