-- Local stand-in for the pg_cron extension: cron.schedule / cron.unschedule with pg_cron's
-- signatures, the cron.job and cron.job_run_details tables, and schedules in standard five-field
-- cron syntax or pg_cron's interval syntax ('10 seconds'). The local worker (local/worker.ts) runs
-- due jobs. Loaded only when the pg_cron extension is not available on the server.

create schema if not exists cron;

create table cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default 5432,
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text unique
);

create table cron.job_run_details (
  jobid bigint,
  runid bigserial primary key,
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);

create function cron._check_schedule(schedule text) returns void
language plpgsql immutable
as $$
declare
  field text := '(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?)*';
begin
  if schedule ~ '^\s*([1-9]|[1-5][0-9])\s+seconds?\s*$' then
    return;
  end if;
  if schedule ~ ('^\s*' || field || '(\s+' || field || '){4}\s*$') then
    return;
  end if;
  raise exception 'invalid schedule: %', schedule using errcode = '22023';
end;
$$;

create function cron.schedule(job_name text, schedule text, command text) returns bigint
language plpgsql
as $$
declare
  id bigint;
begin
  perform cron._check_schedule(schedule);
  insert into cron.job (jobname, schedule, command)
  values (job_name, schedule, command)
  on conflict (jobname) do update set schedule = excluded.schedule, command = excluded.command,
    active = true
  returning jobid into id;
  return id;
end;
$$;

create function cron.schedule(schedule text, command text) returns bigint
language plpgsql
as $$
declare
  id bigint;
begin
  perform cron._check_schedule(schedule);
  insert into cron.job (schedule, command) values (schedule, command) returning jobid into id;
  return id;
end;
$$;

create function cron.unschedule(job_id bigint) returns boolean
language plpgsql
as $$
begin
  delete from cron.job where jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
  return true;
end;
$$;

create function cron.unschedule(job_name text) returns boolean
language plpgsql
as $$
begin
  delete from cron.job where jobname = job_name;
  if not found then
    raise exception 'could not find valid entry for job ''%''', job_name;
  end if;
  return true;
end;
$$;

revoke all on schema cron from public;
revoke all on all functions in schema cron from public;
