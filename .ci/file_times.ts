/**
 * The time per test file, slowest first, from the JUnit report of `deno test --parallel`
 * (`--junit-path`). Files run side by side, so their output interleaves and cannot be timed by
 * when their lines appear; each file's own tests run one after another, so the sum of its
 * top-level tests' times is the time it took. Steps are reported as `<test> > <step>` and are
 * inside their test's time, so they are not added again.
 *
 * Usage: deno run --allow-read .ci/file_times.ts <report.xml>
 */
const xml = await Deno.readTextFile(Deno.args[0]);
const unescape = (s: string) =>
  s.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
const tests = new Map<string, Map<string, number>>();
for (const m of xml.matchAll(/<testcase name="([^"]*)" classname="([^"]*)" time="([^"]*)"/g)) {
  const [name, file, time] = [unescape(m[1]), unescape(m[2]), Number(m[3])];
  const inFile = tests.get(file) ?? new Map<string, number>();
  tests.set(file, inFile);
  const isStep = [...inFile.keys()].some((parent) => name.startsWith(`${parent} > `));
  if (!isStep) inFile.set(name, time);
}
const rows = [...tests].map(([file, byName]) => ({
  file,
  seconds: [...byName.values()].reduce((a, b) => a + b, 0),
}));
for (const { file, seconds } of rows.sort((a, b) => b.seconds - a.seconds)) {
  console.log(`${seconds.toFixed(1).padStart(8)} s  ${file}`);
}
