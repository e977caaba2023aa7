/**
 * One platform per data directory, as Postgres guards its data directory with postmaster.pid: two
 * PGlite processes writing one database would lose data. The lock is a `platform.pid` file holding
 * the owner's pid; a file left by a process that is gone is taken over.
 */
import { join } from "node:path";

export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
  constructor(readonly dataDir: string, readonly pid: number) {
    super(`the data directory ${dataDir} is in use by another local platform (pid ${pid})`);
  }
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Takes the directory's lock; throws DataDirLockedError while another live process holds it. */
export async function lockDataDir(dataDir: string): Promise<{ release(): Promise<void> }> {
  const file = join(dataDir, "platform.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await Deno.writeTextFile(file, `${Deno.pid}\n`, { createNew: true });
      return {
        async release() {
          const owner = Number((await Deno.readTextFile(file).catch(() => "")).trim());
          if (owner === Deno.pid) await Deno.remove(file).catch(() => {});
        },
      };
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      const pid = Number((await Deno.readTextFile(file).catch(() => "")).trim());
      if (pid && pid !== Deno.pid && alive(pid)) throw new DataDirLockedError(dataDir, pid);
      await Deno.remove(file).catch(() => {}); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}
