/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it over SASL: the local pooler checks
 * the password the way Postgres and Supabase's pooler (Supavisor) do, so every ordinary client
 * (postgres.js, psql, the Supabase CLI) logs in unchanged, and a wrong password never gets in.
 * Like Postgres, the pooler keeps only a verifier (salt, iterations, StoredKey, ServerKey), not
 * the password, and the proof never travels in a form that reveals it. No channel binding
 * (SCRAM-SHA-256-PLUS): the pooler speaks no TLS, so only `n,,` / `y,,` GS2 headers are accepted.
 * `scramClient()` is the client side, for tests and hand-written wire clients.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

export const SCRAM_MECHANISM = "SCRAM-SHA-256";
/** As Postgres' `scram_iterations` default. */
export const SCRAM_ITERATIONS = 4096;

export interface ScramVerifier {
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

const hmac = (key: Uint8Array, data: string | Uint8Array) =>
  new Uint8Array(createHmac("sha256", key).update(data).digest());
const sha256 = (data: Uint8Array) => new Uint8Array(createHash("sha256").update(data).digest());
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
function unb64(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function saltedPassword(password: string, salt: Uint8Array, iterations: number): Uint8Array {
  // Postgres applies SASLprep and falls back to the raw bytes when the password is not valid
  // for it; NFKC is SASLprep's normalisation, and every ASCII password is unchanged by it.
  return new Uint8Array(pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256"));
}

/** What the server stores for `password` (a fresh random salt each time). */
export function scramVerifier(password: string, iterations = SCRAM_ITERATIONS): ScramVerifier {
  const salt = new Uint8Array(randomBytes(16));
  const salted = saltedPassword(password, salt, iterations);
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, "Client Key")),
    serverKey: hmac(salted, "Server Key"),
  };
}

/** Why an exchange failed: `protocol` for a malformed message, `password` for a wrong proof. */
export class ScramError extends Error {
  constructor(readonly kind: "protocol" | "password", message: string) {
    super(message);
  }
}

/** Attributes of a SCRAM message (`a=value,b=value`), in order. */
function attributes(s: string): [string, string][] {
  return s.split(",").map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw new ScramError("protocol", `malformed SCRAM attribute`);
    return [part[0], part.slice(2)];
  });
}

/** The server side of one exchange: `first()` then `final()`. */
export class ScramServer {
  readonly #verifier: ScramVerifier;
  #clientFirstBare = "";
  #serverFirst = "";
  #nonce = "";
  #gs2 = "";

  constructor(verifier: ScramVerifier) {
    this.#verifier = verifier;
  }

  /** The client-first-message in, the server-first-message out. */
  first(clientFirst: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/s.exec(clientFirst);
    if (!m) throw new ScramError("protocol", "malformed SCRAM message (GS2 header)");
    if (m[1].startsWith("p=")) {
      throw new ScramError("protocol", "channel binding is not supported: the pooler has no TLS");
    }
    if (m[2] !== "") {
      throw new ScramError("protocol", "SCRAM authorization identity is not supported");
    }
    this.#gs2 = `${m[1]},${m[2]},`;
    this.#clientFirstBare = m[3];
    const attrs = attributes(m[3]);
    // Postgres ignores n= (the user is the startup packet's) but requires it to be there.
    if (attrs[0]?.[0] !== "n" || attrs[1]?.[0] !== "r" || !attrs[1][1]) {
      throw new ScramError("protocol", "malformed SCRAM message (expected n= and r=)");
    }
    const clientNonce = attrs[1][1];
    if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) {
      throw new ScramError("protocol", "malformed SCRAM nonce");
    }
    this.#nonce = clientNonce + b64(new Uint8Array(randomBytes(18)));
    const v = this.#verifier;
    this.#serverFirst = `r=${this.#nonce},s=${b64(v.salt)},i=${v.iterations}`;
    return this.#serverFirst;
  }

  /** The client-final-message in, the server-final-message out (throws on a wrong password). */
  final(clientFinal: string): string {
    const at = clientFinal.lastIndexOf(",p=");
    if (at < 0) throw new ScramError("protocol", "malformed SCRAM message (no proof)");
    const withoutProof = clientFinal.slice(0, at);
    const attrs = attributes(withoutProof);
    if (attrs[0]?.[0] !== "c" || attrs[1]?.[0] !== "r") {
      throw new ScramError("protocol", "malformed SCRAM message (expected c= and r=)");
    }
    const binding = unb64(attrs[0][1]);
    if (!binding || new TextDecoder().decode(binding) !== this.#gs2) {
      throw new ScramError("protocol", "SCRAM channel binding check failed");
    }
    if (attrs[1][1] !== this.#nonce) {
      throw new ScramError("protocol", "SCRAM nonce does not match");
    }
    const proof = unb64(clientFinal.slice(at + 3));
    if (!proof || proof.length !== 32) {
      throw new ScramError("protocol", "malformed SCRAM proof");
    }
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const v = this.#verifier;
    const signature = hmac(v.storedKey, authMessage);
    const clientKey = proof.map((b, i) => b ^ signature[i]);
    if (!timingSafeEqual(sha256(clientKey), v.storedKey)) {
      throw new ScramError("password", "wrong password");
    }
    return `v=${b64(hmac(v.serverKey, authMessage))}`;
  }
}

/** The client side: `first` to send, then `final(serverFirst)`, then `verify(serverFinal)`. */
export function scramClient(password: string) {
  const nonce = b64(new Uint8Array(randomBytes(18)));
  const clientFirstBare = `n=,r=${nonce}`;
  let serverSignature = "";
  return {
    first: `n,,${clientFirstBare}`,
    final(serverFirst: string): string {
      const attrs = new Map(attributes(serverFirst));
      const r = attrs.get("r") ?? "";
      const salt = unb64(attrs.get("s") ?? "");
      const iterations = Number(attrs.get("i"));
      if (!r.startsWith(nonce) || !salt || !(iterations > 0)) {
        throw new ScramError("protocol", "malformed server-first-message");
      }
      const salted = saltedPassword(password, salt, iterations);
      const clientKey = hmac(salted, "Client Key");
      const withoutProof = `c=${b64(new TextEncoder().encode("n,,"))},r=${r}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = hmac(sha256(clientKey), authMessage);
      serverSignature = b64(hmac(hmac(salted, "Server Key"), authMessage));
      return `${withoutProof},p=${b64(clientKey.map((b, i) => b ^ signature[i]))}`;
    },
    verify(serverFinal: string): boolean {
      return serverFinal === `v=${serverSignature}`;
    },
  };
}
