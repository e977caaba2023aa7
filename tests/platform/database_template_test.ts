/**
 * The migrated template the test stacks copy (local/database_template.ts): a copy holds what a
 * fresh migration writes, history included, and a change to what shapes the database names
 * another template.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startMigratedPglite, templateDir, templateKey } from "../../local/database_template.ts";
import { listMigrations } from "../../local/migrate.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

Deno.test(
  "`startMigratedPglite()` makes the template once; a copy has the same history and schema",
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "template-test-" });
    const snapshot = async (sql: Awaited<ReturnType<typeof startMigratedPglite>>["sql"]) => ({
      history: [
        ...await sql`select version, name, statements from supabase_migrations.schema_migrations
                     order by version`,
      ],
      seeds: [...await sql`select path, hash from supabase_migrations.seed_files order by path`],
      functions: (await sql`select p.oid::regprocedure::text as f from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
       where n.nspname in ('public', 'private', 'auth', 'storage', 'pgmq', 'net', 'cron', 'vault')
       order by 1`).map((r) => r.f),
    });
    try {
      assert.notEqual(templateDir(), dir, "the test's templates are its own");
      const fresh = await startMigratedPglite({ port: 0, templateDir: dir });
      let built;
      try {
        const local = await listMigrations(join(ROOT, "supabase/migrations"));
        assert.deepEqual(fresh.migrations.applied, local.map((m) => `${m.version}_${m.name}`));
        built = await snapshot(fresh.sql);
      } finally {
        await fresh.sql.end();
        await fresh.db.stop();
      }
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.deepEqual(files, [`${await templateKey()}.tar`], "one template, no partial file left");

      const copy = await startMigratedPglite({ port: 0, templateDir: dir });
      try {
        assert.deepEqual(copy.migrations, { applied: [], seeded: false, seedHashUpdated: [] });
        assert.deepEqual(await snapshot(copy.sql), built, "the copy holds what migrating wrote");
      } finally {
        await copy.sql.end();
        await copy.db.stop();
      }
      assert.notEqual(await templateKey({ pgtap: true }), await templateKey(), "pgTAP has its own");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
