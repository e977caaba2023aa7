/**
 * Typed calls of the Analyst Workbench API, generated from docs/openapi.json by
 * `deno task openapi` (openapi/typescript.ts): do not edit. A frontend imports the types
 * (`Operations["GET /workbenches"]["responses"][200]`) or calls through `apiCall()`.
 */

export type ErrorEnvelope = {
  error: {
    code: string;
    message: string;
    request_id: string;
    details?: unknown;
  };
};

export interface Operations {
  /** Tenants (companies and personal accounts) with plan, usage and activity */
  "GET /admin/tenants": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
      q?: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          kind: "company" | "user";
          name: string | null;
          email: string | null;
          created_at: string;
          suspended: boolean;
          suspension_reason: string | null;
          wallet_user_id: string | null;
          plan_id: string | null;
          balance: number | null;
          seats: number | null;
          members: number | null;
          workbenches: number;
          files: number;
          storage_bytes: number;
          usage_month: {
            credits_spent: number;
            chat_answers: number;
            reports: number;
          };
          last_activity_at: string | null;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** A tenant's failed files and report jobs (names and errors, no contents) */
  "GET /admin/tenants/{id}/failures": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        files: Array<{
          id: string;
          workbench_id: string;
          file_name: string;
          file_type: string;
          size_bytes: number;
          status: "error";
          error_message: string | null;
          attempts: number;
          updated_at: string;
        }>;
        reports: Array<{
          id: string;
          workbench_id: string;
          report_type: string;
          status: "failed";
          stage: string | null;
          error_message: string | null;
          attempts: number;
          updated_at: string;
        }>;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Grant credits to a tenant's wallet (idempotent per reference_id, audited) */
  "POST /admin/tenants/{id}/credits": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      credits: number;
      reference_id: string;
      reason: string;
    };
    responses: {
      200: {
        applied: boolean;
        balance: number;
        amount: number;
        wallet_user_id: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Set a tenant's plan and seats (audited) */
  "POST /admin/tenants/{id}/plan": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      plan_id: string;
      seats: number;
      reason: string;
    };
    responses: {
      200: {
        wallet_user_id: string;
        plan_id: string | null;
        seats: number;
        balance: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Suspend a tenant (only the data export stays open; audited) */
  "POST /admin/tenants/{id}/suspend": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      reason: string;
    };
    responses: {
      200: {
        tenant_id: string;
        kind: "company" | "user";
        suspended: boolean;
        changed: boolean;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Lift a tenant's suspension (audited) */
  "POST /admin/tenants/{id}/unsuspend": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      reason: string;
    };
    responses: {
      200: {
        tenant_id: string;
        kind: "company" | "user";
        suspended: boolean;
        changed: boolean;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Create a plan (audited) */
  "POST /admin/plans": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      name: string;
      description?: string;
      price_paise?: number | null;
      currency?: string;
      credits?: number;
      seats?: number;
      contact_sales?: boolean;
      active?: boolean;
      sort_order?: number;
      id: string;
      reason: string;
    };
    responses: {
      201: {
        id: string;
        name: string;
        description: string;
        price_paise: number | null;
        currency: string;
        credits: number;
        seats: number;
        contact_sales: boolean;
        active: boolean;
        sort_order: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "conflict";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Change a plan; `active: false` retires it (audited) */
  "PATCH /admin/plans/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      name?: string;
      description?: string;
      price_paise?: number | null;
      currency?: string;
      credits?: number;
      seats?: number;
      contact_sales?: boolean;
      active?: boolean;
      sort_order?: number;
      reason: string;
    };
    responses: {
      200: {
        id: string;
        name: string;
        description: string;
        price_paise: number | null;
        currency: string;
        credits: number;
        seats: number;
        contact_sales: boolean;
        active: boolean;
        sort_order: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "conflict";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Grant a platform role (global_admin or support_user; audited) */
  "PUT /admin/roles/{userId}": {
    params: {
      userId: string;
    };
    query: Record<string, never>;
    body: {
      role: "global_admin" | "support_user";
      reason: string;
    };
    responses: {
      200: {
        user_id: string;
        role: ("global_admin" | "support_user") | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Take a user's platform role away (audited) */
  "DELETE /admin/roles/{userId}": {
    params: {
      userId: string;
    };
    query: Record<string, never>;
    body: {
      reason: string;
    };
    responses: {
      200: {
        user_id: string;
        role: ("global_admin" | "support_user") | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "platform_role_required" | "platform_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** A Stripe billing portal link for the caller's (or the company's) customer */
  "POST /billing/portal": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      company_id?: string;
    };
    responses: {
      200: {
        url: string;
        customer: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "no_customer";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      502: ErrorEnvelope & {
        error?: {
          code?: "payment_provider_unavailable";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "payments_not_configured";
        };
      };
    };
  };
  /** Usage against each plan limit, and credits spent per day and reason */
  "GET /billing/usage": {
    params: Record<string, never>;
    query: {
      from?: string | string;
      to?: string | string;
      company_id?: string;
    };
    body: never;
    responses: {
      200: {
        plan_id: string;
        period: {
          from: string;
          to: string;
          month_start: string;
        };
        limits:
          | Array<{
            limit: string;
            max: number;
            usage: number;
          }>
          | null;
        credits: Array<{
          day: string;
          reason: string;
          credits: number;
        }>;
        spent: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Every captured payment of the caller (both providers), newest first */
  "GET /billing/invoices": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          provider: "razorpay" | "stripe";
          reference: string;
          plan_id: string | null;
          pack_id: string | null;
          amount: number;
          currency: string;
          status: string;
          credits: number | null;
          paid_at: string | null;
          hosted_invoice_url: string | null;
          receipt_url: string;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Answer a batch of queued inbound channel messages */
  "POST /channel-worker": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        handled: number;
        outcomes: Array<string>;
      };
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** ManyChat's External Request: one inbound WhatsApp message */
  "POST /channels/manychat/{channel_id}": {
    params: {
      channel_id: string;
    };
    query: Record<string, never>;
    body: {
      subscriber_id: string | number;
      text: string;
      message_id?: string | number;
      phone?: string | null;
      name?: string | null;
    };
    responses: {
      200: {
        version: "v2";
        content: {
          type: "whatsapp";
          messages: Array<{
            type: "text";
            text: string;
          }>;
        };
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?: "invalid_channel_secret";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Create a WhatsApp channel (ManyChat) on a company workbench */
  "POST /channels": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      name: string;
      workbench_id: string;
      ack_text?: string;
      unavailable_text?: string;
      language?: string;
      enabled?: boolean;
      opt_out_words?: Array<string>;
      manychat_token: string;
      company_id: string;
    };
    responses: {
      201: {
        id: string;
        company_id: string;
        workbench_id: string;
        created_by: string;
        name: string;
        provider: "manychat";
        token_last4: string | null;
        ack_text: string;
        unavailable_text: string;
        language: string;
        enabled: boolean;
        opt_out_words: Array<string>;
        created_at: string;
        updated_at: string;
        inbound_path: string;
        inbound_secret: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "company_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "conflict";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** A company's channels (members) */
  "GET /channels": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
      company_id: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          company_id: string;
          workbench_id: string;
          created_by: string;
          name: string;
          provider: "manychat";
          token_last4: string | null;
          ack_text: string;
          unavailable_text: string;
          language: string;
          enabled: boolean;
          opt_out_words: Array<string>;
          created_at: string;
          updated_at: string;
          inbound_path: string;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Change a channel's settings or ManyChat token (owners and admins) */
  "PATCH /channels/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      name?: string;
      workbench_id?: string;
      ack_text?: string;
      unavailable_text?: string;
      language?: string;
      enabled?: boolean;
      opt_out_words?: Array<string>;
      manychat_token?: string;
    };
    responses: {
      200: {
        id: string;
        company_id: string;
        workbench_id: string;
        created_by: string;
        name: string;
        provider: "manychat";
        token_last4: string | null;
        ack_text: string;
        unavailable_text: string;
        language: string;
        enabled: boolean;
        opt_out_words: Array<string>;
        created_at: string;
        updated_at: string;
        inbound_path: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "company_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "conflict";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Delete a channel, its subscribers and messages (owners and admins) */
  "DELETE /channels/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "company_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** A new inbound secret, shown once; the old one stops working */
  "POST /channels/{id}/rotate-secret": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        id: string;
        inbound_secret: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "company_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Erase one subscriber and their messages (owners and admins) */
  "DELETE /channels/{id}/subscribers/{ref}": {
    params: {
      id: string;
      ref: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "company_admin_required";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** A channel's messages, newest first, phones masked (members) */
  "GET /channels/{id}/messages": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          direction: "inbound" | "outbound";
          text: string;
          status:
            | "queued"
            | "answered"
            | "unavailable"
            | "ignored"
            | "failed"
            | "sending"
            | "sent"
            | "unconfirmed";
          error: string | null;
          attempts: number;
          part: number | null;
          inbound_id: string | null;
          model: string | null;
          manychat_response: unknown | null;
          created_at: string;
          updated_at: string;
          subscriber_ref: string;
          subscriber_id: string;
          phone_masked: string | null;
          name: string | null;
          opted_out: boolean;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Queue depth, oldest waiting, failures and unpaid answers in the last day */
  "GET /channels/{id}/status": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        id: string;
        enabled: boolean;
        queue_depth: number;
        oldest_waiting_at: string | null;
        failures_last_day: number;
        unavailable_last_day: number;
        wallet_can_pay: boolean | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Open the caller's active session on a workbench (any role) */
  "POST /chat/sessions": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      workbench_id: string;
    };
    responses: {
      200: {
        id: string;
        workbench_id: string;
        title: string | null;
        status: string;
        created_at: string;
        updated_at: string;
        last_message_at: string | null;
        created: boolean;
      };
      201: {
        id: string;
        workbench_id: string;
        title: string | null;
        status: string;
        created_at: string;
        updated_at: string;
        last_message_at: string | null;
        created: boolean;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The caller's sessions, most recent first */
  "GET /chat/sessions": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
      workbench_id?: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          workbench_id: string;
          title: string | null;
          status: string;
          created_at: string;
          updated_at: string;
          last_message_at: string | null;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** A session's history, newest page first (each page oldest first) */
  "GET /chat/sessions/{id}/messages": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
      before?: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          session_id: string;
          role: "user" | "assistant";
          content: string;
          sources:
            | Array<{
              number: number;
            }>
            | null;
          warnings:
            | Array<{
              code: string;
            }>
            | null;
          model: string | null;
          prompt_tokens: number | null;
          completion_tokens: number | null;
          status: string;
          created_at: string;
        }>;
        next_offset: number | null;
        next_before: string | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Ask a question; a cited answer as JSON, or streamed as SSE */
  "POST /chat/sessions/{id}/messages": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      content: string;
    };
    responses: {
      200: {
        message: {
          id: string;
          session_id: string;
          role: "assistant";
          content: string;
          model: string | null;
          status: "complete" | "interrupted";
          created_at: string;
          user_message_id: string;
        };
        sources: Array<{
          number: number;
        }>;
        warnings: Array<{
          code: string;
        }>;
        usage: {
          model: string | null;
          prompt_tokens: number;
          completion_tokens: number;
        };
        wallet: Record<string, unknown>;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      402: ErrorEnvelope & {
        error?: {
          code?: "insufficient_credits";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "answer_in_progress";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited" | "llm_rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "llm_unavailable";
        };
      };
    };
  };
  /** Open a Razorpay order for a plan, or a Stripe Checkout Session for a plan or pack */
  "POST /checkout/session": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      provider?: "razorpay";
      plan_id: string;
      company_id?: string;
    } | {
      plan_id?: string;
      pack_id?: string;
      currency?: "USD" | "INR";
      interval?: "month" | "year";
      company_id?: string;
      provider: "stripe";
    };
    responses: {
      201: {
        order_id: string;
        amount: number;
        currency: string;
        key_id: string;
        receipt: string;
        plan: {
          id: string;
          name: string;
          credits: number;
          seats: number;
        };
      } | {
        provider: "stripe";
        session_id: string;
        url: string;
        mode: "subscription" | "payment";
        customer: string;
        price: {
          id: string;
          amount: number;
          currency: string;
          interval: string;
          plan_id: string | null;
          pack_id: string | null;
        };
      };
      400: ErrorEnvelope & {
        error?: {
          code?:
            | "validation_failed"
            | "invalid_json"
            | "unknown_plan"
            | "unknown_pack"
            | "contact_sales"
            | "invalid_request";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      502: ErrorEnvelope & {
        error?: {
          code?: "payment_provider_unavailable";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "payments_not_configured";
        };
      };
    };
  };
  /** Verify Checkout's signed answer and credit the plan (once) */
  "POST /checkout/verify": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      razorpay_order_id: string;
      razorpay_payment_id: string;
      razorpay_signature: string;
    };
    responses: {
      200: {
        order_id: string;
        payment_id: string;
        status?: string;
        plan_id?: string;
        credited: boolean;
        credits: number;
        wallet: Record<string, unknown>;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json" | "invalid_signature";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "order_already_paid";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "payments_not_configured";
        };
      };
    };
  };
  /** Create a company; the caller becomes its owner */
  "POST /companies": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      name: string;
    };
    responses: {
      201: {
        id: string;
        name: string;
        created_by: string | null;
        created_at: string;
        updated_at: string;
        role: ("owner" | "admin" | "member") | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The caller's companies with their role */
  "GET /companies": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          name: string;
          created_by: string | null;
          created_at: string;
          updated_at: string;
          role: ("owner" | "admin" | "member") | null;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Rename a company (admin) */
  "PATCH /companies/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      name: string;
    };
    responses: {
      200: {
        id: string;
        name: string;
        created_by: string | null;
        created_at: string;
        updated_at: string;
        role: ("owner" | "admin" | "member") | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The company's members (any member) */
  "GET /companies/{id}/members": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          user_id: string;
          email: string | null;
          full_name: string | null;
          role: "owner" | "admin" | "member";
          joined_at: string;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Remove a member named in the body (the contract's form) */
  "DELETE /companies/{id}/members": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      user_id: string;
    };
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "last_owner";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Change a member's role (admin; owner to make or change owners) */
  "PATCH /companies/{id}/members/{userId}": {
    params: {
      id: string;
      userId: string;
    };
    query: Record<string, never>;
    body: {
      role: "owner" | "admin" | "member";
    };
    responses: {
      200: {
        company_id: string;
        user_id: string;
        role: "owner" | "admin" | "member";
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "last_owner";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Remove a member, or leave (admin, owner for owners, or yourself) */
  "DELETE /companies/{id}/members/{userId}": {
    params: {
      id: string;
      userId: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "last_owner";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Invite an email to the company (admin); the link is mailed */
  "POST /companies/{id}/invitations": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      email: string;
      role?: "admin" | "member";
    };
    responses: {
      201: {
        id: string;
        company_id: string;
        email: string;
        role: "admin" | "member";
        status: string;
        created_at: string;
        expires_at: string;
        invite_link?: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "already_member";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      502: ErrorEnvelope & {
        error?: {
          code?: "mail_failed";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "mail_not_configured";
        };
      };
    };
  };
  /** Open invitations (admin) */
  "GET /companies/{id}/invitations": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          company_id: string;
          email: string;
          role: "admin" | "member";
          status: string;
          created_at: string;
          expires_at: string;
          expired: boolean;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Revoke an open invitation (admin) */
  "DELETE /companies/{id}/invitations/{invitationId}": {
    params: {
      id: string;
      invitationId: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The company's audit trail, newest first (owners and admins) */
  "GET /companies/{id}/audit": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
      from?: string;
      to?: string;
      actor?: string;
      action?: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          actor: string;
          action: string;
          entity: string;
          entity_id: string | null;
          details: Record<string, unknown>;
          ip: string | null;
          request_id: string | null;
          created_at: string;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Liveness */
  "GET /healthz": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        status: "ok";
        time: string;
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Run one indexing step of one queued file */
  "POST /index-worker": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: null;
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Build the vector index of the largest workbench that needs one */
  "POST /index-worker/vector-index": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: null;
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The caller's open invitations (matched by confirmed email) */
  "GET /invitations": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          company_id: string;
          company_name: string;
          role: "admin" | "member";
          created_at: string;
          expires_at: string;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Accept an invitation with the mailed link's token */
  "POST /invitations/{id}/accept": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      token: string;
    };
    responses: {
      200: {
        company_id: string;
        role: "admin" | "member";
        company_name: string | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "invitation_token_invalid";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "invitation_used";
        };
      };
      410: ErrorEnvelope & {
        error?: {
          code?: "invitation_expired";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Decline an invitation with the mailed link's token */
  "POST /invitations/{id}/decline": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      token: string;
    };
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "invitation_token_invalid";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "invitation_used";
        };
      };
      410: ErrorEnvelope & {
        error?: {
          code?: "invitation_expired";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Delete your account: no body asks for a confirmation token, the token deactivates */
  "DELETE /me": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      confirmation_token: string;
    } | undefined;
    responses: {
      200: {
        status: "deactivated";
        erasure_due_at: string;
        restore_token: string;
      };
      202: {
        confirmation_token: string;
        expires_at: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json" | "invalid_body" | "invalid_confirmation";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "last_owner";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Undo a pending erasure with its restore token (no sign-in) */
  "POST /me/restore": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      restore_token: string;
    };
    responses: {
      200: {
        status: "restored";
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "restore_not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Start an export of your data, or get the one under way or of the last hour */
  "GET /me/export": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      202: {
        id: string;
        status: "queued" | "building" | "ready" | "failed";
        created_at: string;
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** An export's status; once ready, a signed download URL that expires */
  "GET /me/exports/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        id: string;
        status: "queued" | "building" | "ready" | "failed";
        created_at: string;
        ready_at: string | null;
        error?: string | null;
        download_url?: string;
        expires_in?: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** One step of the next export that needs one */
  "POST /me/export-step": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        idle?: true;
        export_id?: string;
        status?: "ready";
        stage?: string;
        error?: true;
      };
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Every series in the Prometheus text format (for a scraper) */
  "GET /metrics": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: null;
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** This API reference (OpenAPI 3.1) */
  "GET /openapi": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        openapi: "3.1.0";
        paths: Record<string, unknown>;
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The plans on sale, cheapest first */
  "GET /plans": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          name: string;
          description: string;
          credits: number;
          seats: number;
          price_paise: number | null;
          currency: string;
          contact_sales: boolean;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Readiness: database, queues and workers' kick; details with the service key */
  "GET /readyz": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        status: "ready";
        checks?: Record<string, unknown>;
        config?: Record<string, unknown>;
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "not_ready";
        };
      };
    };
  };
  /** Run one step of one queued report */
  "POST /report-worker": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: null;
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Queue a report (charged once per Idempotency-Key) */
  "POST /reports": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      workbench_id: string;
      report_type: "financial_summary" | "cash_flow" | "variance";
      title: string;
      notes?: string | null;
    };
    responses: {
      202: {
        id: string;
        workbench_id: string;
        user_id: string;
        report_type: string;
        title: string;
        notes: string | null;
        status: "queued" | "processing" | "ready" | "failed";
        error: string | null;
        cost_credits: number;
        attempts: number;
        narrative_source: string | null;
        created_at: string;
        updated_at: string;
        completed_at: string | null;
        kpis?: unknown;
        narrative?: string | null;
        download_url?: string;
        download_expires_at?: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json" | "idempotency_key_required";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      402: ErrorEnvelope & {
        error?: {
          code?: "insufficient_credits";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "idempotency_key_reused" | "conflict";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      422: ErrorEnvelope & {
        error?: {
          code?: "missing_inputs";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The workbench's reports, newest first (any role) */
  "GET /reports": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
      workbench_id: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          workbench_id: string;
          user_id: string;
          report_type: string;
          title: string;
          notes: string | null;
          status: "queued" | "processing" | "ready" | "failed";
          error: string | null;
          cost_credits: number;
          attempts: number;
          narrative_source: string | null;
          created_at: string;
          updated_at: string;
          completed_at: string | null;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** One report; when ready, a signed download URL (5 minutes) */
  "GET /reports/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        id: string;
        workbench_id: string;
        user_id: string;
        report_type: string;
        title: string;
        notes: string | null;
        status: "queued" | "processing" | "ready" | "failed";
        error: string | null;
        cost_credits: number;
        attempts: number;
        narrative_source: string | null;
        created_at: string;
        updated_at: string;
        completed_at: string | null;
        kpis?: unknown;
        narrative?: string | null;
        download_url?: string;
        download_expires_at?: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The caller's (or a company's) balance, plan, seats, counter and a page of the ledger */
  "GET /wallet": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
      company_id?: string;
    };
    body: never;
    responses: {
      200: {
        balance: number;
        plan: {
          id: string;
          name: string | null;
        } | null;
        seats: number;
        chat_inference_counter: number;
        updated_at: string;
        usage: Array<{
          id: string;
          amount: number;
          balance_after: number;
          reason: string;
          reference_id: string | null;
          metadata: unknown;
          created_at: string;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Razorpay's webhook (payment.captured, order.paid, …) */
  "POST /webhooks/razorpay": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      event: string;
    };
    responses: {
      200: {
        received: true;
        event_id: string | null;
        outcome: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "missing_signature" | "invalid_signature" | "invalid_json" | "malformed_event";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "webhooks_not_configured";
        };
      };
    };
  };
  /** Stripe's webhook (checkout, invoices, subscriptions, refunds) */
  "POST /webhooks/stripe": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      id: string;
      object: "event";
      type: string;
      created: number;
      data: {
        object: Record<string, unknown>;
      };
    };
    responses: {
      200: {
        received: true;
        event_id: string;
        outcome: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "missing_signature" | "invalid_signature" | "invalid_json" | "validation_failed";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
      503: ErrorEnvelope & {
        error?: {
          code?: "payments_not_configured";
        };
      };
    };
  };
  /** Reconcile open orders whose webhook never came */
  "POST /webhooks/reconcile": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        checked: number;
        credited: number;
        unpaid: number;
        errors: number;
      };
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Credit Stripe invoices paid but never delivered by webhook */
  "POST /webhooks/reconcile-stripe": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        checked: number;
        credited: number;
        errors: number;
      };
      401: ErrorEnvelope & {
        error?: {
          code?: "missing_token";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "forbidden";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Create a workbench (personal, or in a company you belong to) */
  "POST /workbenches": {
    params: Record<string, never>;
    query: Record<string, never>;
    body: {
      name: string;
      description?: string;
      company_id?: string;
    };
    responses: {
      201: {
        id: string;
        name: string;
        description: string | null;
        owner_user_id: string | null;
        company_id: string | null;
        created_at: string;
        updated_at: string;
        role: ("owner" | "editor" | "viewer") | null;
        file_count?: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Visible workbenches with the caller's role and file count */
  "GET /workbenches": {
    params: Record<string, never>;
    query: {
      limit?: number;
      offset?: number;
      company_id?: string;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          name: string;
          description: string | null;
          owner_user_id: string | null;
          company_id: string | null;
          created_at: string;
          updated_at: string;
          role: ("owner" | "editor" | "viewer") | null;
          file_count?: number;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** One workbench (any role) */
  "GET /workbenches/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        id: string;
        name: string;
        description: string | null;
        owner_user_id: string | null;
        company_id: string | null;
        created_at: string;
        updated_at: string;
        role: ("owner" | "editor" | "viewer") | null;
        file_count?: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Rename or describe a workbench (editor, owner) */
  "PATCH /workbenches/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      name?: string;
      description?: string | null;
    };
    responses: {
      200: {
        id: string;
        name: string;
        description: string | null;
        owner_user_id: string | null;
        company_id: string | null;
        created_at: string;
        updated_at: string;
        role: ("owner" | "editor" | "viewer") | null;
        file_count?: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Delete a workbench with its files and chunks (owner, company admin) */
  "DELETE /workbenches/{id}": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Everyone with access and their effective role (any role) */
  "GET /workbenches/{id}/members": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          user_id: string;
          email: string | null;
          role: "owner" | "editor" | "viewer";
          explicit_role: ("owner" | "editor" | "viewer") | null;
          company_role: string | null;
          is_creator: boolean;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Give a member of the company an explicit role (owner, company admin) */
  "POST /workbenches/{id}/members": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      user_id: string;
      role: "owner" | "editor" | "viewer";
    };
    responses: {
      201: {
        workbench_id: string;
        user_id: string;
        role: "owner" | "editor" | "viewer";
        created_at: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found" | "user_not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "already_member";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Remove the explicit role of the user named in the body */
  "DELETE /workbenches/{id}/members": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: {
      user_id: string;
    };
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Change an explicit role (owner, company admin) */
  "PATCH /workbenches/{id}/members/{userId}": {
    params: {
      id: string;
      userId: string;
    };
    query: Record<string, never>;
    body: {
      role: "owner" | "editor" | "viewer";
    };
    responses: {
      200: {
        workbench_id: string;
        user_id: string;
        role: "owner" | "editor" | "viewer";
        created_at: string;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "invalid_json";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?: "payload_too_large";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Remove an explicit role (owner, company admin, or yourself) */
  "DELETE /workbenches/{id}/members/{userId}": {
    params: {
      id: string;
      userId: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Upload files (multipart, field `file`, up to 20) to be indexed (editor, owner) */
  "POST /workbenches/{id}/files": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: FormData;
    responses: {
      200: {
        files: Array<{
          id: string;
          workbench_id: string;
          file_name: string;
          file_type: string;
          mime_type: string | null;
          size_bytes: number;
          content_hash: string | null;
          status: "pending" | "processing" | "indexed" | "error";
          error_message: string | null;
          page_count: number | null;
          attempts: number;
          chunks_done: number | null;
          chunks_total: number | null;
          created_at: string;
          updated_at: string;
          indexed_at: string | null;
          progress: number;
          duplicate: boolean;
          requeued?: boolean;
        }>;
      };
      201: {
        files: Array<{
          id: string;
          workbench_id: string;
          file_name: string;
          file_type: string;
          mime_type: string | null;
          size_bytes: number;
          content_hash: string | null;
          status: "pending" | "processing" | "indexed" | "error";
          error_message: string | null;
          page_count: number | null;
          attempts: number;
          chunks_done: number | null;
          chunks_total: number | null;
          created_at: string;
          updated_at: string;
          indexed_at: string | null;
          progress: number;
          duplicate: boolean;
          requeued?: boolean;
        }>;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path" | "no_files" | "invalid_multipart";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      409: ErrorEnvelope & {
        error?: {
          code?: "upload_conflict";
        };
      };
      413: ErrorEnvelope & {
        error?: {
          code?:
            | "payload_too_large"
            | "too_many_files"
            | "request_too_large"
            | "file_too_large"
            | "document_too_large"
            | "pdf_too_many_pages";
        };
      };
      415: ErrorEnvelope & {
        error?: {
          code?: "unsupported_media_type" | "unsupported_file_type" | "file_type_mismatch";
        };
      };
      429: ErrorEnvelope & {
        error?: {
          code?: "rate_limited";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** The workbench's files with their indexing status (any role) */
  "GET /workbenches/{id}/files": {
    params: {
      id: string;
    };
    query: {
      limit?: number;
      offset?: number;
      status?: "pending" | "processing" | "indexed" | "error";
    };
    body: never;
    responses: {
      200: {
        items: Array<{
          id: string;
          workbench_id: string;
          file_name: string;
          file_type: string;
          mime_type: string | null;
          size_bytes: number;
          content_hash: string | null;
          status: "pending" | "processing" | "indexed" | "error";
          error_message: string | null;
          page_count: number | null;
          attempts: number;
          chunks_done: number | null;
          chunks_total: number | null;
          created_at: string;
          updated_at: string;
          indexed_at: string | null;
          progress: number;
        }>;
        next_offset: number | null;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** One file (to poll its status) */
  "GET /workbenches/{id}/files/{fileId}": {
    params: {
      id: string;
      fileId: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        id: string;
        workbench_id: string;
        file_name: string;
        file_type: string;
        mime_type: string | null;
        size_bytes: number;
        content_hash: string | null;
        status: "pending" | "processing" | "indexed" | "error";
        error_message: string | null;
        page_count: number | null;
        attempts: number;
        chunks_done: number | null;
        chunks_total: number | null;
        created_at: string;
        updated_at: string;
        indexed_at: string | null;
        progress: number;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Delete a file, its chunks and its stored object (editor, owner) */
  "DELETE /workbenches/{id}/files/{fileId}": {
    params: {
      id: string;
      fileId: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      204: null;
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended" | "forbidden";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
  /** Indexing progress of the whole workbench (any role) */
  "GET /workbenches/{id}/status": {
    params: {
      id: string;
    };
    query: Record<string, never>;
    body: never;
    responses: {
      200: {
        workbench_id: string;
        files: number;
        counts: Record<string, number>;
        ready: boolean;
        chunks: {
          done: number;
          total: number;
        };
        errors: Array<{
          file_id: string;
          file_name: string;
          error_message: string | null;
          updated_at: string;
        }>;
      };
      400: ErrorEnvelope & {
        error?: {
          code?: "validation_failed" | "invalid_path";
        };
      };
      401: ErrorEnvelope & {
        error?: {
          code?:
            | "missing_token"
            | "invalid_token"
            | "token_expired"
            | "user_required"
            | "account_deactivated";
        };
      };
      403: ErrorEnvelope & {
        error?: {
          code?: "tenant_suspended";
        };
      };
      404: ErrorEnvelope & {
        error?: {
          code?: "not_found";
        };
      };
      500: ErrorEnvelope & {
        error?: {
          code?: "internal_error";
        };
      };
    };
  };
}

export type OperationKey = keyof Operations;

type SuccessStatus<K extends OperationKey> = Extract<
  keyof Operations[K]["responses"],
  200 | 201 | 202 | 204
>;

/** The body of a successful answer of operation `K`. */
export type Success<K extends OperationKey> = Operations[K]["responses"][SuccessStatus<K>];

/** What `apiCall()` sends: the path parameters, the query and the body the operation takes. */
export type CallInit<K extends OperationKey> =
  & ([Operations[K]["params"]] extends [Record<string, never>] ? { params?: never }
    : { params: Operations[K]["params"] })
  & { query?: Operations[K]["query"] }
  & ([Operations[K]["body"]] extends [never] ? { body?: never } : { body: Operations[K]["body"] })
  & { headers?: Record<string, string> };

/** The part of a supabase-js client `apiCall()` uses. */
export interface FunctionsInvoker {
  functions: {
    invoke(
      name: string,
      options: {
        method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
        body?: FormData | Record<string, unknown>;
        headers?: Record<string, string>;
      },
    ): Promise<{ data: unknown; error: unknown; response?: Response }>;
  };
}

export type CallResult<K extends OperationKey> =
  | { status: number; data: Success<K>; error: null }
  | { status: number; data: null; error: ErrorEnvelope["error"] };

/**
 * Calls operation `op` ("GET /workbenches/{id}/files") with supabase-js's `functions.invoke()`:
 * fills in the path parameters, adds the query, and answers the typed body or the error envelope.
 */
export async function apiCall<K extends OperationKey>(
  client: FunctionsInvoker,
  op: K,
  init: CallInit<K> = {} as CallInit<K>,
): Promise<CallResult<K>> {
  const [method, template] = (op as string).split(" ") as [
    "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    string,
  ];
  const params = (init.params ?? {}) as Record<string, string>;
  let path = template.slice(1).replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries((init.query ?? {}) as Record<string, unknown>)) {
    if (v !== undefined && v !== null) query.set(k, String(v));
  }
  if ([...query].length) path += `?${query}`;
  const { data, error, response } = await client.functions.invoke(path, {
    method,
    body: init.body as FormData | Record<string, unknown> | undefined,
    headers: init.headers,
  });
  if (!error) {
    return { status: response?.status ?? 200, data: data as Success<K>, error: null };
  }
  const context = (error as { context?: Response }).context;
  const envelope = await context?.json().catch(() => undefined) as ErrorEnvelope | undefined;
  return {
    status: context?.status ?? 0,
    data: null,
    error: envelope?.error ?? { code: "network_error", message: String(error), request_id: "" },
  };
}
