/**
 * `POST /chat/sessions/{id}/messages` refuses a question that shows nothing: blank, or only
 * invisible characters (zero-width spaces, a braille blank, fillers), 400 before anything is
 * stored or asked. The handler runs in-process; the body is checked before the database is
 * reached, so the database here refuses every query.
 */
import assert from "node:assert/strict";
import type { JwtVerifier } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import { serve } from "../../shared/http.ts";
import { createChatHandler } from "../../functions/chat/handler.ts";

const USER = crypto.randomUUID();
const verifier: JwtVerifier = {
  verify: () =>
    Promise.resolve({
      sub: USER,
      role: "authenticated",
      aud: "authenticated",
      exp: Math.floor(Date.now() / 1000) + 60,
    }),
  isServiceKey: () => false,
};
const noDatabase = (() => {
  throw new Error("the database must not be reached");
}) as unknown as () => Sql;

const chat = serve(
  "chat",
  createChatHandler({
    sql: noDatabase,
    verifier,
    embedder: {
      model: "unused",
      dimensions: 384,
      embed: () => Promise.reject(new Error("not used")),
    },
  }),
);

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const token = `${b64url({ alg: "ES256" })}.${b64url({ sub: USER, role: "authenticated" })}.sig`;

async function ask(content: string) {
  const res = await chat(
    new Request(`http://local/functions/v1/chat/sessions/${crypto.randomUUID()}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ content }),
    }),
  );
  return { status: res.status, body: await res.json() };
}

Deno.test("`POST /chat/sessions/{id}/messages` answers 400 when the question shows nothing", async () => {
  const blanks = ["", "   ", "\n\t ", "\u200b\u200b", "\u2800", "\u3164", "\u200b \ufeff"];
  for (const content of blanks) {
    const { status, body } = await ask(content);
    assert.equal(status, 400, JSON.stringify(content));
    assert.equal(body.error.code, "validation_failed", JSON.stringify(body));
  }
});
