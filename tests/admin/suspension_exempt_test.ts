/**
 * What a suspended account may still call: its data export (`GET /me/export`) and the export's
 * status and download (`GET /me/exports/{id}`), which requireUser lets through; nothing else.
 */
import assert from "node:assert/strict";
import { suspensionExempt } from "../../shared/auth.ts";

const at = (path: string) => new Request(`http://127.0.0.1:54321/functions/v1${path}`);

Deno.test("`suspensionExempt()` lets a suspended account start its export and download it", () => {
  assert.equal(suspensionExempt(at("/me/export")), true);
  assert.equal(suspensionExempt(at(`/me/exports/${crypto.randomUUID()}`)), true);
});

Deno.test("`suspensionExempt()` lets nothing else through", () => {
  for (
    const path of ["/me", "/me/restore", "/me/exporter", "/me/exportsx/1", "/wallet", "/reports"]
  ) {
    assert.equal(suspensionExempt(at(path)), false, path);
  }
});
