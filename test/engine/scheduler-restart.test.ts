// Tier 2: the scheduler goes away. Clients get a clear error; workers keep
// trying and rejoin a scheduler restarted at the same address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { WorkerServer } from "../../src/worker/server.ts";
import { Client } from "../../src/client/client.ts";
import { SchedulerLostError } from "../../src/client/errors.ts";
import { inc, slowInc } from "../fixtures/tasks.ts";
import { until } from "./harness.ts";

test("a lost scheduler fails pending futures clearly; workers rejoin its restart", async () => {
  let scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false }).start();
  const address = scheduler.address;
  const worker = new WorkerServer({ scheduler: address, nthreads: 1, deathTimeout: 20 });
  await worker.start();
  const client = await Client.connect(address);
  try {
    const slow = client.submit(slowInc, 1, 5_000);
    await until(() => scheduler.state.tasks.get(slow.key)?.state === "processing", "task to start");
    await scheduler.close();
    await assert.rejects(slow.result(), (err: Error) => /lost the connection to the scheduler/.test(err.message));
    assert.throws(() => client.submit(inc, 1), SchedulerLostError);

    scheduler = await new SchedulerServer({ address, logEvents: false }).start();
    await until(() => scheduler.state.workers.size === 1, "worker to rejoin the restarted scheduler", 15_000);
    const again = await Client.connect(address);
    try {
      assert.equal(await again.submit(inc, 41).result(), 42);
    } finally {
      await again.close();
    }
  } finally {
    await client.close();
    await worker.close();
    await scheduler.close();
  }
});
