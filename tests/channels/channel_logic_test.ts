/**
 * The pure parts of the channel: splitting at WhatsApp's 4,096 characters, the Dynamic Block,
 * citation markers kept or dropped and listed as "[1] file, p. 3", ManyChat's error envelope read
 * as a reason, and the inbound payload's rules.
 */
import assert from "node:assert/strict";
import { citationLines } from "../../functions/channel-worker/answer.ts";
import { cleanCitations } from "../../shared/chat/mod.ts";
import { InboundPayload } from "../../functions/channels/inbound_route.ts";
import { secretHash, secretMatches } from "../../functions/channels/secret.ts";
import {
  dynamicBlock,
  manyChatReason,
  splitForWhatsApp,
  WHATSAPP_TEXT_LIMIT,
} from "../../shared/manychat.ts";
import type { Passage } from "../../shared/retrieval/mod.ts";

Deno.test("`splitForWhatsApp()` keeps every part within 4,096 characters, cutting at breaks", () => {
  const para = "word ".repeat(600).trim(); // 2,999 characters
  const text = [para, para, para].join("\n\n");
  const parts = splitForWhatsApp(text);
  assert.ok(parts.length >= 3);
  for (const p of parts) assert.ok([...p].length <= WHATSAPP_TEXT_LIMIT, String(p.length));
  assert.equal(parts.join(" ").replace(/\s+/g, " "), text.replace(/\s+/g, " "));
  const hard = splitForWhatsApp("é".repeat(9000));
  assert.deepEqual(hard.map((p) => [...p].length), [4096, 4096, 808]);
  assert.deepEqual(splitForWhatsApp("short"), ["short"]);
});

Deno.test("`dynamicBlock()` is a v2 WhatsApp block of text messages", () => {
  assert.deepEqual(dynamicBlock(["a"]), {
    version: "v2",
    content: { type: "whatsapp", messages: [{ type: "text", text: "a" }] },
  });
});

Deno.test("chat's `cleanCitations()` drops markers that name no passage; `citationLines()` lists", () => {
  const { text, cited } = cleanCitations("Yes [2]. Also [1, 9]. Made up [7].", 2);
  assert.equal(text, "Yes [2]. Also [1]. Made up.");
  assert.deepEqual(cited, [2, 1]);
  const p = (fileName: string, page: number | null): Passage => ({
    chunkId: "c",
    fileId: "f",
    fileName,
    chunkIndex: 0,
    content: "",
    page,
    score: 1,
  });
  assert.deepEqual(citationLines([p("a.pdf", 3), p("b.txt", null)], cited), [
    "[2] b.txt",
    "[1] a.pdf, p. 3",
  ]);
});

Deno.test("`manyChatReason()` reads ManyChat's error envelope", () => {
  assert.equal(
    manyChatReason(400, { status: "error", message: "Validation error", details: { x: 1 } }),
    'ManyChat: Validation error ({"x":1})',
  );
  assert.equal(manyChatReason(502, "<html>"), "ManyChat: HTTP 502");
});

Deno.test("`InboundPayload` takes numeric ids as text and refuses an empty text", () => {
  const ok = InboundPayload.parse({ subscriber_id: 42, text: " hi ", message_id: 7, phone: "" });
  assert.deepEqual(ok, {
    subscriber_id: "42",
    text: "hi",
    message_id: "7",
    phone: null,
    name: null,
  });
  assert.equal(InboundPayload.safeParse({ subscriber_id: "1", text: "  " }).success, false);
  assert.equal(InboundPayload.safeParse({ text: "hi" }).success, false);
});

Deno.test("`secretMatches()` accepts only the secret that was hashed", async () => {
  const stored = await secretHash("mcs_abc");
  assert.equal(await secretMatches("mcs_abc", stored), true);
  assert.equal(await secretMatches("mcs_abd", stored), false);
  assert.equal(await secretMatches("", stored), false);
  assert.equal(await secretMatches("mcs_abc", null), false);
});
