/**
 * `deno task fuzz [--seed N] [--seconds S] [--reader NAME]`: the long fuzz pass over the readers
 * (tests/fuzz/readers.ts), S seconds per reader (default 60), a random seed unless given. Prints
 * each reader's counts; a failure's input is written to tests/fuzz/found/<reader>-<seed>.bin, to
 * become a regression case in tests/uploads/fuzz_readers_test.ts once fixed. Exits 1 on any failure.
 */
import { parseArgs } from "node:util";
import { fuzzReader, type ReaderName, READERS } from "./readers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seed: { type: "string" },
    seconds: { type: "string", default: "60" },
    reader: { type: "string", multiple: true },
  },
});
const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const seconds = Number(values.seconds);
const readers = (values.reader?.length ? values.reader : READERS) as ReaderName[];
console.log(`fuzzing ${readers.join(", ")} for ${seconds} s each, seed ${seed}`);
let failed = false;
for (const reader of readers) {
  const run = await fuzzReader(reader, { seed, numRuns: 1e9, timeMs: seconds * 1000 });
  const { inputs, ok, errors, maxMs } = run.stats;
  console.log(
    `${reader.padEnd(14)} ${String(inputs).padStart(7)} inputs, ${ok} read, clean errors ` +
      `${JSON.stringify(errors)}, slowest ${maxMs} ms${run.failure ? ": FAILED" : ""}`,
  );
  if (run.failure) {
    failed = true;
    const dir = new URL("./found/", import.meta.url);
    await Deno.mkdir(dir, { recursive: true });
    const file = new URL(`${reader}-${seed}.bin`, dir);
    await Deno.writeFile(file, run.input!);
    console.log(`${run.failure}\ninput written to ${file.pathname}`);
  }
}
if (failed) Deno.exit(1);
