/**
 * The browser console at `/console` (local only: served by `task dev` on the API's own origin,
 * never deployed as a function). `consolePages()` bundles app.ts with `deno bundle` (esbuild inside
 * Deno, no download) once at start and serves index.html, style.css, app.js and config.json (the
 * API key a frontend configures, and the fake checkout page when `--fake-providers` runs).
 * Same origin as the API, so the console needs no CORS; a frontend on another origin does
 * (docs/console.md).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

export interface ConsoleConfig {
  /** The key the page's supabase-js client is created with (anon / publishable). */
  anonKey?: string;
  /** The fake Razorpay's base URL: purchases go through its test checkout page. */
  fakeCheckoutUrl?: string;
}

export interface ConsolePages {
  handle(req: Request, url: URL): Promise<Response | undefined>;
  /** Set once the platform is up (the API key is known only then). */
  configure(config: ConsoleConfig): void;
}

/** Bundles app.ts (supabase-js included) for the browser. */
export async function bundleConsole(): Promise<string> {
  const out = join(await Deno.makeTempDir({ prefix: "console-" }), "app.js");
  try {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "--minify", "-o", out, "app.ts"],
      cwd: HERE,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`deno bundle of the console failed: ${new TextDecoder().decode(stderr)}`);
    }
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(dirname(out), { recursive: true }).catch(() => {});
  }
}

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
};

export async function consolePages(initial: ConsoleConfig = {}): Promise<ConsolePages> {
  const files: Record<string, string> = {
    "index.html": await Deno.readTextFile(join(HERE, "index.html")),
    "style.css": await Deno.readTextFile(join(HERE, "style.css")),
    "app.js": await bundleConsole(),
  };
  let config: ConsoleConfig = { ...initial };
  return {
    configure(next) {
      config = { ...config, ...next };
    },
    handle(req, url) {
      if (url.pathname === "/console") {
        return Promise.resolve(Response.redirect(`${url.origin}/console/${url.search}`, 301));
      }
      if (!url.pathname.startsWith("/console/") || req.method !== "GET") {
        return Promise.resolve(undefined);
      }
      const name = url.pathname.slice("/console/".length) || "index.html";
      if (name === "config.json") {
        return Promise.resolve(Response.json({
          anon_key: config.anonKey ?? null,
          fake_checkout_url: config.fakeCheckoutUrl ?? null,
        }, { headers: { "cache-control": "no-store" } }));
      }
      const body = files[name];
      if (body === undefined) return Promise.resolve(new Response("Not found", { status: 404 }));
      return Promise.resolve(
        new Response(body, {
          headers: { "content-type": TYPES[name]!, "cache-control": "no-cache" },
        }),
      );
    },
  };
}
