/**
 * Finds SQL that must never reach PGlite through the wire protocol. `COPY … FROM STDIN` makes
 * PGlite wait for data it cannot receive and exit the whole WASM instance, so the pooler refuses
 * it before it runs (COPY … TO STDOUT works and is let through).
 */

/** The statements of a query string with comments and quoted text blanked out, lower-cased. */
export function statementsOf(sql: string): string[] {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      i = end < 0 ? sql.length : end;
      out += " ";
    } else if (c === "/" && next === "*") {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") (depth++, i += 2);
        else if (sql[i] === "*" && sql[i + 1] === "/") (depth--, i += 2);
        else i++;
      }
      out += " ";
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(sql[i - 1] ?? "") && !/\w/.test(sql[i - 2] ?? "");
      i++;
      while (i < sql.length) {
        if (escapes && sql[i] === "\\") i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
      out += " x ";
    } else if (c === "$" && !/\w/.test(sql[i - 1] ?? "")) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!tag) {
        out += c;
        i++;
        continue;
      }
      const end = sql.indexOf(tag[0], i + tag[0].length);
      i = end < 0 ? sql.length : end + tag[0].length;
      out += " x ";
    } else {
      out += c;
      i++;
    }
  }
  return out.split(";").map((s) => s.trim().toLowerCase()).filter(Boolean);
}

/** True when the query text holds a `COPY … FROM STDIN`. */
export function copiesFromStdin(sql: string): boolean {
  if (!/copy/i.test(sql)) return false;
  return statementsOf(sql).some((s) =>
    /^copy\b/.test(s) && /\bfrom\s+stdin\b/.test(s) && !/\bto\s+stdout\b/.test(s)
  );
}

/** What runs instead: the same error for a simple query or an extended-protocol Execute. */
export const REFUSE_COPY_SQL = `DO $pooler$ BEGIN RAISE EXCEPTION USING
  ERRCODE = 'feature_not_supported',
  MESSAGE = 'COPY FROM STDIN is not supported by the local database (PGlite behind the local pooler)',
  HINT = 'Use INSERT statements, or COPY FROM a file on the database host.'; END $pooler$`;
