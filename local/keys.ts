/**
 * The local stand-in for Supabase Auth's signing keys: one ES256 key pair (kept in the data
 * directory so tokens survive restarts), its JWKS, and the anon / service_role API keys signed
 * with it.
 */
import { exportJWK, importJWK, type JWK, SignJWT } from "jose";

export interface LocalKeys {
  kid: string;
  publicJwk: JWK;
  jwks: { keys: JWK[] };
  anonKey: string;
  serviceRoleKey: string;
  /** Signs claims with the local key; `ttlSeconds` sets `exp`. */
  sign(claims: Record<string, unknown>, ttlSeconds: number): Promise<string>;
  /** Signs exactly these claims (no iat/exp added): for tests of malformed tokens. */
  signRaw(claims: Record<string, unknown>): Promise<string>;
}

interface StoredKeys {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  anonKey?: string;
  serviceRoleKey?: string;
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

async function generate(): Promise<StoredKeys> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  return {
    kid: crypto.randomUUID(),
    privateJwk: await exportJWK(pair.privateKey),
    publicJwk: await exportJWK(pair.publicKey),
  };
}

async function readStored(file: string): Promise<StoredKeys | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(file)) as StoredKeys;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Loads the key pair from `file` (creating it on first use), or makes an ephemeral one. */
export async function loadKeys(file?: string): Promise<LocalKeys> {
  let stored = file ? await readStored(file) : undefined;
  const isNew = !stored;
  stored ??= await generate();
  const { kid } = stored;
  const privateKey = await importJWK(stored.privateJwk, "ES256");
  const publicJwk: JWK = {
    ...stored.publicJwk,
    kid,
    alg: "ES256",
    use: "sig",
    key_ops: ["verify"],
  };

  const sign = (claims: Record<string, unknown>, ttlSeconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(privateKey);
  };

  // API keys are minted once per key pair, so a frontend's configured anon key stays valid.
  stored.anonKey ??= await sign({ iss: "supabase-local", role: "anon" }, TEN_YEARS);
  stored.serviceRoleKey ??= await sign({ iss: "supabase-local", role: "service_role" }, TEN_YEARS);
  if (file && isNew) await Deno.writeTextFile(file, JSON.stringify(stored), { mode: 0o600 });

  return {
    kid,
    publicJwk,
    jwks: { keys: [publicJwk] },
    anonKey: stored.anonKey,
    serviceRoleKey: stored.serviceRoleKey,
    sign,
    signRaw: (claims) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" }).sign(
        privateKey,
      ),
  };
}
