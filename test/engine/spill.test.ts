// Tier 2: a worker with a small memory limit spills least-recently-used results
// to its local directory and reads them back transparently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { WorkerServer } from "../../src/worker/server.ts";
import { Client } from "../../src/client/client.ts";
import { makeBytes, total } from "../fixtures/tasks.ts";

test("results beyond the memory target are spilled and read back", async () => {
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false }).start();
  const dir = mkdtempSync(join(tmpdir(), "shoal-spill-"));
  const limit = 8 * 2 ** 20;
  // RSS rungs off: this worker shares the test process, whose RSS is far above 8 MiB
  const worker = new WorkerServer({ scheduler: scheduler.address, nthreads: 1, memoryLimit: limit, localDirectory: dir, memory: { spill: Infinity, pause: Infinity, terminate: Infinity } });
  await worker.start();
  const client = await Client.connect(scheduler.address);
  try {
    const n = 100_000; // 800 kB each
    const parts = client.map(makeBytes, Array.from({ length: 20 }, () => n));
    await client.gather(parts.map((p) => client.submit(total, p)));
    const store = (worker as unknown as { store: { memoryBytes: number; spilledBytes: number; spillCount: number } }).store;
    assert.ok(store.spillCount > 0, "something was spilled");
    assert.ok(store.memoryBytes <= 0.6 * limit, `in memory ${store.memoryBytes} ≤ 60% of the limit`);
    assert.ok(store.memoryBytes + store.spilledBytes >= 20 * 800_000, "every result is held, in memory or on disk");
    assert.ok(store.spilledBytes >= 20 * 800_000 - 0.6 * limit, `spilled ${store.spilledBytes}`);
    const spillDir = readdirSync(dir).find((d) => d.startsWith("spill-"))!;
    assert.ok(readdirSync(join(dir, spillDir)).some((f) => f.endsWith(".spill")));
    // every value comes back intact, spilled or not
    const back = await client.gather(parts);
    assert.equal(back.length, 20);
    for (const a of back) {
      assert.ok(a instanceof Float64Array);
      assert.equal(a.length, n);
      assert.equal(a[n - 1], n - 1);
    }
    const sums = await client.gather(parts.map((p) => client.submit(total, p)));
    assert.ok(sums.every((s) => s === ((n - 1) * n) / 2));
  } finally {
    await client.close();
    await worker.close();
    await scheduler.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
