/**
 * `createJwtVerifier()` accepts the issuer of this project's tokens: `<SUPABASE_URL>/auth/v1`, and
 * on a project with a custom domain (whose tokens keep `https://<ref>.supabase.co/auth/v1` while
 * `SUPABASE_URL` may be the custom domain) the issuers listed in `AUTH_ISSUERS`. Tokens are
 * ES256, signed here and verified against a JWKS passed in, as the injected `SUPABASE_JWKS` is.
 */
import assert from "node:assert/strict";
import type { JWK } from "@supabase/auth-js";
import { createJwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import { loadEnv } from "../../shared/env.ts";
import { HttpError } from "../../shared/http.ts";

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const enc = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));

const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
  "sign",
  "verify",
]);
const kid = "test-key";
const jwk = {
  ...(await crypto.subtle.exportKey("jwk", pair.publicKey)),
  kid,
  alg: "ES256",
  use: "sig",
} as JWK;
const jwks = { keys: [jwk] };

async function tokenWith(iss: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const head = `${enc({ alg: "ES256", typ: "JWT", kid })}.${
    enc({
      sub: crypto.randomUUID(),
      role: "authenticated",
      aud: "authenticated",
      iss,
      iat: now,
      exp: now + 300,
    })
  }`;
  const sig = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    pair.privateKey,
    new TextEncoder().encode(head),
  );
  return `${head}.${b64url(new Uint8Array(sig))}`;
}

const isInvalid = (err: unknown) =>
  err instanceof HttpError && err.status === 401 && err.code === "invalid_token";

const REF_ISSUER = "https://abcdefgh.supabase.co/auth/v1";

Deno.test("`createJwtVerifier()` accepts `<SUPABASE_URL>/auth/v1` and refuses a foreign issuer", async () => {
  const verifier = createJwtVerifier({
    supabaseUrl: "https://abcdefgh.supabase.co/",
    publicKey: "anon",
    serviceKeys: [],
    jwks,
  });
  const claims = await verifier.verify(await tokenWith(REF_ISSUER));
  assert.equal(claims.iss, REF_ISSUER);
  await assert.rejects(
    verifier.verify(await tokenWith("https://other.supabase.co/auth/v1")),
    isInvalid,
  );
});

Deno.test("`createJwtVerifier()` accepts an extra issuer when SUPABASE_URL is a custom domain", async () => {
  const customDomain = {
    supabaseUrl: "https://api.example.com",
    publicKey: "anon",
    serviceKeys: [],
    jwks,
  };
  // Without the extra issuer, the project's own tokens are refused.
  await assert.rejects(
    createJwtVerifier(customDomain).verify(await tokenWith(REF_ISSUER)),
    isInvalid,
  );

  const verifier = createJwtVerifier({ ...customDomain, extraIssuers: [REF_ISSUER + "/"] });
  assert.equal((await verifier.verify(await tokenWith(REF_ISSUER))).iss, REF_ISSUER);
  assert.ok(await verifier.verify(await tokenWith("https://api.example.com/auth/v1")));
  await assert.rejects(
    verifier.verify(await tokenWith("https://other.supabase.co/auth/v1")),
    isInvalid,
  );
});

Deno.test("`verifierFromEnv()` takes the extra issuers from AUTH_ISSUERS", async () => {
  const base = {
    SUPABASE_URL: "https://api.example.com",
    SUPABASE_DB_URL: "postgresql://postgres@127.0.0.1:5432/postgres",
    SUPABASE_ANON_KEY: "anon",
    SUPABASE_SERVICE_ROLE_KEY: "service",
    SUPABASE_JWKS: JSON.stringify(jwks),
  };
  const env = loadEnv({ ...base, AUTH_ISSUERS: ` ${REF_ISSUER} , https://b.example.com/auth/v1` });
  assert.deepEqual(env.AUTH_ISSUERS, [REF_ISSUER, "https://b.example.com/auth/v1"]);
  assert.ok(await verifierFromEnv(env).verify(await tokenWith(REF_ISSUER)));
  assert.deepEqual(loadEnv(base).AUTH_ISSUERS, []);
  assert.throws(() => loadEnv({ ...base, AUTH_ISSUERS: "not a url" }), /AUTH_ISSUERS/);
});
