import assert from "node:assert/strict";
import { displayName } from "../../functions/workbenches/uploads/checks.ts";
import {
  hasVisibleText,
  nameSchema,
  stripBidi,
  stripControls,
  textSchema,
} from "../../shared/validation.ts";

Deno.test("nameSchema() normalises to NFC and trims", () => {
  assert.equal(nameSchema().parse("  Cafe\u0301 Q3 "), "Café Q3");
});

Deno.test("nameSchema() refuses NUL and other control characters", () => {
  for (const bad of ["a\u0000b", "tab\tname", "line\nbreak", "del\u007f", "c1\u0085"]) {
    assert.equal(nameSchema().safeParse(bad).success, false, JSON.stringify(bad));
  }
});

Deno.test("nameSchema() refuses names made only of invisible characters", () => {
  for (const bad of ["   ", "\u200b\u200b", "\u3164", "\u2800", "\u202e", "\u00a0\u2060"]) {
    assert.equal(nameSchema().safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.equal(nameSchema().parse("\u200bQ3"), "\u200bQ3");
});

Deno.test("nameSchema() enforces its length after normalising", () => {
  assert.equal(nameSchema(3).safeParse("abcd").success, false);
  assert.equal(nameSchema(3).parse(" abc "), "abc");
});

Deno.test("textSchema() keeps line breaks and tabs but refuses NUL", () => {
  assert.equal(textSchema().parse("line 1\n\tline 2"), "line 1\n\tline 2");
  assert.equal(textSchema().safeParse("x\u0000y").success, false);
  assert.equal(textSchema(5).safeParse("123456").success, false);
});

Deno.test("stripBidi() removes bidirectional controls from file names", () => {
  assert.equal(stripBidi("\u202etxt.exe"), "txt.exe");
  assert.equal(stripBidi("a\u2066b\u2069c\u200f.pdf"), "abc.pdf");
  assert.equal(hasVisibleText(stripBidi("\u202e")), false);
});

Deno.test("displayName() keeps a file's visible base name only", () => {
  assert.equal(displayName("C:\\docs\\\u202etxt.exe"), "txt.exe");
  assert.equal(displayName("q3\u0000.csv"), "q3.csv");
  assert.equal(displayName("\u200b\u202e"), "untitled");
  assert.equal(stripControls("a\u0001b\u009fc"), "abc");
});
