// Tier 2: client API against an in-process scheduler and two workers on loopback.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { asCompleted, delayed, FunctionShippingError, TaskError, wait } from "../../src/index.ts";
import { add, busy, doubleIt, fail, inc, makeBytes, slowInc, sum, total } from "../fixtures/tasks.ts";
import { startHarness, until, type Harness } from "./harness.ts";

let h: Harness;
before(async () => {
  h = await startHarness({ nworkers: 2 });
});
after(async () => {
  await h.close();
});

test("submit, map and gather", async () => {
  const { client } = h;
  assert.equal(await client.submit(inc, 1).result(), 2);
  assert.deepEqual(await client.gather(client.map(inc, [1, 2, 3, 4])), [2, 3, 4, 5]);
});

test("futures passed as arguments become dependencies", async () => {
  const { client } = h;
  const xs = client.map(inc, [1, 2, 3]);
  const s = client.submit(sum, xs);
  assert.equal(await s.result(), 2 + 3 + 4);
  const chained = client.submit(add, client.submit(inc, 10), client.submit(doubleIt, 5));
  assert.equal(await chained.result(), 11 + 10);
});

test("delayed graphs share common subgraphs", async () => {
  const { client } = h;
  const a = delayed(inc)(1);
  const b = delayed(add)(a, 10);
  const c = delayed(add)(a, 100);
  const a2 = delayed(inc)(1);
  assert.equal(a.key, a2.key, "same call, same key");
  assert.deepEqual(await client.compute(b, c), [12, 102]);
});

test("a task's error arrives typed, with key, worker and remote stack", async () => {
  const { client } = h;
  const f = client.submit(fail, "bad input");
  await assert.rejects(f.result(), (err: unknown) => {
    assert.ok(err instanceof TaskError);
    assert.equal(err.key, f.key);
    assert.equal(err.remoteName, "RangeError");
    assert.match(err.message, /bad input/);
    assert.ok(err.worker && err.worker.startsWith("tcp://127.0.0.1:"));
    assert.match(err.remoteStack, /tasks\.ts/, "remote stack points at the user's source file");
    return true;
  });
  // dependents fail with the same cause
  const dep = client.submit(inc, f);
  await assert.rejects(dep.result(), (err: unknown) => err instanceof TaskError && err.blame === f.key);
});

test("large results stay on workers and are fetched directly", async () => {
  const { client, scheduler } = h;
  const big = client.submit(makeBytes, 200_000); // 1.6 MB
  const t = client.submit(total, big);
  assert.equal(await t.result(), (199_999 * 200_000) / 2);
  const arr = await big.result();
  assert.ok(arr instanceof Float64Array);
  assert.equal(arr.length, 200_000);
  const ts = scheduler.state.tasks.get(big.key)!;
  assert.equal(ts.inline, null, "scheduler keeps no copy of large results");
});

test("scatter puts local data on workers for tasks to use", async () => {
  const { client } = h;
  const data = await client.scatter([1, 2, 3, 4]);
  assert.equal(await client.submit(sum, data).result(), 10);
  const one = await client.scatter(41);
  assert.equal(await client.submit(inc, one).result(), 42);
});

test("asCompleted yields in completion order; wait supports FIRST_COMPLETED", async () => {
  const { client } = h;
  const slow = client.submit(slowInc, 1, 300);
  const fast = client.submit(slowInc, 2, 1);
  const order: number[] = [];
  for await (const f of asCompleted([slow, fast])) order.push(await f.result());
  assert.deepEqual(order, [3, 2]);
  const a = client.submit(slowInc, 5, 400);
  const b = client.submit(inc, 5);
  const { done, notDone } = await wait([a, b], { returnWhen: "FIRST_COMPLETED" });
  assert.ok(done.has(b));
  assert.ok(notDone.has(a) || done.has(a));
});

test("cancel stops a queued task", async () => {
  const { client } = h;
  const blockers = client.map(busy, [1, 2], { name: "blocker" });
  const f = client.submit(slowInc, 1, 50);
  await f.cancel();
  assert.equal(f.status, "cancelled");
  await assert.rejects(f.result(), /cancelled/);
  await client.gather(blockers);
});

test("releasing futures frees results on the workers", async () => {
  const { client, scheduler } = h;
  const fs = client.map(makeBytes, [10, 20, 30], { name: "release_me" });
  await client.gather(fs);
  const keys = fs.map((f) => f.key);
  assert.ok(keys.every((k) => scheduler.state.tasks.has(k)));
  for (const f of fs) f.release();
  await until(() => keys.every((k) => !scheduler.state.tasks.has(k)), "scheduler to forget released keys");
  await until(() => h.workers.every((w) => keys.every((k) => !(w as unknown as { store: Map<string, unknown> }).store.has(k))), "workers to free data");
});

test("self-contained inline functions travel as source; capturing ones are refused with a fix", async () => {
  const { client } = h;
  assert.equal(await client.submit((x: number) => Math.max(x, 3) * 2, 5).result(), 10);
  const factor = 3;
  assert.throws(
    () => client.submit((x: number) => x * factor, 1),
    (err: unknown) => err instanceof FunctionShippingError && /factor/.test(err.message) && /export it/.test(err.message),
  );
});

test("many small tasks", async () => {
  const { client } = h;
  const n = 2000;
  const res = await client.gather(client.map(inc, Array.from({ length: n }, (_, i) => i)));
  assert.equal(res.length, n);
  assert.equal(res[n - 1], n);
});
