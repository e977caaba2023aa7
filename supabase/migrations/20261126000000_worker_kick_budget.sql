-- Worker kicks that match the platform.
--
-- pg_net gave up on a kick after 10 s while a worker step may run for the function's whole
-- wall-clock budget (150 s on the free plan, 400 s on paid plans); the response then recorded a
-- time-out for a step that was still working. The timeout is now a setting,
-- `worker_kick_timeout_ms` (default 150,000 ms), that matches the budget.
--
-- The kick sends the Vault secret `service_role_key` both as `Authorization: Bearer` and as
-- `apikey`: it is the project's service key in whatever form the project has (an `sb_secret_…`
-- key, which is not a JWT, or the legacy service_role JWT), and the workers compare it in
-- constant time (shared/auth.ts). The functions run with verify_jwt = false (config.toml).

insert into private.settings (key, value) values ('worker_kick_timeout_ms', '150000')
on conflict (key) do nothing;

create or replace function private.kick_worker(p_function text, p_body jsonb default '{}'::jsonb)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_url text;
  v_key text;
begin
  select s.decrypted_secret into v_url from vault.decrypted_secrets s where s.name = 'project_url';
  select s.decrypted_secret into v_key from vault.decrypted_secrets s
   where s.name = 'service_role_key';
  if v_url is null or v_key is null then
    raise warning 'vault secrets project_url/service_role_key are missing; % not kicked', p_function;
    return null;
  end if;
  return net.http_post(
    url := rtrim(v_url, '/') || '/functions/v1/' || p_function,
    body := p_body,
    headers := jsonb_build_object('Content-Type', 'application/json',
                                  'Authorization', 'Bearer ' || v_key,
                                  'apikey', v_key),
    timeout_milliseconds := private.setting_int('worker_kick_timeout_ms', 150000)
  );
end;
$$;
revoke all on function private.kick_worker(text, jsonb) from public, anon, authenticated;
grant execute on function private.kick_worker(text, jsonb) to service_role;
