// Tier 2: what the scheduler server does when a handler throws (issue 15,
// item 1): without validation the peer gets an error reply and its
// connection is closed while the scheduler carries on; under validation a
// broken invariant takes the scheduler process down, loudly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { SchedulerServer } from "../../src/scheduler/server.ts";
import { InvariantError } from "../../src/scheduler/validate.ts";
import { CommClosedError, connect, type Comm } from "../../src/comm/index.ts";

async function rawClient(address: string): Promise<Comm> {
  const comm = await connect(address, { role: "client" });
  const r = await comm.request({ op: "register-client", id: `raw-${Math.random()}` }, 5000);
  assert.equal(r["status"], "ok");
  return comm;
}

function closed(comm: Comm): Promise<void> {
  return new Promise((resolve) => comm.onClose(() => resolve()));
}

test("without validation, a handler that throws answers the request with an error, closes that peer and serves the others", async () => {
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false, config: { validate: false } }).start();
  try {
    scheduler.state.story = () => {
      throw new InvariantError("injected for the test", "k", "story-1");
    };
    const comm = await rawClient(scheduler.address);
    const gone = closed(comm);
    const reply = await comm.request({ op: "story", keys: ["k"] }, 5000);
    assert.equal(reply["status"], "error");
    assert.match(String(reply["message"]), /failed handling 'story': injected/);
    const error = reply["error"] as { name: string; data?: { code?: string } };
    assert.equal(error.name, "InvariantError");
    assert.equal(error.data?.code, "scheduler-invariant");
    await gone;
    // a message that is not a request: no reply, the connection is closed
    scheduler.state.cancelKeys = () => {
      throw new TypeError("another bug");
    };
    const other = await rawClient(scheduler.address);
    const otherGone = closed(other);
    other.send({ op: "cancel-keys", keys: ["x"] });
    await otherGone;
    // the scheduler still answers
    const third = await rawClient(scheduler.address);
    const info = await third.request({ op: "identity" }, 5000);
    assert.ok(info["info"]);
    assert.equal(scheduler.crashed, null);
    third.close();
  } finally {
    await scheduler.close();
  }
});

test("under validation, a broken invariant kills the scheduler process with the InvariantError; its peers see it die instead of waiting", async () => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `import { SchedulerServer } from "./src/scheduler/server.ts";
       import { InvariantError } from "./src/scheduler/validate.ts";
       const s = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false, config: { validate: true } }).start();
       s.state.story = () => { throw new InvariantError("injected invariant violation", "k", "story-1"); };
       console.log(s.address);`,
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SHOAL_QUIET: "0" } },
  );
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  // bounded: a scheduler that swallows the violation would leave this waiting forever
  const exited = once(child, "exit", { signal: AbortSignal.timeout(30_000) }) as Promise<[number | null, string | null]>;
  exited.catch(() => undefined);
  try {
    const [line] = (await once(child.stdout, "data")) as [Buffer];
    const address = line.toString().trim();
    const comm = await rawClient(address);
    await assert.rejects(comm.request({ op: "story", keys: ["k"] }, 10_000), (e: Error) => e instanceof CommClosedError);
    const [code] = await exited;
    assert.notEqual(code, 0, "the process died");
    assert.match(stderr, /FATAL: invariant violation handling 'story'/);
    assert.match(stderr, /InvariantError: injected invariant violation/);
    assert.match(stderr, /scheduler-invariant/);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("a throwing worker listener is logged and never affects the scheduler: the worker joins once and serves", async () => {
  const { WorkerServer } = await import("../../src/worker/server.ts");
  const { Client } = await import("../../src/client/client.ts");
  const { inc } = await import("../fixtures/tasks.ts");
  const scheduler = await new SchedulerServer({ address: "tcp://127.0.0.1:0", logEvents: false, config: { validate: true } }).start();
  const seen: string[] = [];
  scheduler.workerListeners.push(() => {
    throw new Error("worker listener bug");
  });
  scheduler.workerListeners.push((ev, address) => seen.push(`${ev} ${address}`));
  const worker = new WorkerServer({ scheduler: scheduler.address, name: "w0", nthreads: 1, validate: true });
  await worker.start();
  const client = await Client.connect(scheduler.address);
  try {
    assert.equal(await client.submit(inc, 1).result(), 2);
    assert.equal(scheduler.state.workers.size, 1);
    assert.deepEqual(seen, [`added ${worker.address}`], "the worker joined once and stayed");
  } finally {
    await client.close();
    await worker.close();
    await scheduler.close();
  }
});
