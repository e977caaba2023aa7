/**
 * The metrics function's exposition (functions/metrics/exposition.ts) against the strict text
 * format parser of tests/helpers/prometheus.ts, and the parser's refusals (so the end-to-end
 * test's "it parses" can fail).
 */
import assert from "node:assert/strict";
import { exposition } from "../../functions/metrics/exposition.ts";
import { parsePrometheusText, sampleValue } from "../helpers/prometheus.ts";

Deno.test("`exposition()` escapes label values, types every family and drops unknown samples", () => {
  const text = exposition([
    {
      name: "aw_worker_failures",
      labels: { worker: "index-worker", reason: 'bad "x"\\\n' },
      value: 2,
    },
    { name: "aw_chat_answer_seconds_bucket", labels: { le: "1" }, value: 1 },
    { name: "aw_chat_answer_seconds_bucket", labels: { le: "+Inf" }, value: 3 },
    { name: "aw_chat_answer_seconds_count", labels: {}, value: 3 },
    { name: "aw_chat_answer_seconds_sum", labels: {}, value: 4.5 },
    { name: "not_ours", labels: {}, value: 1 },
  ]);
  const families = parsePrometheusText(text);
  assert.equal(
    sampleValue(families, "aw_worker_failures", { worker: "index-worker", reason: 'bad "x"\\\n' }),
    2,
  );
  assert.equal(families.get("aw_chat_answer_seconds")?.type, "histogram");
  assert.equal(sampleValue(families, "aw_chat_answer_seconds_sum"), 4.5);
  assert.ok(!text.includes("not_ours"));
  assert.equal(families.get("aw_files")?.type, "gauge", "a family with no samples is still typed");
});

Deno.test("`parsePrometheusText()` refuses what the text format does not allow", () => {
  const bad = [
    "aw_x 1\n", // a sample before its TYPE
    "# TYPE aw_x gauge\naw_x{a=b} 1\n", // an unquoted label value
    "# TYPE aw_x gauge\naw_x one\n", // not a float
    "# TYPE aw_x gauge\naw_x 1\naw_x 2\n", // a duplicate sample
    "# TYPE aw_x gauge\n# TYPE aw_x counter\n", // TYPE twice
    "# TYPE aw_x gauge\naw_x 1", // no final newline
    '# TYPE aw_h histogram\naw_h_bucket{le="1"} 2\naw_h_bucket{le="+Inf"} 1\naw_h_count 1\n',
    '# TYPE aw_h histogram\naw_h_bucket{le="1"} 1\naw_h_count 1\n', // no +Inf
  ];
  for (const text of bad) assert.throws(() => parsePrometheusText(text), Error, text);
});
