// Tier 2: client API against an in-process scheduler and two workers on loopback.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { asCompleted, delayed, FunctionShippingError, TaskError, wait } from "../../src/index.ts";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { add, doubleIt, fail, gated, inc, makeBytes, mark, sum, total } from "../fixtures/tasks.ts";
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

/** Deadline of the state waits below: generous, since they end as soon as the state holds (a loaded machine is slow). */
const LOADED = 120_000;

/** A fresh folder for one test's gates and markers. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "shoal-client-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("asCompleted yields in completion order; wait supports FIRST_COMPLETED", async () => {
  const { client } = h;
  // `slow` cannot finish before the test opens its gate, so the order is certain
  const g1 = scratch();
  const slow = client.submit(gated, 1, g1);
  await until(() => existsSync(join(g1, "started-1")), "the gated task to start", LOADED);
  const fast = client.submit(inc, 2);
  const order: number[] = [];
  for await (const f of asCompleted([slow, fast])) {
    order.push(await f.result());
    if (order.length === 1) writeFileSync(join(g1, "open"), "");
  }
  assert.deepEqual(order, [3, 2]);
  // FIRST_COMPLETED returns while `a` is still running: done holds b, notDone holds a
  const g2 = scratch();
  const a = client.submit(gated, 5, g2);
  await until(() => existsSync(join(g2, "started-5")), "the gated task to start", LOADED);
  const b = client.submit(inc, 5);
  const { done, notDone } = await wait([a, b], { returnWhen: "FIRST_COMPLETED" });
  assert.ok(done.has(b), "b finished");
  assert.ok(notDone.has(a) && !done.has(a), "a is still running behind its gate");
  assert.equal(a.status, "pending");
  writeFileSync(join(g2, "open"), "");
  assert.equal(await a.result(), 6);
});

test("cancel stops a queued task: it never runs", async () => {
  const { client, scheduler } = h;
  // occupy both workers' single threads, one after the other (each goes to the idle worker)
  const gate = scratch();
  const blockers = [];
  for (const x of [1, 2]) {
    blockers.push(client.submitWith({ name: "blocker" }, gated, x, gate));
    await until(() => existsSync(join(gate, `started-${x}`)), `blocker ${x} to start`, LOADED);
  }
  const marker = join(gate, "cancelled-task-ran");
  const f = client.submit(mark, 1, marker);
  // the task is assigned but cannot start: every thread is held by a blocker
  await until(() => scheduler.state.tasks.get(f.key)?.state === "processing", "the task to be assigned to a worker", LOADED);
  assert.equal(scheduler.state.tasks.get(f.key)!.executing, false, "the task is queued on its worker, not executing");
  await f.cancel();
  assert.equal(f.status, "cancelled");
  await assert.rejects(f.result(), /cancelled/);
  await until(() => !scheduler.state.tasks.has(f.key), "the scheduler to forget the cancelled task", LOADED);
  writeFileSync(join(gate, "open"), "");
  assert.deepEqual(await client.gather(blockers), [2, 3]);
  // had the workers kept it, it would run before these (it has an older priority)
  assert.equal((await client.gather(client.map(inc, Array.from({ length: 8 }, (_, i) => i), { name: "after-cancel" }))).length, 8);
  assert.equal(existsSync(marker), false, "the cancelled task ran");
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

test("a released future that is later garbage collected does not release its key a second time: another future of the key keeps the result", async () => {
  const { client, scheduler } = h;
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const key = "twice-held-key";
  let first: ReturnType<typeof client.submit> | null = client.submitWith({ key }, inc, 41);
  const second = client.submitWith({ key }, inc, 41);
  assert.equal(await second.result(), 42);
  first.release();
  // the collection of the released future must not count as a second release
  let collected = false;
  const watcher = new FinalizationRegistry(() => (collected = true));
  watcher.register(first, null);
  first = null;
  for (let i = 0; i < 200 && !collected; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(collected, "the released future was collected");
  await new Promise((r) => setTimeout(r, 10)); // the client's finalizer ran in the same sweep
  assert.equal(second.state.refs, 1, "one future of the key is alive");
  assert.ok(scheduler.state.tasks.has(key), "the scheduler still holds the key the second future refers to");
  assert.equal(await second.result(), 42);
  second.release();
  await until(() => !scheduler.state.tasks.has(key), "the key released once its last future is");
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
