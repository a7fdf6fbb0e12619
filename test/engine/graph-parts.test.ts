// Large graphs stream to the scheduler in parts (GRAPH_PART tasks per
// update-graph): through a real local cluster, a map and a tree reduction
// of several parts give exact answers, and the scheduler forgets them after.
// Each part's specs are serialized in the turn that sends it, so an argument
// that cannot travel in a later part fails that part's futures (and those
// after it) with an error naming the task, and the sent ones still compute.
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

test("a large map whose item in a later part cannot travel: map() returns, the futures from that part on fail naming the task, the earlier ones compute, and the scheduler holds nothing after", { timeout: 300_000 }, async () => {
  const client = await Client.connect({ cluster: { nworkers: 1, nthreads: 1, dashboard: false } });
  try {
    const n = 3 * GRAPH_PART;
    const bad = GRAPH_PART + 10; // in the second part
    const items: unknown[] = Array.from({ length: n }, (_, i) => (i === bad ? { id: i, tag: Symbol("not sendable") } : i));
    const fs = client.map(inc as (x: unknown) => number, items);
    assert.equal(fs.length, n);
    await fs[0]!.wait();
    assert.equal(await fs[GRAPH_PART - 1]!.result(), GRAPH_PART);
    await assert.rejects(fs[bad]!.result(), (err: Error) => {
      assert.match(err.message, new RegExp(`the arguments of task ${fs[bad]!.key} cannot be sent: .*symbol`));
      return true;
    });
    await assert.rejects(fs[GRAPH_PART]!.result(), new RegExp(`not sent: the graph stopped at task ${fs[bad]!.key}`));
    await assert.rejects(fs[n - 1]!.result(), /not sent/);
    await assert.rejects(client.gather(fs), /cannot be sent|not sent/);
    for (const f of fs) f.release();
    // the empty last part let the scheduler go of the first part's tasks: all are forgotten
    const scheduler = client.localCluster!.scheduler;
    const deadline = Date.now() + 120_000;
    while (scheduler.state.tasks.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(scheduler.state.tasks.size, 0);
  } finally {
    await client.close();
  }
});

test("a small graph whose argument cannot travel still throws at the call", async () => {
  const client = await Client.connect({ cluster: { nworkers: 0, dashboard: false } });
  try {
    assert.throws(() => client.map(inc as (x: unknown) => number, [1, Symbol("x")]), /symbol/);
    assert.throws(() => client.map(inc as (x: unknown) => number, Array.from({ length: 2 * GRAPH_PART }, (_, i) => (i === 7 ? Symbol("x") : i))), /symbol/);
  } finally {
    await client.close();
  }
});
