// The embedded scheduler on its own thread (issue 16): a LocalCluster with
// `schedulerThread` computes as the in-process one does, serves its
// dashboard, and a long synchronous pass in the program's thread does not
// stall it, where it stalls the in-process scheduler by as much (both
// measured by the scheduler's own event-loop tick, `schedulerInfo().loop`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, delayed, LocalCluster } from "../../src/index.ts";
import { add, inc, sumPairs, tagged } from "../fixtures/tasks.ts";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the program's own synchronous work (building a huge graph, say)
  }
}

test("schedulerThread: tasks, a graph and the dashboard work; the in-process-only parts say why they are not available", async () => {
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, dashboard: ":0", schedulerThread: true } });
  try {
    const cluster = client.localCluster!;
    assert.equal(cluster.schedulerOnThread, true);
    assert.deepEqual(await client.gather(client.map(inc, [1, 2, 3])), [2, 3, 4]);
    const [s] = await client.compute(delayed(add)(delayed(inc)(1), delayed(inc)(2)));
    assert.equal(s, 5);
    const info = await client.schedulerInfo();
    assert.equal(Object.keys(info.workers).length, 2);
    const r = await fetch(new URL("/json/status.json", client.dashboardLink!));
    assert.equal(r.status, 200);
    assert.throws(() => cluster.scheduler, /runs on its own thread/);
    assert.throws(() => cluster.adapt(), /adapt\(\) needs the scheduler in this thread/);
  } finally {
    await client.close();
  }
});

test("a 1.5 s synchronous pass in the program stalls an in-process scheduler by as much, and a scheduler on its own thread not at all", async () => {
  for (const schedulerThread of [false, true]) {
    const cluster = await LocalCluster.start({ nworkers: 1, nthreads: 1, dashboard: false, schedulerThread });
    const client = await Client.connect(cluster);
    try {
      await cluster.waitForWorkers(1);
      await client.schedulerInfo({ resetLoopStats: true });
      busy(1500);
      const { loop } = await client.schedulerInfo({ resetLoopStats: true });
      if (schedulerThread) assert.ok(loop.maxStallMs < 1000, `scheduler on its own thread stalled ${loop.maxStallMs} ms`);
      else assert.ok(loop.maxStallMs >= 1400 && loop.stallsOver100ms >= 1, `in-process scheduler stalled ${loop.maxStallMs} ms (${loop.stallsOver100ms} over 100 ms)`);
      // the counts restart after a reset
      const again = await client.schedulerInfo();
      assert.ok(again.loop.maxStallMs < 1400, `after the reset: ${again.loop.maxStallMs} ms`);
      assert.equal(await client.submit(inc, 1).result(), 2);
    } finally {
      await client.close();
      await cluster.close();
    }
  }
});

test("SHOAL_SCHEDULER_THREAD=1 puts an embedded scheduler on its own thread", async () => {
  process.env["SHOAL_SCHEDULER_THREAD"] = "1";
  let client: Client | null = null;
  try {
    client = await Client.connect({ cluster: { nworkers: 1, nthreads: 1, dashboard: false } });
    assert.equal(client.localCluster!.schedulerOnThread, true);
    assert.equal(await client.submit(inc, 41).result(), 42);
  } finally {
    delete process.env["SHOAL_SCHEDULER_THREAD"];
    await client?.close();
  }
});

test("with the scheduler on its own thread, SIGKILL of a worker mid-graph still gives the correct result (recomputed from lineage)", async () => {
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, workerTtl: 5, dashboard: false, schedulerThread: true } });
  try {
    const cluster = client.localCluster!;
    const parts = Array.from({ length: 120 }, (_, i) => delayed(tagged)(i, 15));
    const sums = [];
    for (let i = 0; i < 120; i += 20) sums.push(delayed(sumPairs)(parts.slice(i, i + 20)));
    const futures = client.persist(sums);
    await futures[0]!.wait(); // results exist on both workers by now
    cluster.workers[0]!.process.kill("SIGKILL");
    const results = await client.gather(futures);
    assert.equal(results.reduce((a, b) => a + b, 0), (119 * 120) / 2);
    // the scheduler notices the closed connection; synchronize on its state, read over the wire
    const deadline = Date.now() + 60_000;
    let n = 2;
    while ((n = Object.keys((await client.schedulerInfo()).workers).length) > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(n, 1, "the dead worker was removed");
  } finally {
    await client.close();
  }
});
