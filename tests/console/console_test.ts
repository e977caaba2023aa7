/// <reference lib="dom" />
/**
 * The browser console (local/console/) in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core): a new user signs up, drops a CSV and a PDF, waits for both to be indexed, asks
 * a question and watches the answer stream in with a clickable citation, buys credits through the
 * fake Razorpay's test checkout page, sees an error envelope with its request id, and downloads a
 * report PDF, on the platform `task dev --fake-providers` runs (startStack + the same fakes and
 * pages). Each step leaves a screenshot in .artifacts/console/ (CI keeps the folder).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { consolePages } from "../../local/console/server.ts";
import { startFakeProviders } from "../../local/fake_providers.ts";
import { PROJECT_ROOT } from "../../local/stack.ts";
import { makePdf } from "../fixtures/documents.ts";
import { requireTool } from "../helpers/requirements.ts";
import { startTestStack } from "../helpers/stack.ts";

const CHROMIUM = "/usr/bin/chromium";
export const ARTIFACTS = join(PROJECT_ROOT, ".artifacts/console");
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const ignore = requireTool(
  "Chromium",
  existsSync(CHROMIUM),
  "apt-get install chromium; .ci/run installs it",
);

/** A Windows executable's first bytes: no upload accepts it. */
const EXE = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00]);

/** Bytes as base64, to hand files to the page. */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

Deno.test({
  name: "the console signs up, uploads, chats, buys credits and downloads a report in Chromium",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    await Deno.remove(ARTIFACTS, { recursive: true }).catch(() => {});
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const fakes = startFakeProviders();
    const pages = await consolePages({ fakeCheckoutUrl: fakes.razorpay.url });
    const stack = await startTestStack({ functionEnv: fakes.env, pages: pages.handle });
    fakes.connect(stack.apiUrl);
    pages.configure({ anonKey: stack.anonKey });
    const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
        viewport: { width: 1280, height: 800 },
        acceptDownloads: true,
      });
      const page = context.pages()[0] ?? await context.newPage();
      page.setDefaultTimeout(60_000);
      const browserErrors: string[] = [];
      page.on("pageerror", (err) => browserErrors.push(String(err)));
      const balance = async () => Number(await page.textContent("#balance"));

      await t.step("signs up", async () => {
        await page.goto(`${stack.apiUrl}/console`);
        await shot(page, "01-sign-in");
        await page.fill("#email", "browser@example.com");
        await page.fill("#password", "browser-password");
        await page.click("#sign-up");
        await page.waitForSelector("#main:not([hidden])");
        await page.waitForFunction(() => document.querySelector("#balance")?.textContent !== "–");
        assert.equal(await page.textContent("#who"), "browser@example.com");
        await page.fill("#workbench-name", "Q3 close");
        await page.click("#workbench-form button");
        await page.waitForSelector("#members li");
        await shot(page, "02-signed-up");
      });

      await t.step("drops a CSV and a PDF and waits until both are indexed", async () => {
        const csv = await Deno.readFile(join(PROJECT_ROOT, "tests/fixtures/reports/pnl.csv"));
        const pdf = makePdf([[
          "Board minutes, 14 August 2025.",
          "The board approved the zebra acquisition for 42 crore, closing in October.",
        ]]);
        const files = [
          { name: "pnl.csv", type: "text/csv", b64: base64(csv) },
          { name: "minutes.pdf", type: "application/pdf", b64: base64(pdf) },
          // Refused on upload: its row says why, the banner names the request.
          { name: "setup.exe", type: "application/octet-stream", b64: base64(EXE) },
        ];
        const dataTransfer = await page.evaluateHandle((list) => {
          const dt = new DataTransfer();
          for (const f of list) {
            const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], f.name, { type: f.type }));
          }
          return dt;
        }, files);
        await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
        await page.waitForSelector("#files li .status");
        await shot(page, "03-uploading");
        await page.waitForFunction(
          () => document.querySelectorAll("#files li .status.indexed").length === 2,
          null,
          { timeout: 120_000 },
        );
        const names = await page.$$eval("#files li .name", (els) => els.map((e) => e.textContent));
        assert.deepEqual(names.sort(), ["minutes.pdf", "pnl.csv", "setup.exe"]);
        const refused = page.locator('#files li[data-file="setup.exe"]');
        assert.equal(await refused.locator(".status").textContent(), "error");
        assert.ok((await refused.locator(".message").textContent() ?? "").length > 0);
        assert.match(await page.textContent("#error-code") ?? "", /unsupported_file_type, 415/);
        assert.match(await page.textContent("#error-request-id") ?? "", /^[0-9a-f-]{36}$/);
        await shot(page, "04-indexed");
        await page.click("#error-close");
      });

      await t.step("asks a question and sees the answer stream in with a citation", async () => {
        fakes.groq.setMode("cite", { chunkDelayMs: 150 });
        const counter = Number(await page.textContent("#wallet-counter"));
        await page.fill("#question", "What did the board approve about the zebra acquisition?");
        await page.click("#ask");
        // Mid-stream: text is there while the answer is not done yet.
        await page.waitForFunction(() => {
          const a = document.querySelector(".msg.assistant");
          return a?.getAttribute("data-state") === "streaming" &&
            (a.querySelector(".answer-text")?.textContent ?? "").length > 0;
        });
        await shot(page, "05-streaming");
        await page.waitForSelector('.msg.assistant[data-state="done"]', { timeout: 60_000 });
        const answer = await page.textContent(".msg.assistant .answer-text");
        assert.match(answer ?? "", /zebra/i);
        await page.click(".msg.assistant button.cite");
        const detail = await page.textContent("#citation-detail");
        assert.match(detail ?? "", /^\[\d+\] (minutes\.pdf · page 1|pnl\.csv)/);
        // The wallet's answer counter moves with the answer (credits go per bundle of answers).
        await page.waitForFunction(
          (n) => Number(document.querySelector("#wallet-counter")?.textContent) === n + 1,
          counter,
        );
        await shot(page, "06-answer-with-citation");
        await page.setViewportSize({ width: 390, height: 844 });
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth - document.documentElement.clientWidth
        );
        assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
        await shot(page, "06-answer-with-citation-phone");
        await page.setViewportSize({ width: 1280, height: 800 });
      });

      await t.step("buys credits through the fake provider's test checkout", async () => {
        const before = await balance();
        await page.click('li[data-plan="lite"] button.buy');
        await page.waitForSelector("#pay");
        await shot(page, "07-checkout");
        await page.click("#pay");
        await page.waitForURL(/\/console\//);
        await page.waitForFunction(
          () => /received/.test(document.querySelector("#notice")?.textContent ?? ""),
        );
        assert.equal(await balance(), before + 100);
        assert.equal(await page.textContent("#plan"), "Lite");
        // The payment is listed under invoices with its receipt (GET /billing/invoices).
        await page.waitForSelector("#invoices li[data-invoice] a");
        assert.match(await page.textContent("#invoices li[data-invoice]") ?? "", /razorpay/);
        const receipt = await page.getAttribute("#invoices li[data-invoice] a", "href");
        const pdf = await fetch(receipt!);
        assert.equal(pdf.status, 200);
        assert.equal(new TextDecoder().decode((await pdf.bytes()).slice(0, 5)), "%PDF-");
        // Back from the checkout page, the chat shows the session's history with its citations.
        await page.waitForSelector('.msg.assistant[data-state="done"] button.cite');
        await shot(page, "08-paid");
      });

      await t.step("shows an error's message and request id", async () => {
        await page.selectOption("#report-type", "variance");
        await page.click("#report-form button");
        await page.waitForSelector("#error:not([hidden])");
        assert.match(await page.textContent("#error-code") ?? "", /missing_inputs/);
        assert.match(await page.textContent("#error-request-id") ?? "", /^[0-9a-f-]{36}$/);
        await shot(page, "09-error");
        await page.click("#error-close");
      });

      await t.step("creates a report, watches it and downloads the PDF", async () => {
        await page.selectOption("#report-type", "financial_summary");
        await page.fill("#report-title", "Q3 summary");
        await page.click("#report-form button");
        await page.waitForSelector("#reports li[data-report] a.download", { timeout: 120_000 });
        await shot(page, "10-report-ready");
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.click("#reports li[data-report] a.download"),
        ]);
        const saved = join(ARTIFACTS, "report.pdf");
        await download.saveAs(saved);
        const head = new TextDecoder().decode((await Deno.readFile(saved)).slice(0, 5));
        assert.equal(head, "%PDF-");
        assert.equal(download.suggestedFilename(), "Q3 summary.pdf");
      });

      await t.step("renders the API reference at /api-docs", async () => {
        await page.goto(`${stack.apiUrl}/api-docs`);
        await page.waitForSelector("details.op");
        const operations = await page.locator("details.op").count();
        const doc = JSON.parse(await Deno.readTextFile(join(PROJECT_ROOT, "docs/openapi.json")));
        const documented = Object.values(doc.paths as Record<string, object>)
          .reduce((n, item) => n + Object.keys(item).length, 0);
        assert.equal(operations, documented, "one entry per documented operation");
        await page.locator("details.op").first().click();
        await shot(page, "11-api-docs");
      });

      assert.deepEqual(browserErrors, []);
    } finally {
      await context?.close();
      await stack.stop();
      await fakes.stop();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
