// Large graphs stream to the scheduler in parts (GRAPH_PART tasks per
// update-graph): through a real local cluster, a map and a tree reduction
// of several parts give exact answers, and the scheduler forgets them after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, delayed } from "../../src/index.ts";
import { GRAPH_PART } from "../../src/client/client.ts";
import { add, inc } from "../fixtures/tasks.ts";

test("a map and a tree reduction of several parts each give exact answers on a real cluster", { timeout: 300_000 }, async () => {
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, dashboard: false } });
  try {
    const n = 2 * GRAPH_PART + 123;
    const fs = client.map(inc, Array.from({ length: n }, (_, i) => i));
    const got = await client.gather(fs);
    assert.equal(got.length, n);
    for (let i = 0; i < n; i++) assert.equal(got[i], i + 1);
    for (const f of fs) f.release();

    const leaves = GRAPH_PART + 77; // 2 * leaves - 1 tasks: three parts
    let level = Array.from({ length: leaves }, (_, i) => delayed(inc)(i));
    while (level.length > 1) {
      const next = [];
      for (let i = 0; i + 1 < level.length; i += 2) next.push(delayed(add)(level[i]!, level[i + 1]!));
      if (level.length % 2 === 1) next.push(level[level.length - 1]!);
      level = next;
    }
    const [total] = await client.compute(level[0]!);
    assert.equal(total, (leaves * (leaves + 1)) / 2);
  } finally {
    await client.close();
  }
});
