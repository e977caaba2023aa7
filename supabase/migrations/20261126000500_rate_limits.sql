-- Rate limits for the routes that create things or take uploads, per user and per client IP,
-- through the token buckets of private.take_rate_token.
--
-- The limits are one setting, `rate_limits` in private.settings: for each scope a bucket capacity
-- (the burst) and a refill per minute, for the user and (looser, many users may share an address)
-- for the IP. Change them with an update of that row; no deploy needed.

insert into private.settings (key, value) values ('rate_limits', $json${
  "uploads":     {"capacity": 30, "per_minute": 30, "ip_capacity": 120, "ip_per_minute": 120},
  "create":      {"capacity": 20, "per_minute": 20, "ip_capacity": 100, "ip_per_minute": 100},
  "invitations": {"capacity": 20, "per_minute": 1,  "ip_capacity": 60,  "ip_per_minute": 5}
}$json$::jsonb)
on conflict (key) do nothing;

-- Takes a token for `p_scope` from the user's bucket and the IP's bucket. Returns
-- {allowed, retry_after_seconds}; unknown scopes are not limited.
create function private.check_rate_limit(p_scope text, p_user_id uuid, p_ip text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit jsonb := (select s.value -> p_scope from private.settings s where s.key = 'rate_limits');
  v_user jsonb;
  v_ip jsonb;
begin
  if v_limit is null then
    return jsonb_build_object('allowed', true, 'retry_after_seconds', 0);
  end if;
  v_user := private.take_rate_token(
    p_scope || ':user:' || coalesce(p_user_id::text, 'anonymous'),
    (v_limit ->> 'capacity')::integer,
    (v_limit ->> 'per_minute')::double precision / 60);
  v_ip := private.take_rate_token(
    p_scope || ':ip:' || coalesce(nullif(p_ip, ''), 'unknown'),
    (v_limit ->> 'ip_capacity')::integer,
    (v_limit ->> 'ip_per_minute')::double precision / 60);
  return jsonb_build_object(
    'allowed', (v_user ->> 'allowed')::boolean and (v_ip ->> 'allowed')::boolean,
    'retry_after_seconds', greatest((v_user ->> 'retry_after_seconds')::numeric,
                                    (v_ip ->> 'retry_after_seconds')::numeric));
end;
$$;
revoke all on function private.check_rate_limit(text, uuid, text) from public, anon, authenticated;
grant execute on function private.check_rate_limit(text, uuid, text) to service_role;
