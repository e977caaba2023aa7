/**
 * Ingestion throughput with the local embedder: a 100-page PDF, a 50,000-row CSV and a 50,000-row XLSX go through the
 * real path (upload through the workbenches function, trigger, pgmq, index-worker steps) while the
 * bench plays the scheduler and times each worker step. The same bytes are also extracted and
 * chunked directly, so the pipeline's overhead shows as a ratio. CPU per step includes the
 * in-process PGlite database (on Supabase the database runs elsewhere).
 */
import process from "node:process";
import { createClient } from "@supabase/supabase-js";
import { chunkBlocks } from "../shared/chunking.ts";
import { getDb } from "../shared/db.ts";
import { DEFAULT_STEP_CONFIG } from "../shared/indexing/step.ts";
import { extract } from "../shared/parsers/mod.ts";
import type { FileType } from "../shared/parsers/types.ts";
import { makeCsv, makePdf, makeXlsx } from "../tests/fixtures/documents.ts";
import type { Stack } from "../local/stack.ts";

interface Case {
  name: string;
  fileName: string;
  type: FileType;
  bytes: Uint8Array;
  units: number;
  unitName: string;
}

function cases(): Case[] {
  const sentence = "Revenue, margin and cash flow moved in line with the plan for the quarter. ";
  const pages = Array.from(
    { length: 100 },
    (_, p) => Array.from({ length: 40 }, (_, l) => `${p + 1}.${l + 1} ${sentence}`),
  );
  const rows = Array.from({ length: 50_000 }, (_, i) => [
    `2026-${String((i % 12) + 1).padStart(2, "0")}-01`,
    `account-${i % 97}`,
    `cost centre ${i % 13}`,
    (i * 37) % 100_000,
  ]);
  return [
    {
      name: "100-page PDF",
      fileName: "bench.pdf",
      type: "pdf",
      bytes: makePdf(pages),
      units: 100,
      unitName: "pages",
    },
    {
      name: "50,000-row CSV",
      fileName: "bench.csv",
      type: "csv",
      bytes: makeCsv(["date", "account", "cost_centre", "amount"], rows),
      units: 50_000,
      unitName: "rows",
    },
    {
      name: "50,000-row XLSX",
      fileName: "bench.xlsx",
      type: "xlsx",
      bytes: makeXlsx([{
        name: "Ledger",
        rows: [["date", "account", "cost_centre", "amount"], ...rows],
      }]),
      units: 50_000,
      unitName: "rows",
    },
  ];
}

export async function benchIngestion(stack: Stack): Promise<void> {
  const sql = getDb();
  const service = createClient(stack.apiUrl, stack.serviceRoleKey, {
    auth: { persistSession: false },
  });
  const user = createClient(stack.apiUrl, stack.anonKey, { auth: { persistSession: false } });
  const { data: session } = await user.auth.signUp({
    email: `bench-${Date.now()}@example.com`,
    password: "bench-password",
  });
  if (!session.session) throw new Error("bench sign-up failed");
  const { data: wb } = await user.functions.invoke("workbenches", { body: { name: "bench" } });

  console.log(
    `\nIngestion (local embedder; step = ${DEFAULT_STEP_CONFIG.pdfPagesPerStep} PDF pages or one ` +
      `extraction, then ${DEFAULT_STEP_CONFIG.embedChunksPerStep} chunks per embedding step)`,
  );
  for (const c of cases()) {
    // Raw extraction + chunking of the same bytes.
    let t = performance.now();
    const raw = await extract(c.type, c.bytes);
    const rawChunks = chunkBlocks(raw.blocks).length;
    const rawMs = performance.now() - t;

    const base = Deno.memoryUsage();
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    const sampler = setInterval(() => {
      const m = Deno.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 5);
    t = performance.now();
    const fd = new FormData();
    fd.append("file", new Blob([c.bytes as BlobPart]), c.fileName);
    const { data: up, error } = await user.functions.invoke(`workbenches/${wb.id}/files`, {
      body: fd,
    });
    if (error) throw new Error(`upload failed: ${await error.context?.text?.()}`);
    const fileId = up.files[0].id;
    const steps: { ms: number; cpuMs: number; status: string }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const cpu = process.cpuUsage();
      const s = performance.now();
      const { data } = await service.functions.invoke("index-worker", { body: {} });
      const used = process.cpuUsage(cpu);
      steps.push({
        ms: performance.now() - s,
        cpuMs: (used.user + used.system) / 1000,
        status: data.status,
      });
      if (data.status === "indexed" || data.status === "failed") break;
    }
    const totalMs = performance.now() - t;
    clearInterval(sampler);
    const [file] =
      await sql`select status, chunks_total from public.workbench_files where id = ${fileId}`;
    const chunks = Number(file.chunks_total);
    const maxCpu = Math.max(...steps.map((s) => s.cpuMs));
    const avgCpu = steps.reduce((a, s) => a + s.cpuMs, 0) / steps.length;
    const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(1);
    console.log(
      `\n  ${c.name} (${
        (c.bytes.byteLength / 1024).toFixed(0)
      } KiB) -> ${file.status}, ${chunks} chunks`,
    );
    console.log(
      `    raw extract+chunk   ${rawMs.toFixed(0).padStart(7)} ms  ${
        rate(c.units, rawMs).padStart(9)
      } ${c.unitName}/s  ${rate(rawChunks, rawMs).padStart(9)} chunks/s`,
    );
    console.log(
      `    full pipeline       ${totalMs.toFixed(0).padStart(7)} ms  ${
        rate(c.units, totalMs).padStart(9)
      } ${c.unitName}/s  ${rate(chunks, totalMs).padStart(9)} chunks/s`,
    );
    console.log(`    pipeline / raw      ${(totalMs / rawMs).toFixed(1)}x the raw extraction time`);
    console.log(
      `    worker steps        ${steps.length}, CPU per step avg ${avgCpu.toFixed(0)} ms, max ${
        maxCpu.toFixed(0)
      } ms (Edge budget ~2000 ms)`,
    );
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
    console.log(
      `    peak memory         JS heap ${mib(peakHeap)} (+${mib(peakHeap - base.heapUsed)} while ` +
        `ingesting); RSS ${mib(peakRss)} (+${
          mib(peakRss - base.rss)
        }; the process includes PGlite)`,
    );
  }
}
