// Tier 3: typed errors after crossing real processes. Task failures are made
// in worker processes (or declared by the scheduler) and travel as records;
// the client rebuilds each as its class, so `instanceof`, `code` and
// `retriable` work, the remote stack is kept and causes chain.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  CancelledError,
  Client,
  CommClosedError,
  FetchError,
  HandshakeError,
  isRetriable,
  KilledWorkerError,
  LostDataError,
  MissingDependencyError,
  RequestTimeoutError,
  SchedulerLostError,
  SchedulerServer,
  ShoalError,
  TaskError,
  TimeoutError,
  type LocalClusterOptions,
} from "../../src/index.ts";
import { errorToRecord, recordToError } from "../../src/utils/error-record.ts";
import { WorkerServer } from "../../src/worker/server.ts";
import { inc, killMyWorker, makeBytes, slowInc } from "../fixtures/tasks.ts";
import { until } from "./harness.ts";

const quiet: LocalClusterOptions = { nthreads: 1, dashboard: false, scheduler: { validate: true } };

/** Runs `p`, expecting it to reject; the error. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected a rejection");
}

let shared: Client;
before(async () => {
  shared = await Client.connect({ cluster: { ...quiet, nworkers: 2 } });
});
after(async () => {
  await shared.close();
});

test("a task's own error: TaskError with the remote stack, fields and a chain of causes", async () => {
  const f = shared.submit(function explode(): never {
    const root = new SyntaxError("root cause");
    const middle = new RangeError("middle", { cause: root });
    throw Object.assign(new Error("outer failure", { cause: middle }), { code: "E_OUTER", detail: 42 });
  });
  const err = await rejection(f.result());
  assert.ok(err instanceof TaskError && err instanceof ShoalError && err instanceof Error);
  assert.ok(!(err instanceof KilledWorkerError));
  assert.equal(err.name, "TaskError");
  assert.equal(err.code, "task-failed");
  assert.equal(err.retriable, false);
  assert.equal(isRetriable(err), false);
  assert.equal(err.key, f.key);
  assert.ok(shared.localCluster!.workers.some((w) => w.address === err.worker), `worker ${err.worker}`);
  assert.equal(err.remoteName, "Error");
  assert.match(err.message, /outer failure/);
  assert.match(err.remoteStack, /explode/, "the worker's stack names the function");
  assert.match(err.stack!, /--- remote stack ---[\s\S]*explode[\s\S]*--- local stack ---/);
  assert.equal(err.data["code"], "E_OUTER");
  assert.equal(err.data["detail"], 42);
  const middle = err.cause as Error;
  assert.ok(middle instanceof Error);
  assert.equal(middle.name, "RangeError");
  assert.equal(middle.message, "middle");
  assert.match(middle.stack!, /^RangeError: middle[\s\S]*explode/, "causes keep their remote stacks");
  const root = middle.cause as Error;
  assert.equal(root.name, "SyntaxError");
  assert.equal(root.message, "root cause");
  assert.equal(root.cause, undefined);

  // a dependent fails with the same cause, blaming the task that failed
  const dep = shared.submit(inc, f as never);
  const depErr = await rejection(dep.result());
  assert.ok(depErr instanceof TaskError);
  assert.equal(depErr.key, dep.key);
  assert.equal(depErr.blame, f.key);
  assert.match(depErr.message, /because its dependency/);
  assert.equal(depErr.remoteName, "Error");
  assert.equal((depErr.cause as Error).name, "RangeError");
  assert.deepEqual(await shared.gather([f, dep], { errors: "skip" }), []);
});

test("a caller's deadline: TimeoutError, code timeout, retriable; waiting again succeeds", async () => {
  const f = shared.submit(slowInc, 1, 300);
  const err = await rejection(f.result({ timeout: 1 }));
  assert.ok(err instanceof TimeoutError && err instanceof ShoalError);
  assert.equal(err.code, "timeout");
  assert.equal(err.retriable, true);
  assert.equal(err.timeoutMs, 1);
  assert.equal(await f.result(), 2);
});

test("a dependency the scheduler does not know: MissingDependencyError", async () => {
  const gone = shared.submit(inc, 1);
  await gone.result();
  gone.release();
  await until(() => !shared.localCluster!.scheduler.state.tasks.has(gone.key), "the released key to be forgotten");
  const f = shared.submit(inc, gone as never);
  const err = await rejection(f.result());
  assert.ok(err instanceof MissingDependencyError && err instanceof TaskError);
  assert.equal(err.name, "MissingDependencyError");
  assert.equal(err.code, "missing-dependency");
  assert.deepEqual(err.data["missing"], [gone.key]);
});

test("a cancelled task: CancelledError, code cancelled, not retriable", async () => {
  // last on the shared cluster: the cancelled task keeps its thread until it ends
  const f = shared.submit(slowInc, 1, 5_000);
  await until(() => shared.localCluster!.scheduler.state.tasks.get(f.key)?.state === "processing", "the task to start");
  await f.cancel();
  const err = await rejection(f.result());
  assert.ok(err instanceof CancelledError && err instanceof ShoalError);
  assert.equal(err.code, "cancelled");
  assert.equal(err.retriable, false);
  assert.equal(err.key, f.key);
  assert.ok((await f.exception()) instanceof CancelledError);
});

test("a task that kills its workers: KilledWorkerError for it and its dependents", async () => {
  const client = await Client.connect({ cluster: { ...quiet, nworkers: 2 } });
  try {
    const f = client.submitWith({ allowedFailures: 1 }, killMyWorker);
    const dep = client.submit(inc, f);
    const err = await rejection(f.result());
    assert.ok(err instanceof KilledWorkerError && err instanceof TaskError && err instanceof ShoalError);
    assert.equal(err.name, "KilledWorkerError");
    assert.equal(err.code, "killed-worker");
    assert.equal(err.retriable, false);
    assert.equal(err.key, f.key);
    assert.equal(err.data["allowedFailures"], 1);
    assert.match(err.worker ?? "", /^tcp:\/\//);
    assert.match(err.stack!, /^KilledWorkerError: task killMyWorker-/);
    const depErr = await rejection(dep.result());
    assert.ok(depErr instanceof KilledWorkerError);
    assert.equal(depErr.blame, f.key);
  } finally {
    await client.close();
  }
});

test("scattered data whose only holder dies: LostDataError", async () => {
  const client = await Client.connect({ cluster: { ...quiet, nworkers: 2 } });
  try {
    const cluster = client.localCluster!;
    const x = await client.scatter(41);
    const holder = [...cluster.scheduler.state.tasks.get(x.key)!.whoHas][0]!.address;
    cluster.workers.find((w) => w.address === holder)!.process.kill("SIGKILL");
    const err = await rejection(x.result());
    assert.ok(err instanceof LostDataError && err instanceof TaskError && err instanceof ShoalError);
    assert.equal(err.code, "lost-data");
    assert.equal(err.retriable, false);
    assert.equal(err.key, x.key);
    assert.equal(err.worker, holder);
    assert.match(err.message, /broadcast/);
  } finally {
    await client.close();
  }
});

test("the scheduler goes away: SchedulerLostError, retriable, naming the address", async () => {
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false }).start();
  const client = await Client.connect(scheduler.address);
  try {
    const f = client.submit(inc, 1); // no worker: it stays pending
    await until(() => scheduler.state.tasks.has(f.key), "the scheduler to know the task");
    await scheduler.close();
    const err = await rejection(f.result());
    assert.ok(err instanceof SchedulerLostError && err instanceof ShoalError);
    assert.equal(err.code, "scheduler-lost");
    assert.equal(err.retriable, true);
    assert.match(err.message, /lost the connection to the scheduler/);
    const again = (() => {
      try {
        client.submit(inc, 2);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(again instanceof SchedulerLostError);
    assert.equal(again.address, scheduler.address);
  } finally {
    await client.close();
    await scheduler.close();
  }
});

test("results a stopped worker holds: FetchError after fetchTimeout, naming keys, worker and cause", { timeout: 60_000 }, async () => {
  // a long TTL: the scheduler keeps the stopped worker, so only the client's deadline ends the wait
  const client = await Client.connect({ cluster: { ...quiet, nworkers: 1, workerTtl: 600 }, fetchTimeout: 1_500 });
  const cluster = client.localCluster!;
  const big = client.submit(makeBytes, 100_000); // 800 kB: not inline, fetched from the worker
  await big.wait();
  const worker = cluster.workers[0]!;
  worker.process.kill("SIGSTOP");
  try {
    const err = await rejection(big.result());
    assert.ok(err instanceof FetchError && err instanceof ShoalError);
    assert.equal(err.code, "fetch-failed");
    assert.equal(err.retriable, true);
    assert.deepEqual(err.keys, [big.key]);
    assert.deepEqual(err.workers, [worker.address]);
    assert.equal(err.timeoutMs, 1_500);
    assert.ok(err.cause instanceof ShoalError, `cause: ${String(err.cause)}`);
    assert.equal(err.cause.retriable, true);
    assert.match(err.message, new RegExp(`${big.key}.*${worker.address}.*last error`));
  } finally {
    worker.process.kill("SIGCONT");
  }
  try {
    assert.equal((await big.result()).length, 100_000, "once the worker runs again, fetching again works");
  } finally {
    await client.close();
  }
  await assert.rejects(Client.connect({ address: "tcp://127.0.0.1:1", fetchTimeout: 0 }), /options\.fetchTimeout must be a positive number/);
});

test("a worker that refuses the client's token: FetchError at once, not retriable, the HandshakeError as cause", { timeout: 60_000 }, async () => {
  // an open scheduler, a worker whose data port needs a token the client lacks
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false }).start();
  const worker = new WorkerServer({ scheduler: scheduler.address, nthreads: 1, token: "only-the-worker-knows" });
  await worker.start();
  // a fetchTimeout past the test's own timeout: only failing at once passes
  const client = await Client.connect({ address: scheduler.address, fetchTimeout: 600_000 });
  try {
    const err = await rejection(client.submit(makeBytes, 100_000).result());
    assert.ok(err instanceof FetchError, String(err));
    assert.equal(err.retriable, false);
    assert.equal(isRetriable(err), false);
    assert.ok(err.cause instanceof HandshakeError && err.cause.reason === "bad-token", String(err.cause));
    assert.equal(err.cause.retriable, false);
    assert.match(err.message, /Trying again will not help/);
  } finally {
    await client.close();
    await worker.close();
    await scheduler.close();
  }
});

test("comm errors are ShoalErrors; codes and retriable travel in records and come back", () => {
  const t = new RequestTimeoutError("tcp://127.0.0.1:9", "gather", 5);
  assert.ok(t instanceof CommClosedError && t instanceof ShoalError);
  assert.equal(t.code, "request-timeout");
  assert.equal(t.retriable, true);

  const rec = errorToRecord(new TimeoutError("too slow", { timeoutMs: 7, cause: t }));
  assert.equal(rec.name, "TimeoutError");
  assert.deepEqual(rec.data, { code: "timeout", retriable: true, timeoutMs: 7 });
  assert.equal(rec.cause?.data?.["code"], "request-timeout");
  const back = recordToError(rec) as Error & { code?: string; retriable?: boolean };
  assert.equal(back.name, "TimeoutError");
  assert.equal(back.code, "timeout");
  assert.equal(back.retriable, true);
  assert.equal(back.stack, rec.stack);
  assert.equal((back.cause as { code?: string }).code, "request-timeout");
});
