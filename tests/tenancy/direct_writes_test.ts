/**
 * The database is the boundary: `supabase/config.toml` exposes schema `public` to the Data API, so
 * a signed-in user can write with SQL through PostgREST and skip the functions. Each write that
 * role `authenticated` can reach that way obeys the functions' rules in the database (name and
 * text checks, the rate-limit buckets, the membership rules), or is refused. These tests act as
 * PostgREST does (`set local role authenticated`, the JWT claims and `request.headers` as
 * settings, through `asUser`) on a native PostgreSQL with every migration applied, and try the
 * writes an attacker made: many companies, workbenches, invitations and chat sessions in one
 * statement each, and names the functions refuse.
 *
 * The last test lists every table in `public` with a write privilege for `authenticated` or
 * `anon`, so a new one is a decision (docs/data-model.md#the-data-api), not an accident.
 */
import assert from "node:assert/strict";
import { asUser, type Tx } from "../../shared/db.ts";
import type { Claims } from "../../shared/auth.ts";
import { needsMigratedPostgres, withMigratedPostgres } from "../helpers/postgres.ts";

const ignore = needsMigratedPostgres();

/** Settles `p` as "ok" or the Postgres error code. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(() => "ok", (err) => (err as { code?: string }).code ?? String(err));

Deno.test({
  name: "direct writes as `authenticated` obey the functions' rules or are refused",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await withMigratedPostgres(2, async ({ admin, pool: db }) => {
    // The shipped capacities, with refills too slow to matter while the test runs (no timing).
    await admin`update private.settings set value = value
      || '{"create": {"capacity": 20, "per_minute": 0.001,
                      "ip_capacity": 100, "ip_per_minute": 0.001},
           "invitations": {"capacity": 20, "per_minute": 0.001,
                           "ip_capacity": 60, "ip_per_minute": 0.001}}'::jsonb
      where key = 'rate_limits'`;
    let serial = 0;
    const newUser = async () => {
      const [{ id }] = await admin`insert into auth.users (id, email, email_confirmed_at)
        values (gen_random_uuid(), ${`user-${++serial}@example.com`}, now()) returning id`;
      return id as string;
    };
    /** Runs `fn` as `user` the way PostgREST runs a Data API request (from `ip`). */
    const as = <T>(user: string, fn: (tx: Tx) => Promise<T>, ip = "203.0.113.7") => {
      const claims: Claims = { sub: user, role: "authenticated", aud: "authenticated" };
      return asUser(db, claims, async (tx) => {
        await tx`select set_config('request.headers', ${
          JSON.stringify({ "x-forwarded-for": ip })
        }, true)`;
        return await fn(tx);
      });
    };
    const count = async (table: string, user: string, column: string) => {
      const [{ n }] = await admin`select count(*)::int as n from ${admin(table)}
                                   where ${admin(column)} = ${user}`;
      return n as number;
    };

    await t.step("50 companies in one statement: refused by the `create` bucket", async () => {
      const mallory = await newUser();
      const code = await outcome(as(mallory, (tx) =>
        tx`insert into public.company (name)
           select 'Co ' || g from generate_series(1, 50) g`));
      assert.equal(code, "PT429");
      assert.equal(await count("public.company", mallory, "created_by"), 0);
      // One at a time, the bucket's capacity (20) gets through and no more.
      const codes = [];
      for (let i = 0; i < 25; i++) {
        codes.push(
          await outcome(
            as(mallory, (tx) => tx`insert into public.company (name) values (${`C${i}`})`),
          ),
        );
      }
      assert.equal(codes.filter((c) => c === "ok").length, 20, codes.join(","));
      assert.ok(codes.slice(20).every((c) => c === "PT429"), codes.join(","));
      assert.equal(await count("public.company", mallory, "created_by"), 20);
    });

    await t.step("50 workbenches in one statement: refused by the `create` bucket", async () => {
      const mallory = await newUser();
      const code = await outcome(as(mallory, (tx) =>
        tx`insert into public.workbench (name)
           select 'W ' || g from generate_series(1, 50) g`));
      assert.equal(code, "PT429");
      assert.equal(await count("public.workbench", mallory, "owner_user_id"), 0);
    });

    await t.step("the IP's bucket holds across users, as in the functions", async () => {
      const ip = "198.51.100.9";
      const codes = [];
      // ip_capacity of `create` is 100: six fresh users of 20 each from one address.
      for (let u = 0; u < 6; u++) {
        const user = await newUser();
        for (let i = 0; i < 20; i++) {
          codes.push(
            await outcome(
              as(user, (tx) => tx`insert into public.workbench (name) values ('W')`, ip),
            ),
          );
        }
      }
      assert.equal(codes.filter((c) => c === "ok").length, 100);
      assert.equal(codes.filter((c) => c === "PT429").length, 20);
    });

    await t.step(
      "50 invitations in one statement: refused; one by one, 20 get through",
      async () => {
        const alice = await newUser();
        const [{ id: company }] = await as(
          alice,
          (tx) => tx`insert into public.company (name) values ('Acme') returning id`,
        );
        const code = await outcome(
          as(
            alice,
            (tx) =>
              tx`select public.invite_to_company(${company}, 'x' || g || '@example.com', 'member',
                                               sha256(convert_to('token' || g, 'utf8')))
             from generate_series(1, 50) g`,
          ),
        );
        assert.equal(code, "PT429");
        const codes = [];
        for (let i = 0; i < 22; i++) {
          codes.push(
            await outcome(
              as(
                alice,
                (tx) =>
                  tx`select public.invite_to_company(${company}, ${`n${i}@example.com`}, 'member',
                                                   sha256(convert_to(${`token${i}`}, 'utf8')))`,
              ),
            ),
          );
        }
        assert.equal(
          codes.filter((c) => c === "ok").length,
          20,
          codes.join(","),
        );
        const [{ n }] = await admin`select count(*)::int as n from public.company_invitations
                                   where company_id = ${company}`;
        assert.equal(n, 20);
        // Invitations are made only through invite_to_company.
        assert.equal(
          await outcome(
            as(
              alice,
              (tx) =>
                tx`insert into public.company_invitations (company_id, email, expires_at)
             values (${company}, 'direct@example.com', now() + interval '1 day')`,
            ),
          ),
          "42501",
        );
      },
    );

    await t.step("500 chat sessions: one active session per workbench, no more", async () => {
      const mallory = await newUser();
      const [{ id: wb }] = await as(
        mallory,
        (tx) => tx`insert into public.workbench (name) values ('Chat') returning id`,
      );
      // Archived sessions (not bound by the one-active rule) cannot be inserted or made.
      assert.equal(
        await outcome(as(mallory, (tx) =>
          tx`insert into public.chat_session (workbench_id, status)
             select ${wb}, 'archived' from generate_series(1, 500)`)),
        "42501",
      );
      assert.equal(
        await outcome(as(mallory, (tx) =>
          tx`insert into public.chat_session (workbench_id)
             select ${wb} from generate_series(1, 500)`)),
        "23505",
      );
      assert.equal(
        await outcome(
          as(mallory, (tx) => tx`insert into public.chat_session (workbench_id) values (${wb})`),
        ),
        "ok",
      );
      assert.equal(
        await outcome(
          as(mallory, (tx) => tx`update public.chat_session set status = 'archived'`),
        ),
        "42501",
      );
      assert.equal(await count("public.chat_session", mallory, "user_id"), 1);
    });

    await t.step("names and text the functions refuse are refused by the database", async () => {
      const bob = await newUser();
      const [{ id: company }] = await as(
        bob,
        (tx) => tx`insert into public.company (name) values ('Bob Co') returning id`,
      );
      const [{ id: wb }] = await as(
        bob,
        (tx) => tx`insert into public.workbench (name) values ('Bench') returning id`,
      );
      const [{ id: session }] = await as(
        bob,
        (tx) => tx`insert into public.chat_session (workbench_id) values (${wb}) returning id`,
      );
      const refused = [
        ["company name with a control character", "insert into public.company (name) values ($1)", [
          "Acme\u0007",
        ]],
        ["blank company name", "insert into public.company (name) values ($1)", ["   "]],
        ["zero-width company name", "insert into public.company (name) values ($1)", [
          "\u200b\u200b",
        ]],
        ["untrimmed company name", "update public.company set name = $1 where id = $2", [
          " Acme",
          company,
        ]],
        ["company name of 201 characters", "update public.company set name = $1 where id = $2", [
          "x".repeat(201),
          company,
        ]],
        ["company name not NFC", "update public.company set name = $1 where id = $2", [
          "Cafe\u0301",
          company,
        ]],
        ["workbench name with a line feed", "update public.workbench set name = $1 where id = $2", [
          "a\nb",
          wb,
        ]],
        [
          "workbench description with a NUL-like control",
          "update public.workbench " +
          "set description = $1 where id = $2",
          ["a\u0001b", wb],
        ],
        [
          "workbench description over 2000",
          "update public.workbench " +
          "set description = $1 where id = $2",
          ["d".repeat(2001), wb],
        ],
        [
          "chat session title with a control",
          "update public.chat_session " +
          "set title = $1 where id = $2",
          ["t\u001b[31m", session],
        ],
        [
          "profile name with a control",
          "update public.profiles set full_name = $1 " +
          "where id = $2",
          ["Bob\u0000".replace("\u0000", "\u0008"), bob],
        ],
      ] as const;
      for (const [what, text, params] of refused) {
        const code = await outcome(as(bob, (tx) => tx.unsafe(text, [...params])));
        assert.equal(code, "23514", what);
      }
      // What the functions accept, the database accepts.
      const accepted = [
        ["update public.company set name = $1 where id = $2", ["Zoë & Co. 日本", company]],
        ["update public.workbench set description = $1 where id = $2", ["line 1\nline 2", wb]],
        ["update public.chat_session set title = $1 where id = $2", ["Q3 numbers", session]],
        ["update public.profiles set full_name = $1 where id = $2", ["Bob Builder", bob]],
      ] as const;
      for (const [text, params] of accepted) {
        assert.equal(await outcome(as(bob, (tx) => tx.unsafe(text, [...params]))), "ok", text);
      }
      // A sign-up's own name is kept when it is a clean name (trimmed), else left out: signing
      // up never fails on it.
      const signUp = async (fullName: string) => {
        const [{ id }] = await admin`insert into auth.users (id, email, raw_user_meta_data)
          values (gen_random_uuid(), ${`signup-${++serial}@example.com`},
                  ${admin.json({ full_name: fullName })}) returning id`;
        const [row] = await admin`select full_name from public.profiles where id = ${id}`;
        return row!.full_name as string | null;
      };
      assert.equal(await signUp(" Ann Lee "), "Ann Lee");
      assert.equal(await signUp("Ann\u001b[2J"), null);
    });

    await t.step(
      "membership, files, messages, reports and money are not written directly",
      async () => {
        const carol = await newUser();
        const dave = await newUser();
        const [{ id: company }] = await as(
          carol,
          (tx) => tx`insert into public.company (name) values ('Carol Co') returning id`,
        );
        const [{ id: wb }] = await as(
          carol,
          (tx) => tx`insert into public.workbench (name) values ('Files') returning id`,
        );
        const attempts = [
          `insert into public.company_members (company_id, user_id, role)
            values ('${company}', '${dave}', 'owner')`,
          `insert into public.workbench_files (workbench_id, uploaded_by, file_name, file_type,
              storage_path, size_bytes) values ('${wb}', '${carol}', 'a.csv', 'csv', 'x', 1)`,
          `insert into public.message (session_id, role, content)
            select id, 'assistant', 'x' from public.chat_session`,
          `update public.wallet set balance = 1000000`,
          `insert into public.wallet_usage (user_id, amount, balance_after, reason, reference_id)
            values ('${carol}', 100, 100, 'grant', 'x')`,
          `insert into public.payments (user_id, plan_id, razorpay_order_id, amount_paise)
            values ('${carol}', 'pro', 'order_x', 1)`,
          `insert into public.reports (workbench_id, user_id, report_type, title)
            values ('${wb}', '${carol}', 'pnl', 'x')`,
          `update public.workbench set owner_user_id = '${dave}' where id = '${wb}'`,
          `update public.company set created_by = '${dave}' where id = '${company}'`,
        ];
        for (const text of attempts) {
          assert.equal(await outcome(as(carol, (t) => t.unsafe(text))), "42501", text);
        }
        // Dave, no member, cannot give himself a role on Carol's workbench.
        assert.equal(
          await outcome(
            as(dave, (t) =>
              t`insert into public.workbench_members (workbench_id, user_id, role)
            values (${wb}, ${dave}, 'owner')`),
          ),
          "42501",
        );
      },
    );

    await t.step("every write privilege of the API roles in public is one decided", async () => {
      const rows = await admin<{ grantee: string; table_name: string; privilege: string }[]>`
        select grantee, table_name, privilege_type as privilege
          from information_schema.role_table_grants
         where table_schema = 'public' and grantee in ('anon', 'authenticated')
           and privilege_type in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
        union
        select grantee, table_name, privilege_type || '(' || column_name || ')'
          from information_schema.column_privileges
         where table_schema = 'public' and grantee in ('anon', 'authenticated')
           and privilege_type in ('INSERT', 'UPDATE')
           and (grantee, table_name, privilege_type) not in (
             select grantee, table_name, privilege_type from information_schema.role_table_grants
              where table_schema = 'public')
         order by 1, 2, 3`;
      assert.deepEqual(rows.map((r) => `${r.grantee} ${r.table_name} ${r.privilege}`), [
        "authenticated chat_session INSERT(workbench_id)",
        "authenticated chat_session UPDATE(title)",
        "authenticated company DELETE",
        "authenticated company INSERT(id)",
        "authenticated company INSERT(name)",
        "authenticated company UPDATE(name)",
        "authenticated company_invitations DELETE",
        "authenticated company_members DELETE",
        "authenticated company_members UPDATE(role)",
        "authenticated profiles UPDATE(full_name)",
        "authenticated workbench DELETE",
        "authenticated workbench INSERT(company_id)",
        "authenticated workbench INSERT(description)",
        "authenticated workbench INSERT(id)",
        "authenticated workbench INSERT(name)",
        "authenticated workbench UPDATE(description)",
        "authenticated workbench UPDATE(name)",
        "authenticated workbench_files DELETE",
        "authenticated workbench_members DELETE",
        "authenticated workbench_members INSERT",
        "authenticated workbench_members UPDATE(role)",
      ]);
    });
  });
});
