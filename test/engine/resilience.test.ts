// Tier 3: a LocalCluster with real worker processes; workers are killed with SIGKILL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, delayed, TaskError } from "../../src/index.ts";
import { inc, killMyWorker, makeBytes, sumPairs, tagged, total } from "../fixtures/tasks.ts";
import { until } from "./harness.ts";

async function localClient(nworkers: number): Promise<Client> {
  return Client.connect({ cluster: { nworkers, nthreads: 1, workerTtl: 5, scheduler: { validate: true } } });
}

test("SIGKILL of a worker while a 200-task graph runs still gives the correct result", async () => {
  const client = await localClient(3);
  try {
    const cluster = client.localCluster!;
    const parts = Array.from({ length: 200 }, (_, i) => delayed(tagged)(i, 15));
    // a tree of partial sums so results are spread and needed later
    const sums = [];
    for (let i = 0; i < 200; i += 20) sums.push(delayed(sumPairs)(parts.slice(i, i + 20)));
    const futures = client.persist(sums);
    await until(() => cluster.scheduler.state.stateCounts()["memory"] !== undefined, "some results");
    const victim = cluster.workers[0]!.process;
    victim.kill("SIGKILL");
    const results = await client.gather(futures);
    assert.equal(results.reduce((a, b) => a + b, 0), (199 * 200) / 2);
    assert.equal(cluster.scheduler.state.workers.size, 2, "the dead worker was removed");
  } finally {
    await client.close();
  }
});

test("a result held only by a killed worker is recomputed from lineage", async () => {
  const client = await localClient(2);
  try {
    const cluster = client.localCluster!;
    const big = client.submit(makeBytes, 100_000);
    await big.wait();
    const holder = [...cluster.scheduler.state.tasks.get(big.key)!.whoHas][0]!.address;
    const w = cluster.workers.find((x) => x.address === holder)!;
    w.process.kill("SIGKILL");
    await until(() => cluster.scheduler.state.workers.size === 1, "scheduler to notice the death");
    assert.equal(await client.submit(total, big).result(), (99_999 * 100_000) / 2);
    const state = cluster.scheduler.state.tasks.get(big.key)!;
    assert.equal(state.state, "memory");
    assert.notEqual([...state.whoHas][0]!.address, holder);
  } finally {
    await client.close();
  }
});

test("a task that keeps killing its workers fails with KilledWorkerError naming it", async () => {
  const client = await localClient(2);
  try {
    const f = client.submitWith({ allowedFailures: 1 }, killMyWorker);
    await assert.rejects(f.result(), (err: unknown) => {
      assert.ok(err instanceof TaskError);
      assert.equal(err.name, "KilledWorkerError");
      assert.match(err.message, /killMyWorker/);
      return true;
    });
  } finally {
    await client.close();
  }
});

test("Client.connect() with no address starts a local cluster and close() stops it", async () => {
  const client = await Client.connect({ cluster: { nworkers: 2 } });
  const cluster = client.localCluster!;
  const info = await client.schedulerInfo();
  assert.equal(Object.keys(info.workers).length, 2);
  assert.equal(await client.submit(inc, 1).result(), 2);
  await client.close();
  assert.ok(cluster.workers.every((w) => w.process.exitCode !== null || w.process.signalCode !== null), "worker processes exited");
});
