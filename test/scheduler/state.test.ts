// Tier 1: the scheduler state machine fed events directly; no sockets, no sleeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SchedulerState, type Outgoing } from "../../src/scheduler/state.ts";
import { InvariantError, validateState } from "../../src/scheduler/validate.ts";
import { whoHasKeys } from "../../src/scheduler/queries.ts";
import { ShoalError } from "../../src/utils/errors.ts";
import { serialize } from "../../src/protocol/serialize.ts";
import type { TaskMsg } from "../../src/protocol/messages.ts";

const spec = serialize({ f: { kind: "source", source: "() => 1", name: "x" }, a: [] });

function task(key: string, deps: string[] = [], order = 0): TaskMsg {
  return { key, spec, deps, order };
}

function make(config = {}): { s: SchedulerState; clock: { t: number } } {
  const clock = { t: 1000 };
  const s = new SchedulerState({ validate: true, ...config }, () => clock.t);
  return { s, clock };
}

function addWorker(s: SchedulerState, address: string, nthreads = 1): void {
  s.addWorker({ address, name: address, nthreads, memoryLimit: 0, host: "h", pid: 1, keys: [] });
}

function computes(out: Outgoing[], address?: string): string[] {
  return out
    .filter((o) => o.to === "worker" && o.msg.op === "compute-task" && (address === undefined || o.address === address))
    .map((o) => o.msg["key"] as string);
}

function finish(s: SchedulerState, address: string, key: string, nbytes = 8, seconds = 0.5): void {
  const ts = s.tasks.get(key)!;
  s.taskFinished(address, { op: "task-finished", key, runId: ts.runId, nbytes, type: "number", start: 0, stop: seconds });
}

test("a task runs, its result reaches the client, release forgets it", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("inc-1")], ["inc-1"]);
  const out = s.drain();
  assert.deepEqual(computes(out), ["inc-1"]);
  assert.equal(s.tasks.get("inc-1")!.state, "processing");
  finish(s, "w1", "inc-1");
  const out2 = s.drain();
  assert.ok(out2.some((o) => o.to === "client" && o.msg.op === "key-in-memory" && o.msg["key"] === "inc-1"));
  assert.equal(s.tasks.get("inc-1")!.state, "memory");
  s.clientReleasesKeys("c", ["inc-1"]);
  const out3 = s.drain();
  assert.ok(out3.some((o) => o.to === "worker" && o.msg.op === "free-keys"));
  assert.equal(s.tasks.size, 0);
  validateState(s);
});

test("a dependent runs where its input is, and the input is freed after use", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"], 1)], ["b-1"]);
  const first = computes(s.drain());
  assert.deepEqual(first, ["a-1"]);
  const where = s.tasks.get("a-1")!.processingOn!.address;
  finish(s, where, "a-1", 10_000_000);
  const out = s.drain();
  assert.deepEqual(computes(out, where), ["b-1"], "b runs on the worker holding a");
  finish(s, where, "b-1");
  const out2 = s.drain();
  assert.ok(out2.some((o) => o.to === "worker" && o.msg.op === "free-keys" && (o.msg["keys"] as string[]).includes("a-1")));
  assert.equal(s.tasks.get("a-1")!.state, "released");
  s.clientReleasesKeys("c", ["b-1"]);
  assert.equal(s.tasks.size, 0);
});

test("root tasks are withheld: a worker holds about as many as it has threads", () => {
  const { s } = make();
  addWorker(s, "w1", 2);
  addWorker(s, "w2", 2);
  const tasks = Array.from({ length: 100 }, (_, i) => task(`load-${i}`, [], i));
  s.updateGraph("c", tasks, tasks.map((t) => t.key));
  const out = s.drain();
  assert.equal(computes(out, "w1").length, 3); // ceil(1.1 * 2)
  assert.equal(computes(out, "w2").length, 3);
  assert.equal(s.queued.size, 94);
  const k = computes(out, "w1")[0]!;
  finish(s, "w1", k);
  assert.equal(computes(s.drain(), "w1").length, 1, "one finished, one more sent");
  // priority order: the lowest order values go first
  assert.ok(computes(out).includes("load-0"));
});

test("short root tasks get more slots so that round trips do not idle the threads", () => {
  const { s } = make();
  addWorker(s, "w1", 1);
  const tasks = Array.from({ length: 1000 }, (_, i) => task(`noop-${i}`, [], i));
  s.updateGraph("c", tasks, tasks.map((t) => t.key));
  const first = computes(s.drain());
  assert.equal(first.length, 2);
  finish(s, "w1", first[0]!, 8, 0.0001); // 100 µs tasks
  const more = computes(s.drain());
  assert.ok(more.length >= 10 && more.length <= 64, `pipelined ${more.length}`);
});

test("many small tasks picking pieces out of a few large results run where those results are", () => {
  // a shuffle split: 4 split tasks, then 16 picks (one per split and bucket); Dask's root-ish rule
  // (big group, < 5 dependency tasks) would queue the picks and send them to any free thread
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  const splits = Array.from({ length: 4 }, (_, i) => task(`split-${i}`, [], i));
  const picks = Array.from({ length: 16 }, (_, j) => task(`pick-${j}`, [`split-${j % 4}`], 10 + j));
  s.updateGraph("c", [...splits, ...picks], picks.map((t) => t.key));
  s.drain();
  const where = new Map<string, string>();
  // finish the splits one at a time, each on its worker, while the other worker is idle
  for (let round = 0; round < 4; round++) {
    const running = [...s.tasks.values()].filter((t) => t.key.startsWith("split-") && t.state === "processing");
    const ts = running[0]!;
    where.set(ts.key, ts.processingOn!.address);
    finish(s, ts.processingOn!.address, ts.key, 15_000_000);
    s.drain();
  }
  for (const p of picks) {
    const ts = s.tasks.get(p.key)!;
    assert.equal(ts.state, "processing", p.key);
    assert.equal(ts.processingOn!.address, where.get(p.deps[0]!), `${p.key} runs where ${p.deps[0]} is`);
  }
  assert.equal(s.queued.size, 0);
});

test("queuing off (workerSaturation Infinity) sends everything", () => {
  const { s } = make({ workerSaturation: Infinity });
  addWorker(s, "w1");
  const tasks = Array.from({ length: 20 }, (_, i) => task(`t-${i}`, [], i));
  s.updateGraph("c", tasks, tasks.map((t) => t.key));
  assert.equal(computes(s.drain()).length, 20);
});

test("a dead worker's tasks are rescheduled and its unique results recomputed", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"], 1), task("c-1", [], 2)], ["b-1", "c-1"]);
  s.drain();
  const aw = s.tasks.get("a-1")!.processingOn!.address;
  finish(s, aw, "a-1");
  s.drain();
  // b now processing on aw (locality); a held only by aw
  assert.equal(s.tasks.get("b-1")!.processingOn!.address, aw);
  s.removeWorker(aw, { expected: false, reason: "test" });
  const other = aw === "w1" ? "w2" : "w1";
  const out = s.drain();
  assert.ok(computes(out, other).includes("a-1"), "a recomputed on the survivor");
  assert.equal(s.tasks.get("b-1")!.state, "waiting");
  assert.equal(s.tasks.get("b-1")!.suspicious, 0, "b was not executing: not blamed");
  validateState(s);
});

test("only executing tasks are blamed; after allowedFailures deaths the task errs with KilledWorkerError", () => {
  const { s } = make({ allowedFailures: 1 });
  s.updateGraph("c", [task("crash-1")], ["crash-1"]);
  for (let i = 0; i < 2; i++) {
    addWorker(s, `w${i}`);
    const ts = s.tasks.get("crash-1")!;
    assert.equal(ts.state, "processing");
    s.taskStarted(`w${i}`, "crash-1", ts.runId);
    s.removeWorker(`w${i}`, { expected: false, reason: "killed" });
  }
  const ts = s.tasks.get("crash-1")!;
  assert.equal(ts.state, "erred");
  assert.equal(ts.exception!.name, "KilledWorkerError");
  const out = s.drain();
  const err = out.find((o) => o.to === "client" && o.msg.op === "key-erred");
  assert.ok(err);
  assert.match((err!.msg["error"] as { message: string }).message, /crash-1.*w1/);
});

test("a result from a stale run is never accepted", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.updateGraph("c", [task("x-1")], ["x-1"]);
  s.drain();
  const first = s.tasks.get("x-1")!.processingOn!.address;
  const staleRun = s.tasks.get("x-1")!.runId;
  s.removeWorker(first, { expected: false, reason: "partition" });
  const second = s.tasks.get("x-1")!.processingOn!.address;
  assert.notEqual(first, second);
  // the old worker rejoins and reports its old result
  addWorker(s, first);
  s.drain();
  s.taskFinished(first, { op: "task-finished", key: "x-1", runId: staleRun, nbytes: 1, type: "", start: 0, stop: 0 });
  assert.equal(s.tasks.get("x-1")!.state, "processing", "stale result ignored");
  const out = s.drain();
  assert.ok(out.some((o) => o.to === "worker" && o.address === first && o.msg.op === "free-keys"));
  finish(s, second, "x-1");
  assert.equal(s.tasks.get("x-1")!.state, "memory");
  assert.deepEqual([...s.tasks.get("x-1")!.whoHas].map((w) => w.address), [second]);
});

test("errors propagate to dependents; retries rerun a failing task", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"], 1)], ["b-1"]);
  s.drain();
  const a = s.tasks.get("a-1")!;
  s.taskErred("w1", { op: "task-erred", key: "a-1", runId: a.runId, error: { name: "RangeError", message: "bad", stack: "st" }, start: 0, stop: 0 });
  assert.equal(s.tasks.get("b-1")!.state, "erred");
  const out = s.drain();
  const e = out.find((o) => o.to === "client" && o.msg.op === "key-erred")!;
  assert.equal(e.msg["blame"], "a-1");

  const { s: s2 } = make();
  addWorker(s2, "w1");
  s2.updateGraph("c", [{ ...task("r-1"), retries: 1 }], ["r-1"]);
  s2.drain();
  const r = s2.tasks.get("r-1")!;
  s2.taskErred("w1", { op: "task-erred", key: "r-1", runId: r.runId, error: { name: "Error", message: "flaky", stack: "" }, start: 0, stop: 0 });
  assert.equal(s2.tasks.get("r-1")!.state, "processing", "retried");
  assert.deepEqual(computes(s2.drain()), ["r-1"]);
});

test("lost scattered data errs with LostDataError", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.scatter("c", "scatter-1", "w1", 8, null);
  s.updateGraph("c", [task("use-1", ["scatter-1"])], ["use-1"]);
  s.drain();
  s.removeWorker("w1", { expected: false, reason: "killed" });
  assert.equal(s.tasks.get("scatter-1")!.state, "erred");
  assert.equal(s.tasks.get("scatter-1")!.exception!.name, "LostDataError");
  assert.equal(s.tasks.get("use-1")!.state, "erred");
});

test("no workers: tasks wait as no-worker and run when one joins", () => {
  const { s } = make();
  s.updateGraph("c", [task("a-1")], ["a-1"]);
  assert.equal(s.tasks.get("a-1")!.state, "no-worker");
  addWorker(s, "w1");
  assert.deepEqual(computes(s.drain()), ["a-1"]);
});

test("heartbeat TTL removes a silent worker", () => {
  const { s, clock } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  clock.t += 5;
  s.heartbeat("w2", {});
  clock.t += 6;
  assert.deepEqual(s.checkWorkerTtl(10), ["w1"]);
  assert.deepEqual([...s.workers.keys()], ["w2"]);
});

test("cancel releases a running task and tells the worker", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("long-1")], ["long-1"]);
  s.drain();
  s.cancelKeys("c", ["long-1"]);
  const out = s.drain();
  assert.ok(out.some((o) => o.to === "client" && o.msg.op === "key-cancelled"));
  assert.ok(out.some((o) => o.to === "worker" && o.msg.op === "free-keys"));
  assert.equal(s.tasks.size, 0);
});

test("a shared subgraph submitted twice runs once", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"])], ["b-1"]);
  s.updateGraph("c", [task("a-1"), task("c-1", ["a-1"])], ["c-1"]);
  assert.deepEqual(computes(s.drain()), ["a-1"]);
  finish(s, "w1", "a-1");
  assert.deepEqual(computes(s.drain()).sort(), ["b-1", "c-1"]);
});

test("tasks that found every worker paused run when one resumes", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.heartbeat("w1", { paused: 1 });
  s.updateGraph("c", [task("a-1")], ["a-1"]);
  assert.equal(s.tasks.get("a-1")!.state, "no-worker");
  assert.deepEqual(computes(s.drain()), []);
  s.heartbeat("w1", { paused: 0 });
  assert.deepEqual(computes(s.drain()), ["a-1"]);
});

// ------------------------------------------------ issue 15: scheduler half

function frees(out: Outgoing[], address: string): string[] {
  return out.filter((o) => o.to === "worker" && o.address === address && o.msg.op === "free-keys").flatMap((o) => o.msg["keys"] as string[]);
}

test("a throwing task listener never strands a task: events are delivered after the transitions, each listener isolated", () => {
  const { s } = make();
  addWorker(s, "w1");
  const seen: string[] = [];
  s.taskListeners.push(() => {
    throw new Error("listener bug");
  });
  s.taskListeners.push((ev) => seen.push(`${ev.key}:${ev.status}:${s.tasks.get(ev.key)?.state ?? "forgotten"}`));
  s.updateGraph("c", [task("a-1"), { ...task("b-1"), retries: 0 }], ["a-1", "b-1"]);
  s.drain();
  finish(s, "w1", "a-1");
  const out = s.drain();
  assert.equal(s.tasks.get("a-1")!.state, "memory", "the task completed despite the throwing listener");
  assert.ok(out.some((o) => o.to === "client" && o.msg.op === "key-in-memory" && o.msg["key"] === "a-1"));
  const b = s.tasks.get("b-1")!;
  s.taskErred("w1", { op: "task-erred", key: "b-1", runId: b.runId, error: { name: "Error", message: "boom", stack: "" }, start: 0, stop: 0 });
  assert.equal(s.tasks.get("b-1")!.state, "erred");
  // the second listener ran, and saw the state after the transitions
  assert.deepEqual(seen, ["a-1:memory:memory", "b-1:erred:erred"]);
  validateState(s);
});

test("scattering a key that a processing task computes routes it to memory and wakes its dependents", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"], 1)], ["b-1"]);
  s.drain();
  const a = s.tasks.get("a-1")!;
  const computing = a.processingOn!.address;
  const other = computing === "w1" ? "w2" : "w1";
  s.scatter("c", "a-1", other, 8, null);
  const out = s.drain();
  assert.equal(a.state, "memory");
  assert.equal(a.processingOn, null);
  assert.deepEqual([...a.whoHas].map((w) => w.address), [other]);
  assert.ok(frees(out, computing).includes("a-1"), "the worker computing it is told to drop it");
  assert.equal(s.tasks.get("b-1")!.state, "processing", "the dependent runs");
  assert.deepEqual(computes(out, other), ["b-1"]);
  validateState(s);
});

test("scattering a key that a waiting task depends on (no thread free for it) wakes the dependent", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.heartbeat("w1", { paused: 1 });
  s.updateGraph("c", [task("x-1"), task("y-1", ["x-1"], 1)], ["y-1"]);
  assert.equal(s.tasks.get("x-1")!.state, "no-worker");
  assert.equal(s.tasks.get("y-1")!.state, "waiting");
  s.scatter("c", "x-1", "w1", 8, null);
  assert.equal(s.tasks.get("x-1")!.state, "memory");
  assert.equal(s.unrunnable.has(s.tasks.get("x-1")!), false);
  validateState(s);
  s.heartbeat("w1", { paused: 0 });
  assert.deepEqual(computes(s.drain()), ["y-1"], "y runs once a thread is free; x is never computed");
  validateState(s);
});

test("scattering a key whose computation erred replaces the error and reruns the dependents", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("e-1"), task("f-1", ["e-1"], 1)], ["f-1"]);
  s.drain();
  const e = s.tasks.get("e-1")!;
  s.taskErred("w1", { op: "task-erred", key: "e-1", runId: e.runId, error: { name: "Error", message: "boom", stack: "" }, start: 0, stop: 0 });
  assert.equal(s.tasks.get("f-1")!.state, "erred");
  s.drain();
  s.scatter("c", "e-1", "w1", 8, null);
  assert.equal(e.state, "memory");
  assert.equal(e.exception, null);
  assert.equal(s.tasks.get("f-1")!.state, "processing");
  assert.deepEqual(computes(s.drain()), ["f-1"]);
  validateState(s);
});

test("missing-data for one of several replicas drops it and tells its holder to free it", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  addWorker(s, "w3");
  s.updateGraph("c", [task("a-1")], ["a-1"]);
  s.drain();
  const a = s.tasks.get("a-1")!;
  const holder = a.processingOn!.address;
  finish(s, holder, "a-1");
  const other = holder === "w1" ? "w2" : "w1";
  s.addKeys(other, ["a-1"]);
  s.drain();
  assert.equal(a.whoHas.size, 2);
  // a third worker asked `other`, which answered that it lacks the key
  s.missingData("a-1", other, "w3");
  const out = s.drain();
  assert.equal(a.state, "memory");
  assert.deepEqual([...a.whoHas].map((w) => w.address), [holder]);
  assert.deepEqual(frees(out, other), ["a-1"], "the errant holder drops any orphan copy");
  assert.deepEqual(computes(out), []);
  validateState(s);
});

test("missing-data for the last replica recomputes the key, frees the errant copy and reruns its processing dependents", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"], 1)], ["b-1"]);
  s.drain();
  const a = s.tasks.get("a-1")!;
  const holder = a.processingOn!.address;
  finish(s, holder, "a-1", 8);
  s.drain();
  const b = s.tasks.get("b-1")!;
  assert.equal(b.state, "processing");
  const runner = b.processingOn!.address;
  const firstRun = b.runId;
  s.missingData("a-1", holder, runner === holder ? (holder === "w1" ? "w2" : "w1") : runner);
  const out = s.drain();
  assert.ok(frees(out, holder).includes("a-1"));
  assert.equal(a.state, "processing", "recomputed");
  assert.equal(computes(out).filter((k) => k === "a-1").length, 1);
  assert.equal(b.state, "waiting");
  finish(s, a.processingOn!.address, "a-1");
  assert.equal(b.state, "processing");
  assert.notEqual(b.runId, firstRun);
  validateState(s);
});

test("missing-data for the last replica of scattered data errs with LostDataError", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.scatter("c", "sc-1", "w1", 8, null);
  s.updateGraph("c", [task("use-1", ["sc-1"])], ["use-1"]);
  s.drain();
  s.missingData("sc-1", "w1", "w2");
  const out = s.drain();
  assert.equal(s.tasks.get("sc-1")!.state, "erred");
  assert.equal(s.tasks.get("sc-1")!.exception!.name, "LostDataError");
  assert.equal(s.tasks.get("use-1")!.state, "erred");
  assert.ok(frees(out, "w1").includes("sc-1"));
  validateState(s);
});

test("a worker that reports its own copy lost is not told to free it", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("a-1")], ["a-1"]);
  s.drain();
  finish(s, "w1", "a-1");
  s.drain();
  s.missingData("a-1", "w1", "w1");
  const out = s.drain();
  assert.deepEqual(frees(out, "w1"), []);
  assert.deepEqual(computes(out, "w1"), ["a-1"], "recomputed");
});

test("who-has answers from the state: the holders of keys in memory, [] for the others", () => {
  const { s } = make();
  addWorker(s, "w1");
  addWorker(s, "w2");
  s.updateGraph("c", [task("a-1"), task("b-1", [], 1)], ["a-1", "b-1"]);
  s.drain();
  const a = s.tasks.get("a-1")!;
  const holder = a.processingOn!.address;
  finish(s, holder, "a-1");
  s.addKeys(holder === "w1" ? "w2" : "w1", ["a-1"]);
  const who = whoHasKeys(s, ["a-1", "b-1", "nope", "__proto__"]);
  assert.deepEqual([...who["a-1"]!].sort(), ["w1", "w2"]);
  assert.deepEqual(who["b-1"], [], "being computed: nobody has it yet");
  assert.deepEqual(who["nope"], []);
  assert.deepEqual(Object.keys(who).sort(), ["__proto__", "a-1", "b-1", "nope"]);
});

test("every stimulus has an id from its message: compute-task carries it, a worker's task-finished id is logged", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("a-1"), task("b-1", ["a-1"], 1)], ["b-1"]);
  const out = s.drain();
  const ct = out.find((o) => o.to === "worker" && o.msg.op === "compute-task")!;
  assert.match(String(ct.msg["stimulusId"]), /^update-graph-\d+$/);
  const a = s.tasks.get("a-1")!;
  s.taskFinished("w1", { op: "task-finished", key: "a-1", runId: a.runId, nbytes: 8, type: "number", start: 0, stop: 0, stimulusId: "execute-success-w1-17" });
  const next = s.drain().find((o) => o.to === "worker" && o.msg.op === "compute-task")!;
  assert.equal(next.msg["key"], "b-1");
  assert.equal(next.msg["stimulusId"], "execute-success-w1-17", "b was assigned by a's result");
  const story = s.story(["a-1", "b-1"]);
  assert.deepEqual(story.map((e) => [e[0], e[1], e[2], e[3]]), [
    ["b-1", "released", "waiting", ct.msg["stimulusId"]],
    ["a-1", "released", "waiting", ct.msg["stimulusId"]],
    ["a-1", "waiting", "processing", ct.msg["stimulusId"]],
    ["a-1", "processing", "memory", "execute-success-w1-17"],
    ["b-1", "waiting", "processing", "execute-success-w1-17"],
  ]);
  assert.ok(story.every((e) => e[4] === 1000), "times from the injected clock");
});

test("validation checks the task after each transition and throws a typed InvariantError naming key, stimulus and story", () => {
  const { s } = make();
  addWorker(s, "w1");
  s.updateGraph("c", [task("a-1")], ["a-1"]);
  s.drain();
  const a = s.tasks.get("a-1")!;
  s.unrunnable.add(a); // corrupt: a processing task in the unrunnable set
  assert.throws(
    () => s.taskFinished("w1", { op: "task-finished", key: "a-1", runId: a.runId, nbytes: 8, type: "number", start: 0, stop: 0, stimulusId: "w-done-1" }),
    (e: unknown) =>
      e instanceof InvariantError &&
      e instanceof ShoalError &&
      e.code === "scheduler-invariant" &&
      e.retriable === false &&
      e.key === "a-1" &&
      e.stimulusId === "w-done-1" &&
      /unrunnable set but not no-worker/.test(e.message) &&
      /processing.*memory/.test(e.message),
  );
});
