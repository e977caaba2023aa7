/**
 * The pieces `task dev --fake-providers` adds, without a browser: the fake Razorpay's test checkout
 * page (pays, delivers the signed webhook, sends the browser back) and the console's pages.
 */
import assert from "node:assert/strict";
import { consolePages } from "../../local/console/server.ts";
import { startFakeProviders } from "../../local/fake_providers.ts";
import { hmacSha256Hex } from "../../shared/payments/mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "fake checkout page pays the order, delivers the signed webhook and returns",
  opts,
  async () => {
    const fakes = startFakeProviders();
    const delivered: { body: string; signature: string | null }[] = [];
    const api = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      delivered.push({
        body: await req.text(),
        signature: req.headers.get("x-razorpay-signature"),
      });
      return Response.json({ received: true });
    });
    try {
      fakes.connect(`http://127.0.0.1:${api.addr.port}`);
      const auth = "Basic " + btoa(`${fakes.env.RAZORPAY_KEY_ID}:${fakes.env.RAZORPAY_KEY_SECRET}`);
      const order = await fetch(`${fakes.env.RAZORPAY_API_BASE}/v1/orders`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify({ amount: 49900, currency: "INR", receipt: "r1" }),
      }).then((r) => r.json());

      const back = "http://127.0.0.1:9/console/";
      const page = await fetch(
        `${fakes.razorpay.url}/checkout/${order.id}?return=${encodeURIComponent(back)}`,
      );
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /499\.00 INR/);
      assert.match(html, /id="pay"/);

      const paid = await fetch(`${fakes.razorpay.url}/checkout/${order.id}/pay`, {
        method: "POST",
        body: new URLSearchParams({ return: back }),
        redirect: "manual",
      });
      await paid.body?.cancel();
      assert.equal(paid.status, 303);
      assert.equal(paid.headers.get("location"), `${back}?paid=${order.id}`);
      assert.equal(delivered.length, 1);
      const event = JSON.parse(delivered[0]!.body);
      assert.equal(event.event, "payment.captured");
      assert.equal(event.payload.payment.entity.order_id, order.id);
      assert.equal(
        delivered[0]!.signature,
        await hmacSha256Hex(fakes.env.RAZORPAY_WEBHOOK_SECRET!, delivered[0]!.body),
      );
      assert.equal(fakes.razorpay.orders.get(order.id)!.status, "paid");

      // A second click pays nothing more; a javascript: return URL is never followed.
      const again = await fetch(`${fakes.razorpay.url}/checkout/${order.id}/pay`, {
        method: "POST",
        body: new URLSearchParams({ return: "javascript:alert(1)" }),
        redirect: "manual",
      });
      assert.equal(again.status, 200);
      assert.doesNotMatch(await again.text(), /javascript:/);
      assert.equal(delivered.length, 1);
      assert.equal(fakes.razorpay.payments.get(order.id)!.length, 1);
    } finally {
      await api.shutdown();
      await fakes.stop();
    }
  },
);

Deno.test("consolePages() serves the page, the bundle and its config only under /console/", async () => {
  const pages = await consolePages({ fakeCheckoutUrl: "http://127.0.0.1:1" });
  pages.configure({ anonKey: "anon-key" });
  const get = (path: string, method = "GET") =>
    pages.handle(new Request(`http://127.0.0.1:2${path}`, { method }), new URL(`http://x${path}`));

  const index = (await get("/console/"))!;
  assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await index.text(), /<script type="module" src="\/console\/app.js">/);
  const bundle = (await get("/console/app.js"))!;
  assert.equal(bundle.headers.get("content-type"), "text/javascript; charset=utf-8");
  // supabase-js is inside: the page loads nothing from elsewhere.
  assert.match(await bundle.text(), /functions\/v1/);
  assert.deepEqual(await (await get("/console/config.json"))!.json(), {
    anon_key: "anon-key",
    fake_checkout_url: "http://127.0.0.1:1",
  });
  assert.equal((await get("/console"))!.status, 301);
  assert.equal((await get("/console/%2e%2e%2fdeno.json"))!.status, 404);
  assert.equal(await get("/functions/v1/healthz"), undefined);
  assert.equal(await get("/console/", "POST"), undefined);
});
