/**
 * Bad input gets a clear 4xx, never a 500, and costs the server nothing: JSON bodies are capped
 * while being read, control characters and invisible names are refused, bad percent-encoding is a
 * 400, file names lose bidi controls, a PDF decompression bomb is refused at upload, and creation routes are rate limited per user and per IP.
 */
import assert from "node:assert/strict";
import { getDb } from "../../shared/db.ts";
import { makeFlatePdf } from "../fixtures/documents.ts";
import { errorBody, signUpUser, startTestStack } from "../helpers/stack.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("bounded inputs: sizes, characters, encodings and rates", opts, async (t) => {
  const stack = await startTestStack();
  const sql = getDb();
  const fn = (path: string, init: RequestInit & { token: string }) =>
    fetch(`${stack.apiUrl}/functions/v1/${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${init.token}`,
        "content-type": "application/json",
        ...(init.headers ?? {}),
      },
    });
  try {
    const alice = await signUpUser(stack, "alice");

    await t.step("a 2 MB JSON body is refused with 413 while it is read", async () => {
      const big = JSON.stringify({ name: "x", pad: "y".repeat(2 * 1024 * 1024) });
      const { status, body } = await errorBody(
        await fn("companies", { method: "POST", body: big, token: alice.token }),
      );
      assert.equal(status, 413);
      assert.equal(body.error.code, "payload_too_large");
    });

    await t.step("a NUL or another control character in a name is a 400", async () => {
      for (const name of ["Acme\u0000", "Ac\u0007me"]) {
        const { status, body } = await errorBody(
          await fn("companies", {
            method: "POST",
            body: JSON.stringify({ name }),
            token: alice.token,
          }),
        );
        assert.equal(status, 400, JSON.stringify(name));
        assert.equal(body.error.code, "validation_failed");
      }
      const { status } = await errorBody(
        await fn("workbenches", {
          method: "POST",
          body: JSON.stringify({ name: "Q3", description: "notes\u0000" }),
          token: alice.token,
        }),
      );
      assert.equal(status, 400);
    });

    await t.step("a name made only of invisible characters is a 400", async () => {
      const { status, body } = await errorBody(
        await fn("workbenches", {
          method: "POST",
          body: JSON.stringify({ name: "\u200b\u2060\u3164" }),
          token: alice.token,
        }),
      );
      assert.equal(status, 400);
      assert.match(JSON.stringify(body.error.details), /visible/);
    });

    await t.step("names are NFC-normalised and trimmed", async () => {
      const { data } = await alice.client.functions.invoke("workbenches", {
        body: { name: "  Cafe\u0301 close " },
      });
      assert.equal(data.name, "Café close");
    });

    await t.step("malformed percent-encoding in the path is a 400", async () => {
      const { status, body } = await errorBody(
        await fn("workbenches/%E0%A4%A", { method: "GET", token: alice.token }),
      );
      assert.equal(status, 400);
      assert.equal(body.error.code, "invalid_path");
    });

    await t.step("file names lose bidirectional controls", async () => {
      const { data: wb } = await alice.client.functions.invoke("workbenches", {
        body: { name: "Bidi" },
      });
      const form = new FormData();
      form.append("file", new Blob(["a,b\n1,2\n"]), "\u202ecsv.exe.csv");
      const { data, error } = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
        body: form,
      });
      assert.equal(error, null);
      assert.equal(data.files[0].file_name, "csv.exe.csv");
    });

    await t.step("a PDF bomb is refused at upload with 413, within the Edge limits", async () => {
      const { data: wb } = await alice.client.functions.invoke("workbenches", {
        body: { name: "Bombs" },
      });
      const bomb = makeFlatePdf([["Total 1"]], { padBytes: 150 * 1024 * 1024 });
      const form = new FormData();
      form.append("file", new Blob([bomb as BlobPart], { type: "application/pdf" }), "bomb.pdf");
      const { error } = await alice.client.functions.invoke(`workbenches/${wb.id}/files`, {
        body: form,
      });
      const res = (error as { context?: Response } | null)?.context;
      assert.ok(res instanceof Response, `expected an HTTP error, got ${error}`);
      const { status, body } = await errorBody(res);
      assert.equal(status, 413, JSON.stringify(body));
      assert.equal(body.error.code, "document_too_large");
      assert.equal(body.error.details.file_name, "bomb.pdf");
      const rows = await sql`select 1 from public.workbench_files where workbench_id = ${wb.id}`;
      assert.equal(rows.length, 0, "nothing is kept");
    });

    await t.step("creation routes are rate limited with 429 and Retry-After", async () => {
      const [saved] = await sql`select value from private.settings where key = 'rate_limits'`;
      await sql`update private.settings
                   set value = jsonb_set(value, '{create}',
                     '{"capacity": 2, "per_minute": 1, "ip_capacity": 100, "ip_per_minute": 100}')
                 where key = 'rate_limits'`;
      try {
        const bob = await signUpUser(stack, "bob");
        const create = () =>
          fn("companies", { method: "POST", body: '{"name": "B"}', token: bob.token });
        assert.equal(await create().then((r) => r.json().then(() => r.status)), 201);
        assert.equal(await create().then((r) => r.json().then(() => r.status)), 201);
        const { status, body, headers } = await errorBody(await create());
        assert.equal(status, 429);
        assert.equal(body.error.code, "rate_limited");
        assert.ok(Number(headers.get("retry-after")) >= 1);
        // Another user is not affected by Bob's bucket.
        const carol = await signUpUser(stack, "carol");
        const other = await fn("companies", {
          method: "POST",
          body: '{"name": "C"}',
          token: carol.token,
        });
        await other.body?.cancel();
        assert.equal(other.status, 201);
      } finally {
        await sql`update private.settings set value = ${saved!.value} where key = 'rate_limits'`;
      }
    });
  } finally {
    await stack.stop();
  }
});
