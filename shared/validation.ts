/**
 * Text that users type, checked at the boundary: NUL and other control characters are refused
 * (Postgres cannot store NUL in text, and control characters have no place in names), names are
 * NFC-normalised and trimmed and must show something once invisible characters are removed, and
 * file names lose bidirectional controls (`‮txt.exe` would display as `exe.txt`).
 */
import { z } from "zod";

/** C0/C1 controls except tab, line feed and carriage return (allowed in multi-line text). */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** Every C0/C1 control (names are one line). */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
/** Characters that show nothing: spaces, format characters (zero-width, bidi), fillers. */
const INVISIBLE = /[\p{Z}\p{Cf}\p{Cc}\u115F\u1160\u3164\uFFA0\u2800\u180E]/gu;
/** Bidirectional formatting controls. */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** True when the text has something visible once invisible characters are removed. */
export function hasVisibleText(text: string): boolean {
  return text.replace(INVISIBLE, "").length > 0;
}

/** Removes bidirectional controls (file names). */
export function stripBidi(text: string): string {
  return text.replace(BIDI, "");
}

/** Removes every C0/C1 control character. */
export function stripControls(text: string): string {
  return text.replace(new RegExp(CONTROL.source, "g"), "");
}

/** A one-line name: NFC, trimmed, 1–`max` characters, no controls, not blank or invisible. */
export function nameSchema(max = 200) {
  return z.string()
    .refine((s) => !CONTROL.test(s), "must not contain control characters")
    .transform((s) => s.normalize("NFC").trim())
    .pipe(
      z.string().min(1, "must not be empty").max(max)
        .refine(hasVisibleText, "must contain visible characters"),
    );
}

/** Free text (may span lines): NFC, trimmed, at most `max` characters, no NUL or controls. */
export function textSchema(max = 2000) {
  return z.string()
    .refine((s) => !CONTROL_IN_TEXT.test(s), "must not contain control characters")
    .transform((s) => s.normalize("NFC").trim())
    .pipe(z.string().max(max));
}

/** Free text that must show something (a chat question): `textSchema` and not blank or invisible. */
export function visibleTextSchema(max = 2000) {
  return textSchema(max).pipe(
    z.string().min(1, "must not be empty").refine(
      hasVisibleText,
      "must contain visible characters",
    ),
  );
}
