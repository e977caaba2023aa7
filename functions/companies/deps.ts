/** What the companies routes need, and how index.ts builds it from the environment. */
import { type JwtVerifier, verifierFromEnv } from "../../shared/auth.ts";
import type { Sql } from "../../shared/db.ts";
import type { Env } from "../../shared/env.ts";
import { mailConfigFromEnv, type Mailer, resendMailer } from "../../shared/mail.ts";

export interface InvitationDelivery {
  /** Sends invitation links to the invited address; undefined when no provider is configured. */
  mailer?: Mailer;
  /** The frontend page the link opens (`INVITATION_LINK_URL`). */
  linkUrl: string;
  /** With no mailer: return the link to the inviting admin instead of refusing (503). */
  linkInResponse: boolean;
}

export interface CompaniesDeps {
  sql: () => Sql;
  verifier: JwtVerifier;
  invitations: InvitationDelivery;
}

/** The function's dependencies from its environment (index.ts). */
export function companiesDepsFromEnv(env: Env, sql: () => Sql): CompaniesDeps {
  const mail = mailConfigFromEnv(env);
  return {
    sql,
    verifier: verifierFromEnv(env),
    invitations: {
      mailer: mail ? resendMailer(mail) : undefined,
      linkUrl: env.INVITATION_LINK_URL,
      linkInResponse: env.INVITATION_LINK_IN_RESPONSE,
    },
  };
}
