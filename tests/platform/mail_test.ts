/**
 * The mailer (shared/mail.ts) and the local mail catcher (local/mail_catcher.ts) speak Resend's
 * `POST /emails`: the request the mailer makes, byte for byte where it matters, and the catcher's
 * answers and errors in Resend's shapes; what tests and a browser read back from the catcher.
 */
import assert from "node:assert/strict";
import { startMailCatcher } from "../../local/mail_catcher.ts";
import { mailConfigFromEnv, MailError, resendMailer } from "../../shared/mail.ts";

const mail = {
  to: "Ann@Example.com",
  subject: "Hello <world>",
  text: "Plain body",
  html: "<p>HTML body</p>",
};

Deno.test("`resendMailer()` sends Resend's request: POST /emails, bearer key, JSON body", async () => {
  const seen: Request[] = [];
  const fake = (input: string | URL | Request, init?: RequestInit) => {
    seen.push(new Request(input, init));
    return Promise.resolve(Response.json({ id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" }));
  };
  const mailer = resendMailer(
    {
      apiUrl: "https://api.resend.com/",
      apiKey: "re_123",
      from: "Acme <a@acme.test>",
      timeoutMs: 5,
    },
    fake as typeof fetch,
  );
  const sent = await mailer.send({ ...mail, idempotencyKey: "invitation/1" });
  assert.deepEqual(sent, { id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });
  const [req] = seen;
  assert.equal(req.method, "POST");
  assert.equal(req.url, "https://api.resend.com/emails");
  assert.equal(req.headers.get("authorization"), "Bearer re_123");
  assert.equal(req.headers.get("content-type"), "application/json");
  assert.equal(req.headers.get("idempotency-key"), "invitation/1");
  assert.deepEqual(await req.json(), {
    from: "Acme <a@acme.test>",
    to: ["Ann@Example.com"],
    subject: "Hello <world>",
    html: "<p>HTML body</p>",
    text: "Plain body",
  });
});

Deno.test("`mailConfigFromEnv()` needs a key and a sender; the URL defaults to Resend's", () => {
  assert.equal(mailConfigFromEnv({ MAIL_FROM: "a@b.test" }), undefined);
  assert.equal(mailConfigFromEnv({ MAIL_API_KEY: "re_1" }), undefined);
  assert.deepEqual(mailConfigFromEnv({ MAIL_API_KEY: "re_1", MAIL_FROM: "a@b.test" }), {
    apiUrl: "https://api.resend.com",
    apiKey: "re_1",
    from: "a@b.test",
    timeoutMs: 10_000,
  });
});

Deno.test("the mail catcher takes the mailer's mail and shows it as Resend and as a list", async () => {
  const catcher = startMailCatcher({ port: 0 });
  try {
    const config = { apiUrl: catcher.url, apiKey: catcher.apiKey, from: "W <w@x.test>" };
    const mailer = resendMailer({ ...config, timeoutMs: 5_000 });
    const { id } = await mailer.send(mail);
    const again = await mailer.send({ ...mail, idempotencyKey: "k-1" });
    const replay = await mailer.send({ ...mail, idempotencyKey: "k-1" });
    assert.equal(replay.id, again.id, "one Idempotency-Key sends once");

    const one = await fetch(`${catcher.url}/emails/${id}`).then((r) => r.json());
    assert.equal(one.object, "email");
    assert.deepEqual([one.id, one.from, one.to, one.subject, one.text, one.html], [
      id,
      "W <w@x.test>",
      ["Ann@Example.com"],
      "Hello <world>",
      "Plain body",
      "<p>HTML body</p>",
    ]);
    const list = await fetch(`${catcher.url}/mail?to=ann@example.com`).then((r) => r.json());
    assert.deepEqual(list.messages.map((m: { id: string }) => m.id), [again.id, id]);
    const nobody = await fetch(`${catcher.url}/mail?to=bob@example.com`).then((r) => r.json());
    assert.deepEqual(nobody.messages, []);
    const page = await fetch(`${catcher.url}/`).then((r) => r.text());
    assert.ok(page.includes("Hello &#60;world&#62;") && !page.includes("Hello <world>"));

    const cleared = await fetch(`${catcher.url}/mail`, { method: "DELETE" });
    assert.equal(cleared.status, 204);
    assert.deepEqual(catcher.messages(), []);
  } finally {
    await catcher.stop();
  }
});

Deno.test("the mail catcher answers Resend's errors, and the mailer reports them", async () => {
  const catcher = startMailCatcher({ port: 0 });
  try {
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${catcher.url}/emails`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const auth = { authorization: `Bearer ${catcher.apiKey}` };
    const ok = { from: "a@x.test", to: "b@x.test", subject: "s", text: "t" };

    assert.deepEqual(await post({}, ok), {
      status: 401,
      body: {
        statusCode: 401,
        name: "missing_api_key",
        message: "Missing API key in the authorization header.",
      },
    });
    const wrongKey = await post({ authorization: "Bearer re_nope" }, ok);
    assert.deepEqual([wrongKey.status, wrongKey.body.name], [403, "invalid_api_key"]);
    const noSubject = await post(auth, { from: "a@x.test", to: "b@x.test", text: "t" });
    assert.deepEqual([noSubject.status, noSubject.body.name], [422, "missing_required_field"]);
    const noBody = await post(auth, { from: "a@x.test", to: "b@x.test", subject: "s" });
    assert.deepEqual([noBody.status, noBody.body.name], [422, "validation_error"]);
    const longKey = await post({ ...auth, "idempotency-key": "k".repeat(257) }, ok);
    assert.deepEqual([longKey.status, longKey.body.name], [400, "invalid_idempotency_key"]);
    assert.equal(catcher.messages().length, 0, "nothing refused is kept");

    const bad = resendMailer({
      apiUrl: catcher.url,
      apiKey: "re_nope",
      from: "a@x",
      timeoutMs: 5_000,
    });
    await assert.rejects(bad.send(mail), (err: unknown) => {
      assert.ok(err instanceof MailError);
      assert.equal(err.status, 403);
      assert.equal(err.providerError, "invalid_api_key");
      assert.ok(!err.message.includes("re_nope"), "the key is not in the error");
      return true;
    });
  } finally {
    await catcher.stop();
  }
  const down = resendMailer({ apiUrl: catcher.url, apiKey: "k", from: "a@x", timeoutMs: 2_000 });
  await assert.rejects(down.send(mail), (err: unknown) => err instanceof MailError && !err.status);
});
