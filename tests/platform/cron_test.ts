import assert from "node:assert/strict";
import { matchesMinute, parseSchedule } from "../../local/cron.ts";

Deno.test("parseSchedule() reads pg_cron's interval syntax", () => {
  assert.deepEqual(parseSchedule("10 seconds"), { kind: "interval", seconds: 10 });
  assert.deepEqual(parseSchedule("1 second"), { kind: "interval", seconds: 1 });
  assert.throws(() => parseSchedule("60 seconds"), /invalid interval/);
  assert.throws(() => parseSchedule("0 seconds"), /invalid interval/);
});

Deno.test("parseSchedule() rejects malformed cron expressions", () => {
  assert.throws(() => parseSchedule("* * * *"), /invalid schedule/);
  assert.throws(() => parseSchedule("61 * * * *"), /invalid cron field/);
  assert.throws(() => parseSchedule("*/0 * * * *"), /invalid cron field/);
  assert.throws(() => parseSchedule("5-2 * * * *"), /invalid cron field/);
});

Deno.test("matchesMinute() honours steps, ranges, lists and day rules in UTC", () => {
  const s = parseSchedule("*/15 9-17 * * 1-5");
  assert.equal(s.kind, "cron");
  if (s.kind !== "cron") return;
  assert.equal(matchesMinute(s, new Date("2026-11-25T09:30:00Z")), true); // Wednesday
  assert.equal(matchesMinute(s, new Date("2026-11-25T09:31:00Z")), false);
  assert.equal(matchesMinute(s, new Date("2026-11-25T18:00:00Z")), false);
  assert.equal(matchesMinute(s, new Date("2026-11-29T10:00:00Z")), false); // Sunday

  const sunday = parseSchedule("0 0 * * 7");
  if (sunday.kind !== "cron") return;
  assert.equal(matchesMinute(sunday, new Date("2026-11-29T00:00:00Z")), true);

  // Both day fields restricted: either one matching is enough, as in cron.
  const either = parseSchedule("0 12 1 * 3");
  if (either.kind !== "cron") return;
  assert.equal(matchesMinute(either, new Date("2026-12-01T12:00:00Z")), true); // the 1st, a Tuesday
  assert.equal(matchesMinute(either, new Date("2026-11-25T12:00:00Z")), true); // a Wednesday
  assert.equal(matchesMinute(either, new Date("2026-11-26T12:00:00Z")), false);
});
