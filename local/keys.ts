/**
 * The local stand-in for a Supabase project's keys, in each mode a real project can be in:
 *
 * - `jwt: "es256"`: Auth signs user tokens with an asymmetric key (ES256) published in the JWKS;
 *   the legacy anon / service_role API keys are still HS256 JWTs signed with the legacy secret (as
 *   on a project that moved to signing keys).
 * - `jwt: "hs256"`: everything is signed with the legacy JWT secret; the JWKS is empty.
 * - `apiKeys: "new"`: the project uses `sb_publishable_…` / `sb_secret_…` API keys (opaque
 *   strings, not JWTs) and has disabled the legacy anon / service_role keys.
 *
 * Only the platform (Auth, Storage, the gateway) knows the secrets; functions get what Supabase
 * injects (see `functionEnv`). Keys live in the data directory so tokens survive restarts.
 */
import { exportJWK, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { timingSafeEqual } from "../shared/auth.ts";

export type JwtMode = "es256" | "hs256";
export type ApiKeyMode = "legacy" | "new";

export interface KeyMode {
  jwt: JwtMode;
  apiKeys: ApiKeyMode;
}

export const DEFAULT_KEY_MODE: KeyMode = { jwt: "es256", apiKeys: "legacy" };

/** Every combination, for tests that run in each mode. */
export const ALL_KEY_MODES: KeyMode[] = [
  { jwt: "es256", apiKeys: "legacy" },
  { jwt: "hs256", apiKeys: "legacy" },
  { jwt: "es256", apiKeys: "new" },
  { jwt: "hs256", apiKeys: "new" },
];

export function keyModeName(mode: KeyMode): string {
  return `${mode.jwt}${mode.apiKeys === "new" ? "+sb-keys" : ""}`;
}

/** What a verified credential is. */
export type Credential =
  | { kind: "api_key"; role: "anon" | "service_role" }
  | { kind: "jwt"; claims: Record<string, unknown> };

export interface LocalKeys {
  mode: KeyMode;
  /** The key a frontend configures (`sb_publishable_…` or the legacy anon JWT). */
  publicKey: string;
  /** The key servers use (`sb_secret_…` or the legacy service_role JWT). */
  secretKey: string;
  /** The legacy JWT API keys; null when the project has disabled them (`apiKeys: "new"`). */
  legacyAnonKey: string | null;
  legacyServiceRoleKey: string | null;
  /** What Auth publishes at /auth/v1/.well-known/jwks.json (empty in hs256 mode). */
  jwks: { keys: JWK[] };
  /** Signs user/session claims the way this project's Auth does; `ttlSeconds` sets `exp`. */
  sign(claims: Record<string, unknown>, ttlSeconds: number): Promise<string>;
  /** Signs exactly these claims with the user-token key (no iat/exp added): malformed-token tests. */
  signRaw(claims: Record<string, unknown>): Promise<string>;
  /** Signs a short-lived storage URL token (internal to local Storage). */
  signUrl(url: string, ttlSeconds: number): Promise<string>;
  verifyUrl(token: string): Promise<string>;
  /**
   * Checks a credential as the platform (API gateway, Auth, Storage) does: an API key of this
   * project, or a JWT signed by one of its keys (current signing key or legacy secret). Throws
   * when it is neither; `exp` is required on JWTs.
   */
  verify(credential: string): Promise<Credential>;
  /** Mode-independent details for tests. */
  kid: string;
}

interface StoredKeys {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  jwtSecret?: string;
  legacyAnonKey?: string;
  legacyServiceRoleKey?: string;
  publishableKey?: string;
  secretKey?: string;
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

function randomToken(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

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

/**
 * Loads the project's keys from `file` (creating what is missing on first use), or makes ephemeral
 * ones, and presents them in `mode`.
 */
export async function loadKeys(
  file?: string,
  mode: KeyMode = DEFAULT_KEY_MODE,
): Promise<LocalKeys> {
  const existing = file ? await readStored(file) : undefined;
  const stored = existing ?? await generate();
  const before = JSON.stringify(stored);
  const { kid } = stored;
  const privateKey = await importJWK(stored.privateJwk, "ES256");
  const publicKey = await importJWK(stored.publicJwk, "ES256");
  stored.jwtSecret ??= randomToken(40);
  const secret = new TextEncoder().encode(stored.jwtSecret);

  const signHs = (claims: Record<string, unknown>, ttlSeconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(now).setExpirationTime(now + ttlSeconds).sign(secret);
  };
  const signEs = (claims: Record<string, unknown>, ttlSeconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims }).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
      .setIssuedAt(now).setExpirationTime(now + ttlSeconds).sign(privateKey);
  };

  // Minted once per project, so a frontend's configured key stays valid across restarts.
  stored.legacyAnonKey ??= await signHs({ iss: "supabase", role: "anon" }, TEN_YEARS);
  stored.legacyServiceRoleKey ??= await signHs(
    { iss: "supabase", role: "service_role" },
    TEN_YEARS,
  );
  stored.publishableKey ??= `sb_publishable_${randomToken(22)}`;
  stored.secretKey ??= `sb_secret_${randomToken(22)}`;
  if (file && JSON.stringify(stored) !== before) {
    await Deno.writeTextFile(file, JSON.stringify(stored), { mode: 0o600 });
  }

  const publicJwk: JWK = {
    ...stored.publicJwk,
    kid,
    alg: "ES256",
    use: "sig",
    key_ops: ["verify"],
  };
  const legacy = mode.apiKeys === "legacy";
  const legacyAnonKey = legacy ? stored.legacyAnonKey : null;
  const legacyServiceRoleKey = legacy ? stored.legacyServiceRoleKey : null;
  const apiKeys = new Map<string, "anon" | "service_role">(
    legacy
      ? [[stored.legacyAnonKey, "anon"], [stored.legacyServiceRoleKey, "service_role"]]
      : [[stored.publishableKey, "anon"], [stored.secretKey, "service_role"]],
  );

  return {
    mode,
    kid,
    publicKey: legacy ? stored.legacyAnonKey : stored.publishableKey,
    secretKey: legacy ? stored.legacyServiceRoleKey : stored.secretKey,
    legacyAnonKey,
    legacyServiceRoleKey,
    jwks: { keys: mode.jwt === "es256" ? [publicJwk] : [] },
    sign: (claims, ttl) => mode.jwt === "es256" ? signEs(claims, ttl) : signHs(claims, ttl),
    signRaw: (claims) =>
      mode.jwt === "es256"
        ? new SignJWT({ ...claims }).setProtectedHeader({ alg: "ES256", kid, typ: "JWT" })
          .sign(privateKey)
        : new SignJWT({ ...claims }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(secret),
    signUrl: (url, ttl) => signEs({ url }, ttl),
    async verifyUrl(token) {
      const { payload } = await jwtVerify(token, publicKey, { algorithms: ["ES256"] });
      if (typeof payload.url !== "string") throw new Error("not a URL token");
      return payload.url;
    },
    async verify(credential) {
      for (const [key, role] of apiKeys) {
        if (timingSafeEqual(credential, key)) return { kind: "api_key", role };
      }
      if (credential.startsWith("sb_")) throw new Error("unknown API key");
      let alg: string | undefined;
      try {
        alg = JSON.parse(atob(credential.split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/")))
          .alg;
      } catch {
        throw new Error("not a JWT");
      }
      // The legacy secret keeps verifying after a move to signing keys (the API keys use it);
      // the asymmetric key only exists in es256 mode.
      const { payload } = alg === "HS256"
        ? await jwtVerify(credential, secret, { algorithms: ["HS256"], requiredClaims: ["exp"] })
        : mode.jwt === "es256"
        ? await jwtVerify(credential, publicKey, { algorithms: ["ES256"], requiredClaims: ["exp"] })
        : (() => {
          throw new Error(`algorithm ${alg} is not accepted`);
        })();
      if (!legacy && !payload.sub && (payload.role === "anon" || payload.role === "service_role")) {
        throw new Error("the legacy API keys are disabled on this project");
      }
      return { kind: "jwt", claims: payload as Record<string, unknown> };
    },
  };
}
