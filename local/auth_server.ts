/**
 * The subset of the Supabase Auth (GoTrue) HTTP API that clients use, served under /auth/v1:
 * signup, password and refresh-token grants, the current user, logout, admin user creation, email
 * confirmation (`GET /verify`) and the JWKS. Users live in `auth.users` of the local database, so
 * triggers on that table fire as they do on Supabase.
 *
 * Email confirmation follows `[auth.email] enable_confirmations` of supabase/config.toml. Off (the
 * default), every address is confirmed at signup, as GoTrue's autoconfirm does. On, signup answers
 * the user without a session, mails a confirmation link (`/auth/v1/verify?token=…&type=signup`) to
 * the mail catcher, and the password grant answers `400 email_not_confirmed` until the link is
 * opened; opening it confirms and redirects to `site_url` with the session in the fragment, as
 * GoTrue does. Admin-created users are confirmed only with `email_confirm: true` then.
 */
import { z } from "zod";
import type { Sql } from "../shared/db.ts";
import { escapeHtml, type Mailer } from "../shared/mail.ts";
import type { Credential, LocalKeys } from "./keys.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

const ACCESS_TTL = 3600;

interface UserRow {
  id: string;
  email: string;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  confirmation_sent_at?: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  banned_until?: Date | string | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * A banned user (an account whose erasure is pending: docs/privacy.md) gets no session. The
 * database's `infinity` reaches here as an invalid Date (or the string), so NaN counts as banned.
 */
function banned(user: UserRow): boolean {
  if (user.banned_until === null || user.banned_until === undefined) return false;
  if (String(user.banned_until) === "-infinity") return false;
  const at = new Date(user.banned_until as unknown as string).getTime();
  return Number.isNaN(at) || at > Date.now();
}

function gotrueError(status: number, errorCode: string, msg: string): Response {
  return Response.json({ code: status, error_code: errorCode, msg }, { status });
}

function userJson(u: UserRow) {
  return {
    id: u.id,
    aud: "authenticated",
    role: "authenticated",
    email: u.email,
    email_confirmed_at: u.email_confirmed_at?.toISOString() ?? null,
    confirmed_at: u.email_confirmed_at?.toISOString() ?? null,
    confirmation_sent_at: u.confirmation_sent_at?.toISOString() ?? undefined,
    phone: "",
    last_sign_in_at: u.last_sign_in_at?.toISOString() ?? null,
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: [],
    created_at: u.created_at.toISOString(),
    updated_at: u.updated_at.toISOString(),
    is_anonymous: false,
  };
}

const Credentials = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  password: z.string().min(6, "Password should be at least 6 characters."),
  data: z.record(z.string(), z.unknown()).optional(),
});

const AdminCreate = z.object({
  email: z.email().transform((e) => e.toLowerCase()),
  password: z.string().min(6).optional(),
  email_confirm: z.boolean().optional(),
  user_metadata: z.record(z.string(), z.unknown()).optional(),
  app_metadata: z.record(z.string(), z.unknown()).optional(),
});

export interface AuthServerDeps {
  sql: () => Sql;
  keys: LocalKeys;
  apiUrl: () => string;
  /** `[auth.email] enable_confirmations`: new users confirm their email by a mailed link. */
  emailConfirmations?: boolean;
  /** Where confirmation mails go (the local catcher). */
  mailer?: Mailer;
  /** `[auth] site_url`: where a confirmation link leads once it has confirmed. */
  siteUrl?: string;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The role and subject a verified credential stands for. */
function principal(credential: Credential): { role: string; sub?: string } {
  if (credential.kind === "api_key") return { role: credential.role };
  const { role, sub } = credential.claims;
  return {
    role: typeof role === "string" ? role : "",
    sub: typeof sub === "string" ? sub : undefined,
  };
}

export function createAuthServer(deps: AuthServerDeps) {
  async function createUser(input: {
    email: string;
    password?: string;
    userMeta?: Record<string, unknown>;
    appMeta?: Record<string, unknown>;
    confirmed: boolean;
  }): Promise<UserRow | "exists"> {
    const hash = input.password ? await hashPassword(input.password) : null;
    const appMeta = { provider: "email", providers: ["email"], ...(input.appMeta ?? {}) };
    const rows = await deps.sql()<UserRow[]>`
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                              email_confirmed_at, raw_app_meta_data, raw_user_meta_data)
      values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',
              'authenticated', ${input.email}, ${hash},
              case when ${input.confirmed} then now() end, ${deps.sql().json(appMeta as never)},
              ${deps.sql().json((input.userMeta ?? {}) as never)})
      on conflict do nothing
      returning *`;
    return rows[0] ?? "exists";
  }

  /** Mails `user` a confirmation link; only the token's SHA-256 is kept. */
  async function sendConfirmation(user: UserRow): Promise<UserRow> {
    const token = crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
    const [pending] = await deps.sql()<UserRow[]>`
      update auth.users set confirmation_token = ${await sha256Hex(token)},
                            confirmation_sent_at = now()
       where id = ${user.id} returning *`;
    const link = `${deps.apiUrl()}/auth/v1/verify?token=${token}&type=signup`;
    if (!deps.mailer) throw new Error("email confirmations are on but no mailer is configured");
    await deps.mailer.send({
      to: user.email,
      subject: "Confirm your signup",
      text: `Follow this link to confirm your email address:\n${link}\n`,
      html: `<p>Follow this link to confirm your email address:</p>` +
        `<p><a href="${escapeHtml(link)}">Confirm your email</a></p>`,
    });
    return pending;
  }

  async function session(user: UserRow) {
    const sessionId = crypto.randomUUID();
    const refresh = crypto.randomUUID().replaceAll("-", "");
    await deps.sql()`insert into auth.refresh_tokens (token, user_id, session_id)
                     values (${refresh}, ${user.id}, ${sessionId})`;
    const [fresh] = await deps.sql()<UserRow[]>`
      update auth.users set last_sign_in_at = now(), updated_at = now()
      where id = ${user.id} returning *`;
    const access = await deps.keys.sign({
      iss: `${deps.apiUrl()}/auth/v1`,
      sub: user.id,
      aud: "authenticated",
      role: "authenticated",
      email: user.email,
      phone: "",
      app_metadata: fresh.raw_app_meta_data ?? {},
      user_metadata: fresh.raw_user_meta_data ?? {},
      aal: "aal1",
      amr: [{ method: "password", timestamp: Math.floor(Date.now() / 1000) }],
      session_id: sessionId,
      is_anonymous: false,
    }, ACCESS_TTL);
    return {
      access_token: access,
      token_type: "bearer",
      expires_in: ACCESS_TTL,
      expires_at: Math.floor(Date.now() / 1000) + ACCESS_TTL,
      refresh_token: refresh,
      user: userJson(fresh),
    };
  }

  async function body(req: Request): Promise<unknown> {
    try {
      return await req.json();
    } catch {
      return undefined;
    }
  }

  async function handle(req: Request, path: string, url: URL): Promise<Response> {
    if (req.method === "GET" && path === "/.well-known/jwks.json") {
      return Response.json(deps.keys.jwks, { headers: { "cache-control": "public, max-age=600" } });
    }
    if (req.method === "GET" && (path === "/health" || path === "/settings")) {
      return Response.json({
        name: "local-auth",
        external: { email: true },
        autoconfirm: !deps.emailConfirmations,
        mailer_autoconfirm: !deps.emailConfirmations,
      });
    }
    if (req.method === "POST" && path === "/signup") {
      const input = Credentials.safeParse(await body(req));
      if (!input.success) {
        return gotrueError(422, "validation_failed", input.error.issues[0].message);
      }
      const confirmations = deps.emailConfirmations === true;
      const user = await createUser({
        email: input.data.email,
        password: input.data.password,
        userMeta: input.data.data,
        confirmed: !confirmations,
      });
      if (user === "exists") {
        return gotrueError(422, "user_already_exists", "User already registered");
      }
      // With confirmations on, GoTrue answers the user alone: no session until the link is opened.
      if (confirmations) return Response.json(userJson(await sendConfirmation(user)));
      return Response.json(await session(user));
    }
    if (req.method === "GET" && path === "/verify") {
      const token = url.searchParams.get("token") ?? "";
      const [user] = token && url.searchParams.get("type") === "signup"
        ? await deps.sql()<UserRow[]>`
            update auth.users set email_confirmed_at = coalesce(email_confirmed_at, now()),
                                  confirmation_token = null, updated_at = now()
             where confirmation_token = ${await sha256Hex(token)}
               and confirmation_sent_at > now() - interval '1 day'
             returning *`
        : [];
      const target = new URL(deps.siteUrl ?? "http://127.0.0.1:3000");
      if (!user) {
        target.hash = new URLSearchParams({
          error: "access_denied",
          error_code: "otp_expired",
          error_description: "Email link is invalid or has expired",
        }).toString();
        return Response.redirect(target.toString(), 303);
      }
      const s = await session(user);
      target.hash = new URLSearchParams({
        access_token: s.access_token,
        expires_at: String(s.expires_at),
        expires_in: String(s.expires_in),
        refresh_token: s.refresh_token,
        token_type: "bearer",
        type: "signup",
      }).toString();
      return Response.redirect(target.toString(), 303);
    }
    if (req.method === "POST" && path === "/token") {
      const grant = url.searchParams.get("grant_type");
      if (grant === "password") {
        const input = Credentials.safeParse(await body(req));
        if (!input.success) {
          return gotrueError(400, "invalid_credentials", "Invalid login credentials");
        }
        const [user] = await deps.sql()<UserRow[]>`
          select * from auth.users where email = ${input.data.email} and deleted_at is null`;
        if (!user || !(await verifyPassword(input.data.password, user.encrypted_password))) {
          return gotrueError(400, "invalid_credentials", "Invalid login credentials");
        }
        if (deps.emailConfirmations && !user.email_confirmed_at) {
          return gotrueError(400, "email_not_confirmed", "Email not confirmed");
        }
        if (banned(user)) return gotrueError(400, "user_banned", "User is banned");
        return Response.json(await session(user));
      }
      if (grant === "refresh_token") {
        const input = z.object({ refresh_token: z.string().min(1) }).safeParse(await body(req));
        if (!input.success) {
          return gotrueError(400, "refresh_token_not_found", "Invalid Refresh Token");
        }
        const [row] = await deps.sql()<{ user_id: string }[]>`
          update auth.refresh_tokens set revoked = true, updated_at = now()
          where token = ${input.data.refresh_token} and not revoked returning user_id`;
        if (!row) {
          return gotrueError(
            400,
            "refresh_token_not_found",
            "Invalid Refresh Token: Refresh Token Not Found",
          );
        }
        const [user] = await deps.sql()<
          UserRow[]
        >`select * from auth.users where id = ${row.user_id}`;
        if (!user || banned(user)) return gotrueError(400, "user_banned", "User is banned");
        return Response.json(await session(user));
      }
      return gotrueError(400, "unsupported_grant_type", "Unsupported grant type");
    }

    // Everything below needs a bearer token.
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!token) {
      return gotrueError(401, "no_authorization", "This endpoint requires a Bearer token");
    }
    let claims;
    try {
      claims = principal(await deps.keys.verify(token));
    } catch {
      return gotrueError(401, "bad_jwt", "invalid JWT: unable to parse or verify signature");
    }

    if (req.method === "GET" && path === "/user") {
      if (!claims.sub) return gotrueError(403, "bad_jwt", "invalid claim: missing sub claim");
      const [user] = await deps.sql()<UserRow[]>`select * from auth.users where id = ${claims.sub}`;
      if (!user) {
        return gotrueError(403, "user_not_found", "User from sub claim in JWT does not exist");
      }
      return Response.json(userJson(user));
    }
    if (req.method === "POST" && path === "/logout") {
      if (claims.sub) {
        await deps
          .sql()`update auth.refresh_tokens set revoked = true where user_id = ${claims.sub}`;
      }
      return new Response(null, { status: 204 });
    }
    if (path.startsWith("/admin/")) {
      if (claims.role !== "service_role") {
        return gotrueError(403, "not_admin", "User not allowed");
      }
      if (req.method === "POST" && path === "/admin/users") {
        const input = AdminCreate.safeParse(await body(req));
        if (!input.success) {
          return gotrueError(422, "validation_failed", input.error.issues[0].message);
        }
        const user = await createUser({
          email: input.data.email,
          password: input.data.password,
          userMeta: input.data.user_metadata,
          appMeta: input.data.app_metadata,
          // As GoTrue: with confirmations on, an admin-created user is confirmed only when asked.
          confirmed: !deps.emailConfirmations || input.data.email_confirm === true,
        });
        if (user === "exists") {
          return gotrueError(
            422,
            "email_exists",
            "A user with this email address has already been registered",
          );
        }
        return Response.json(userJson(user));
      }
      const match = /^\/admin\/users\/([0-9a-f-]{36})$/.exec(path);
      if (match && req.method === "DELETE") {
        const deleted = await deps.sql()`delete from auth.users where id = ${
          match[1]
        } returning id`;
        if (deleted.length === 0) return gotrueError(404, "user_not_found", "User not found");
        return Response.json({});
      }
    }
    return gotrueError(404, "not_found", `no route for ${req.method} /auth/v1${path}`);
  }

  return { handle };
}
