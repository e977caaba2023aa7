-- Helpers the area files share, in schema `tests` (as basejump's supabase-test-helpers do).
-- This file runs first (files run in name order) and, unlike the area files, keeps what it
-- creates: the helpers are committed, then their checks run in a rolled-back transaction.
-- Nothing here is part of the product: `supabase db push` never sees this folder.
--
-- Scenarios name their people and objects instead of spelling UUIDs:
--   select tests.create_supabase_user('alice');            -- alice@test.local, a fresh id
--   select tests.authenticate_as('alice');                 -- act as her (auth.uid() is her id)
--   insert into public.workbench (id, name, owner_user_id)
--   values (tests.uuid_for('alice-books'), 'Books', tests.get_supabase_uid('alice'));
create extension if not exists pgtap with schema extensions;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Creates a test user in auth.users (firing the signup triggers: profile, wallet) with a fresh id
-- and returns it. The identifier is kept in raw_user_meta_data ->> 'test_identifier', where
-- tests.get_supabase_uid() finds it; the email defaults to <identifier>@test.local. An identifier
-- used twice in one transaction raises, so two scenarios in one file cannot share a person by
-- accident. `email_confirmed` sets email_confirmed_at (invitations match verified emails only).
create or replace function tests.create_supabase_user(
  identifier text,
  email text default null,
  phone text default null,
  metadata jsonb default null,
  email_confirmed boolean default false
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
begin
  if exists (select 1 from auth.users u
              where u.raw_user_meta_data ->> 'test_identifier'
                    = create_supabase_user.identifier) then
    raise exception 'test user % already exists', create_supabase_user.identifier;
  end if;
  insert into auth.users (id, email, phone, raw_user_meta_data, raw_app_meta_data,
                          email_confirmed_at, created_at, updated_at)
  values (v_id,
          coalesce(create_supabase_user.email,
                   lower(create_supabase_user.identifier) || '@test.local'),
          create_supabase_user.phone,
          jsonb_build_object('test_identifier', create_supabase_user.identifier)
            || coalesce(create_supabase_user.metadata, '{}'::jsonb),
          '{}'::jsonb,
          case when create_supabase_user.email_confirmed then now() end,
          now(), now());
  return v_id;
end;
$$;
grant execute on function tests.create_supabase_user(text, text, text, jsonb, boolean)
  to anon, authenticated, service_role;

-- The id of the test user with this identifier; raises when there is none (a typo fails loudly
-- instead of matching nothing). SECURITY DEFINER: callable while acting as any role.
create or replace function tests.get_supabase_uid(identifier text) returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  select u.id into v_id from auth.users u
   where u.raw_user_meta_data ->> 'test_identifier' = get_supabase_uid.identifier;
  if v_id is null then
    raise exception 'test user % not found', get_supabase_uid.identifier;
  end if;
  return v_id;
end;
$$;
grant execute on function tests.get_supabase_uid(text) to anon, authenticated, service_role;

-- A stable UUID for a label (the md5 of it), for the ids of companies, workbenches, files,
-- sessions and chunks a scenario creates and refers to: tests.uuid_for('acme-books'). Labels are
-- unique within a file; the same label always gives the same id.
create or replace function tests.uuid_for(label text) returns uuid
language sql
immutable
set search_path = ''
as $$
  select md5(label)::uuid
$$;
grant execute on function tests.uuid_for(text) to anon, authenticated, service_role;

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

-- The same for a test user by identifier: tests.authenticate_as('alice').
create or replace function tests.authenticate_as(identifier text) returns void
language sql
as $$
  select tests.authenticate_as(tests.get_supabase_uid(identifier))
$$;
grant execute on function tests.authenticate_as(text) to anon, authenticated, service_role;

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
select plan(13);
select has_function('tests', 'create_supabase_user',
  array['text', 'text', 'text', 'jsonb', 'boolean'],
  'tests.create_supabase_user exists');
select has_function('tests', 'authenticate_as', array['uuid'],
  'tests.authenticate_as(uuid) exists');
select has_function('tests', 'authenticate_as', array['text'],
  'tests.authenticate_as(text) exists');

select tests.create_supabase_user('alice');
select tests.create_supabase_user('bob', 'Bob@Example.com', email_confirmed => true);
select results_eq($$ select email, email_confirmed_at is null from auth.users
  where id = tests.get_supabase_uid('alice') $$, $$ values ('alice@test.local'::varchar, true) $$,
  'tests.create_supabase_user gives alice@test.local, unconfirmed, by default');
select results_eq($$ select email, email_confirmed_at = now() from auth.users
  where id = tests.get_supabase_uid('bob') $$, $$ values ('Bob@Example.com'::varchar, true) $$,
  'tests.create_supabase_user takes an email as given and can confirm it');
select isnt(tests.get_supabase_uid('alice'), tests.get_supabase_uid('bob'),
  'tests.get_supabase_uid tells users apart');
select throws_ok($$ select tests.create_supabase_user('alice') $$, 'P0001',
  'test user alice already exists', 'an identifier cannot be used twice');
select throws_ok($$ select tests.get_supabase_uid('nobody') $$, 'P0001',
  'test user nobody not found', 'tests.get_supabase_uid raises for an unknown identifier');
select is(tests.uuid_for('acme'), tests.uuid_for('acme'), 'tests.uuid_for is stable for a label');

select tests.authenticate_as('alice');
select is(auth.uid(), tests.get_supabase_uid('alice'),
  'tests.authenticate_as(identifier) sets the caller that auth.uid() reads');
select tests.authenticate_as(tests.get_supabase_uid('bob'));
select is(auth.uid(), tests.get_supabase_uid('bob'),
  'tests.authenticate_as(uuid) sets the caller that auth.uid() reads');
select tests.authenticate_as_anon();
select is(current_user::text, 'anon', 'tests.authenticate_as_anon switches to anon');
select tests.authenticate_as_service_role();
select is(auth.role(), 'service_role', 'tests.authenticate_as_service_role sets the service role');
select * from finish();
rollback;
