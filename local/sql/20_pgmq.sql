-- Local stand-in for the pgmq 1.x extension: same schema name, table layout (pgmq.q_<queue>,
-- pgmq.a_<queue>, pgmq.meta), types and function signatures, in plain PL/pgSQL. Loaded only when
-- the pgmq extension is not available on the server.

create schema if not exists pgmq;

create type pgmq.message_record as (
  msg_id bigint,
  read_ct integer,
  enqueued_at timestamptz,
  vt timestamptz,
  message jsonb
);

create type pgmq.metrics_result as (
  queue_name text,
  queue_length bigint,
  newest_msg_age_sec integer,
  oldest_msg_age_sec integer,
  total_messages bigint,
  scrape_time timestamptz
);

create type pgmq.queue_record as (
  queue_name varchar,
  is_partitioned boolean,
  is_unlogged boolean,
  created_at timestamptz
);

create table pgmq.meta (
  queue_name varchar not null unique,
  is_partitioned boolean not null default false,
  is_unlogged boolean not null default false,
  created_at timestamptz not null default now()
);

create function pgmq.format_table_name(queue_name text, prefix text) returns text
language plpgsql immutable
as $$
begin
  if queue_name !~ '^[A-Za-z0-9_]+$' then
    raise exception 'queue name contains invalid characters: %', queue_name;
  end if;
  if length(queue_name) > 47 then
    raise exception 'queue name is too long, maximum length is 47 characters';
  end if;
  return lower(prefix || '_' || queue_name);
end;
$$;

create function pgmq._assert_queue(queue_name text) returns void
language plpgsql
as $$
begin
  if not exists (select 1 from pgmq.meta m where m.queue_name = _assert_queue.queue_name) then
    raise exception 'queue "%" does not exist', queue_name using errcode = '42P01';
  end if;
end;
$$;

create function pgmq."create"(queue_name text) returns void
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
  atable text := pgmq.format_table_name(queue_name, 'a');
begin
  execute format(
    'create table if not exists pgmq.%I (
       msg_id bigint primary key generated always as identity,
       read_ct integer not null default 0,
       enqueued_at timestamptz not null default now(),
       vt timestamptz not null,
       message jsonb)', qtable);
  execute format(
    'create table if not exists pgmq.%I (
       msg_id bigint primary key,
       read_ct integer not null default 0,
       enqueued_at timestamptz not null default now(),
       archived_at timestamptz not null default now(),
       vt timestamptz not null,
       message jsonb)', atable);
  execute format('create index if not exists %I on pgmq.%I (vt asc)', qtable || '_vt_idx', qtable);
  insert into pgmq.meta (queue_name) values (queue_name) on conflict do nothing;
end;
$$;

create function pgmq.drop_queue(queue_name text) returns boolean
language plpgsql
as $$
begin
  execute format('drop table if exists pgmq.%I', pgmq.format_table_name(queue_name, 'q'));
  execute format('drop table if exists pgmq.%I', pgmq.format_table_name(queue_name, 'a'));
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return found;
end;
$$;

create function pgmq.list_queues() returns setof pgmq.queue_record
language sql stable
as $$
  select m.queue_name, m.is_partitioned, m.is_unlogged, m.created_at from pgmq.meta m order by 1
$$;

create function pgmq.send(queue_name text, msg jsonb, delay integer default 0)
returns setof bigint
language plpgsql
as $$
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format(
    'insert into pgmq.%I (vt, message) values (clock_timestamp() + make_interval(secs => $1), $2)
     returning msg_id', pgmq.format_table_name(queue_name, 'q'))
    using delay, msg;
end;
$$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer default 0)
returns setof bigint
language plpgsql
as $$
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format(
    'insert into pgmq.%I (vt, message)
     select clock_timestamp() + make_interval(secs => $1), m from unnest($2) with ordinality as u(m, n)
     order by n
     returning msg_id', pgmq.format_table_name(queue_name, 'q'))
    using delay, msgs;
end;
$$;

create function pgmq.read(queue_name text, vt integer, qty integer, conditional jsonb default '{}')
returns setof pgmq.message_record
language plpgsql
as $$
declare
  qtable text := pgmq.format_table_name(queue_name, 'q');
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format(
    'with cte as (
       select msg_id from pgmq.%1$I
       where vt <= clock_timestamp() and message @> $3
       order by msg_id asc
       limit $2
       for update skip locked
     )
     update pgmq.%1$I m
        set vt = clock_timestamp() + make_interval(secs => $1), read_ct = m.read_ct + 1
       from cte
      where m.msg_id = cte.msg_id
     returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message', qtable)
    using vt, qty, coalesce(conditional, '{}'::jsonb);
end;
$$;

create function pgmq.pop(queue_name text) returns setof pgmq.message_record
language plpgsql
as $$
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format(
    'with cte as (
       select msg_id from pgmq.%1$I where vt <= clock_timestamp()
       order by msg_id asc limit 1 for update skip locked
     )
     delete from pgmq.%1$I m using cte where m.msg_id = cte.msg_id
     returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message',
    pgmq.format_table_name(queue_name, 'q'));
end;
$$;

create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer)
returns setof pgmq.message_record
language plpgsql
as $$
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format(
    'update pgmq.%I m set vt = clock_timestamp() + make_interval(secs => $1)
      where m.msg_id = $2
     returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message',
    pgmq.format_table_name(queue_name, 'q'))
    using vt, msg_id;
end;
$$;

create function pgmq.delete(queue_name text, msg_id bigint) returns boolean
language plpgsql
as $$
declare
  deleted bigint;
begin
  perform pgmq._assert_queue(queue_name);
  execute format('delete from pgmq.%I m where m.msg_id = $1 returning m.msg_id',
    pgmq.format_table_name(queue_name, 'q'))
    into deleted using msg_id;
  return deleted is not null;
end;
$$;

create function pgmq.delete(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
as $$
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format('delete from pgmq.%I m where m.msg_id = any($1) returning m.msg_id',
    pgmq.format_table_name(queue_name, 'q'))
    using msg_ids;
end;
$$;

create function pgmq.archive(queue_name text, msg_ids bigint[]) returns setof bigint
language plpgsql
as $$
begin
  perform pgmq._assert_queue(queue_name);
  return query execute format(
    'with archived as (
       delete from pgmq.%I m where m.msg_id = any($1)
       returning m.msg_id, m.read_ct, m.enqueued_at, m.vt, m.message
     )
     insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message)
     select msg_id, read_ct, enqueued_at, vt, message from archived
     returning msg_id',
    pgmq.format_table_name(queue_name, 'q'), pgmq.format_table_name(queue_name, 'a'))
    using msg_ids;
end;
$$;

create function pgmq.archive(queue_name text, msg_id bigint) returns boolean
language sql
as $$
  select exists (select 1 from pgmq.archive(queue_name, array[msg_id]))
$$;

create function pgmq.purge_queue(queue_name text) returns bigint
language plpgsql
as $$
declare
  deleted bigint;
begin
  perform pgmq._assert_queue(queue_name);
  execute format('with d as (delete from pgmq.%I returning 1) select count(*) from d',
    pgmq.format_table_name(queue_name, 'q'))
    into deleted;
  return deleted;
end;
$$;

create function pgmq.metrics(queue_name text) returns pgmq.metrics_result
language plpgsql
as $$
declare
  result pgmq.metrics_result;
begin
  perform pgmq._assert_queue(queue_name);
  execute format(
    'select $1::text,
            count(*)::bigint,
            extract(epoch from (now() - max(enqueued_at)))::integer,
            extract(epoch from (now() - min(enqueued_at)))::integer,
            (select coalesce(s.last_value, 0) from pg_catalog.pg_sequences s
              where s.schemaname = ''pgmq'' and s.sequencename = %2$L),
            now()
       from pgmq.%1$I',
    pgmq.format_table_name(queue_name, 'q'), pgmq.format_table_name(queue_name, 'q') || '_msg_id_seq')
    into result using queue_name;
  return result;
end;
$$;

create function pgmq.metrics_all() returns setof pgmq.metrics_result
language plpgsql
as $$
declare
  q record;
begin
  for q in select m.queue_name from pgmq.meta m order by 1 loop
    return next pgmq.metrics(q.queue_name);
  end loop;
end;
$$;

revoke all on all functions in schema pgmq from public;
revoke all on schema pgmq from public;
grant usage on schema pgmq to service_role;
grant execute on all functions in schema pgmq to service_role;
