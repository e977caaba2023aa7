import assert from "node:assert/strict";
import { loadDbPoolMax } from "../../shared/env.ts";

Deno.test("`loadDbPoolMax()` reads DB_POOL_MAX, 1 when unset or empty", () => {
  assert.equal(loadDbPoolMax({}), 1);
  assert.equal(loadDbPoolMax({ DB_POOL_MAX: "" }), 1);
  assert.equal(loadDbPoolMax({ DB_POOL_MAX: "4" }), 4);
});

Deno.test("`loadDbPoolMax()` names a DB_POOL_MAX that is not a whole number from 1 to 20", () => {
  for (const bad of ["abc", "0", "21", "2.5"]) {
    assert.throws(() => loadDbPoolMax({ DB_POOL_MAX: bad }), /DB_POOL_MAX/, bad);
  }
});
