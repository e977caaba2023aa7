/**
 * `task dev --fake-providers` as a user runs it: the banner names the fakes and the console, the
 * functions see Groq and Razorpay configured (through the same variables as the real ones), a
 * checkout order lands on the fake, and its test checkout page shows it.
 */
import assert from "node:assert/strict";
import { startDev } from "../helpers/dev.ts";

Deno.test(
  "`task dev --fake-providers` configures the functions with the fakes and serves /console",
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "dev-fakes-" });
    const dev = await startDev(["--data-dir", dataDir, "--fake-providers"]);
    try {
      const api = dev.field("API URL");
      const line = /Fake providers\s+Groq (\S+), Razorpay (\S+) /.exec(dev.output);
      assert.ok(line, `the banner names the fakes:\n${dev.output}`);
      const razorpayUrl = line[2]!;
      assert.match(dev.output, new RegExp(`Console\\s+${api}/console`));

      const service = dev.field("service_role key");
      const ready = await fetch(`${api}/functions/v1/readyz`, {
        headers: { authorization: `Bearer ${service}`, apikey: service },
      }).then((r) => r.json());
      assert.equal(ready.config.llm.provider, "groq");
      assert.deepEqual(ready.config.payments, {
        provider: "razorpay",
        mode: "test",
        webhooks: true,
      });

      const config = await fetch(`${api}/console/config.json`).then((r) => r.json());
      assert.equal(config.fake_checkout_url, razorpayUrl);
      assert.equal(config.anon_key, dev.field("anon key"));

      const token = dev.field("Demo token");
      const res = await fetch(`${api}/functions/v1/checkout/session`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          apikey: config.anon_key,
          "content-type": "application/json",
        },
        body: JSON.stringify({ plan_id: "lite" }),
      });
      assert.equal(res.status, 201);
      const order = await res.json();
      const page = await fetch(`${razorpayUrl}/checkout/${order.order_id}?return=${api}/console/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), new RegExp(order.order_id));
    } finally {
      dev.child.kill("SIGTERM");
      await dev.child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
