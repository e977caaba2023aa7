/**
 * What a client asks for in its StartupMessage, checked against what one shared PGlite session can
 * give: the user and database must be the session's, and the other parameters become settings the
 * pooler applies whenever the session comes back to that client.
 */
import type { ErrorFields } from "./wire.ts";

export interface StartupRequest {
  /** Settings to apply (name, value), in order. */
  settings: [string, string][];
  /** Protocol options (`_pq_.…`) the pooler does not know, to list in NegotiateProtocolVersion. */
  unknownOptions: string[];
}

export const SESSION_USER = "postgres";
export const SESSION_DATABASE = "postgres";

/** Parameters not turned into settings. */
const HANDLED = new Set(["user", "database", "options", "replication", "client_encoding"]);
const GUC_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

export type StartupResult = { ok: StartupRequest } | { error: ErrorFields };

export function readStartupRequest(params: Map<string, string>): StartupResult {
  const user = params.get("user") ?? "";
  if (user !== SESSION_USER) {
    return {
      error: {
        severity: "FATAL",
        code: "28000",
        message: `role "${user}" cannot log in to the local database`,
        hint: `Connect as "${SESSION_USER}": every client shares one PGlite session; ` +
          "use SET LOCAL ROLE inside a transaction to act as another role.",
      },
    };
  }
  const database = params.get("database") || user;
  if (database !== SESSION_DATABASE) {
    return {
      error: {
        severity: "FATAL",
        code: "3D000",
        message: `database "${database}" does not exist`,
        hint: `The local database has one database, "${SESSION_DATABASE}".`,
      },
    };
  }
  const replication = params.get("replication");
  if (replication && !/^(false|off|no|0)$/i.test(replication)) {
    return {
      error: {
        severity: "FATAL",
        code: "0A000",
        message: "replication connections are not supported by the local database",
      },
    };
  }
  const settings: [string, string][] = [];
  const unknownOptions: string[] = [];
  for (const [key, value] of params) {
    if (HANDLED.has(key)) continue;
    if (key.startsWith("_pq_.")) unknownOptions.push(key);
    else settings.push([key, value]);
  }
  const fromOptions = parseOptions(params.get("options") ?? "");
  if ("error" in fromOptions) return fromOptions;
  settings.push(...fromOptions.ok);
  for (const [name] of settings) {
    if (!GUC_NAME.test(name)) {
      return {
        error: {
          severity: "FATAL",
          code: "42704",
          message: `unrecognized configuration parameter "${name}"`,
        },
      };
    }
  }
  return { ok: { settings, unknownOptions } };
}

/** The `-c name=value` / `--name=value` switches of the `options` parameter. */
export function parseOptions(
  options: string,
): { ok: [string, string][] } | { error: ErrorFields } {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (c === "\\" && i + 1 < options.length) {
      word += options[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);

  const out: [string, string][] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i];
    if (w === "-c") w = words[++i] ?? "";
    else if (w.startsWith("-c")) w = w.slice(2);
    else if (w.startsWith("--")) w = w.slice(2);
    else {
      return {
        error: {
          severity: "FATAL",
          code: "42601",
          message: `invalid command-line argument for server process: ${w}`,
          hint: 'Only "-c name=value" and "--name=value" are accepted in options.',
        },
      };
    }
    const eq = w.indexOf("=");
    if (eq <= 0) {
      return {
        error: {
          severity: "FATAL",
          code: "42601",
          message: `-c ${w} requires a value`,
        },
      };
    }
    out.push([w.slice(0, eq).replaceAll("-", "_"), w.slice(eq + 1)]);
  }
  return { ok: out };
}
