-- Local stand-in for the pg_net extension: net.http_get / net.http_post / net.http_delete with
-- pg_net's signatures queue rows in net.http_request_queue; the local worker (local/worker.ts)
-- sends them after commit and records the outcome in net._http_response, as pg_net's background
-- worker does. Loaded only when the pg_net extension is not available on the server.

create schema if not exists net;

create table net.http_request_queue (
  id bigserial primary key,
  method text not null check (method in ('GET', 'POST', 'DELETE')),
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index _http_response_created_idx on net._http_response (created);

-- Percent-encodes a query-string component (RFC 3986 unreserved characters are kept).
create function net._urlencode(value text) returns text
language plpgsql immutable strict
as $$
declare
  bytes bytea := convert_to(value, 'UTF8');
  result text := '';
  b integer;
begin
  for i in 0 .. length(bytes) - 1 loop
    b := get_byte(bytes, i);
    if (b between 48 and 57) or (b between 65 and 90) or (b between 97 and 122)
       or b in (45, 46, 95, 126) then
      result := result || chr(b);
    else
      result := result || '%' || upper(lpad(to_hex(b), 2, '0'));
    end if;
  end loop;
  return result;
end;
$$;

create function net._with_params(url text, params jsonb) returns text
language sql immutable
as $$
  select case
    when params is null or params = '{}'::jsonb then url
    else url || case when position('?' in url) > 0 then '&' else '?' end || (
      select string_agg(net._urlencode(key) || '=' || net._urlencode(value), '&' order by key)
      from jsonb_each_text(params)
    )
  end
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile
as $$
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET', net._with_params(url, params), headers, timeout_milliseconds)
  returning id
$$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile
as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values ('POST', net._with_params(url, params), headers, convert_to(body::text, 'UTF8'),
          timeout_milliseconds)
  returning id
$$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql volatile
as $$
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('DELETE', net._with_params(url, params), headers, timeout_milliseconds)
  returning id
$$;

revoke all on schema net from public;
revoke all on all functions in schema net from public;
grant usage on schema net to service_role;
grant execute on function net.http_get(text, jsonb, jsonb, integer),
  net.http_post(text, jsonb, jsonb, jsonb, integer),
  net.http_delete(text, jsonb, jsonb, integer) to service_role;
