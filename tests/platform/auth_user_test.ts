/**
 * `requireUser()` accepts only subjects that are user ids: a verified token whose `sub` is not a
 * UUID (a project's custom tokens, a foreign issuer's ids) is a 401, not a 500 from the
 * database's uuid casts further on.
 */
import assert from "node:assert/strict";
import { type Claims, type JwtVerifier, requireUser } from "../../shared/auth.ts";
import { HttpError } from "../../shared/http.ts";

/** A verifier that accepts any token and answers `claims` (the signature is not the point). */
const verifierOf = (claims: Claims): JwtVerifier => ({
  verify: () => Promise.resolve(claims),
  isServiceKey: () => false,
});

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const requestWith = (sub: string) =>
  new Request("http://local/functions/v1/wallet", {
    headers: {
      authorization: `Bearer ${b64url({ alg: "ES256" })}.${
        b64url({ sub, role: "authenticated" })
      }.sig`,
    },
  });

const claimsFor = (sub: string): Claims => ({
  sub,
  role: "authenticated",
  aud: "authenticated",
  exp: Math.floor(Date.now() / 1000) + 60,
});

Deno.test("`requireUser()` answers 401 when the verified subject is not a UUID", async () => {
  for (const sub of ["not-a-uuid", "42", "", "11111111-1111-1111-1111-11111111111z"]) {
    await assert.rejects(
      requireUser(requestWith(sub), verifierOf(claimsFor(sub))),
      (err: unknown) =>
        err instanceof HttpError && err.status === 401 && err.code === "user_required",
      `sub ${JSON.stringify(sub)}`,
    );
  }
});

Deno.test("`requireUser()` returns the user when the subject is a UUID", async () => {
  const sub = crypto.randomUUID();
  const user = await requireUser(requestWith(sub), verifierOf(claimsFor(sub)));
  assert.equal(user.id, sub);
});
