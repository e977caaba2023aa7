-- A report deleted before it was made gives its credit back.
--
-- Reports cascade with their workbench (and their user). A report still `queued` or `processing`
-- when its row goes was charged and will never be made: the worker only finds that "the report no
-- longer exists". So a before-delete trigger refunds it, through private.refund_report, which is
-- idempotent per charge (the ledger's unique (reason, reference_id)): a report that was already
-- refunded (failed) or finished (ready) is left alone by the status check, and a second refund of
-- the same key is a no-op anyway. When the user itself is being deleted (auth.users cascade), there
-- is no wallet to credit: nothing is done. A report without a charge (rows written by hand) is
-- deleted without a refund. The PDF collection trigger (reports_collect_object, after delete) is
-- unchanged.

create function private.refund_deleted_report() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.status in ('queued', 'processing')
     and exists (select 1 from auth.users u where u.id = old.user_id) then
    begin
      perform private.refund_report(old.user_id, old.idempotency_key);
    exception when no_data_found then
      -- No charge for this key, or no wallet: nothing to give back.
      null;
    end;
  end if;
  return old;
end;
$$;
revoke all on function private.refund_deleted_report() from public, anon, authenticated;

create trigger reports_refund_on_delete before delete on public.reports
  for each row execute function private.refund_deleted_report();
