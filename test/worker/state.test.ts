// Tier 1: the worker state machine fed events directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerStateMachine, type Instruction } from "../../src/worker/state.ts";
import { serialize } from "../../src/protocol/serialize.ts";
import type { ComputeTaskMsg } from "../../src/protocol/messages.ts";

const spec = serialize({ f: { kind: "source", source: "() => 1", name: "x" }, a: [] });

function compute(key: string, deps: Record<string, string[]> = {}, runId = 1, priority = [0, 0]): ComputeTaskMsg {
  const d: ComputeTaskMsg["deps"] = {};
  for (const [k, who] of Object.entries(deps)) d[k] = { who, nbytes: 100 };
  return { op: "compute-task", key, spec, deps: d, priority, runId };
}

const ofType = <T extends Instruction["type"]>(ins: Instruction[], t: T): Extract<Instruction, { type: T }>[] =>
  ins.filter((i) => i.type === t) as Extract<Instruction, { type: T }>[];

test("a ready task executes; success reports task-finished with its size", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.computeTask(compute("a"));
  const ins = w.drain();
  assert.deepEqual(ofType(ins, "execute").map((i) => i.key), ["a"]);
  w.executeSuccess("a", 1, { nbytes: 42, type: "number", start: 1, stop: 2 });
  const sent = ofType(w.drain(), "send").map((i) => i.msg);
  assert.equal(sent[0]!.op, "task-finished");
  assert.equal(sent[0]!["nbytes"], 42);
  assert.equal(w.managedBytes, 42);
});

test("threads bound concurrency and priority orders the ready queue", () => {
  const w = new WorkerStateMachine({ nthreads: 2 });
  w.computeTask(compute("low", {}, 1, [1, 5]));
  w.computeTask(compute("a", {}, 2, [1, 0]));
  w.computeTask(compute("b", {}, 3, [1, 1]));
  w.computeTask(compute("c", {}, 4, [1, 2]));
  const first = ofType(w.drain(), "execute").map((i) => i.key);
  assert.deepEqual(first, ["low", "a"]);
  w.executeSuccess("low", 1, { nbytes: 1, type: "", start: 0, stop: 0 });
  assert.deepEqual(ofType(w.drain(), "execute").map((i) => i.key), ["b"]);
});

test("missing inputs are fetched from a peer, batched, then the task runs", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.computeTask(compute("c", { a: ["tcp://p1:1"], b: ["tcp://p1:1"] }));
  const g = ofType(w.drain(), "gather");
  assert.equal(g.length, 1);
  assert.equal(g[0]!.peer, "tcp://p1:1");
  assert.deepEqual(g[0]!.keys.sort(), ["a", "b"]);
  w.gatherSuccess("tcp://p1:1", { a: 10, b: 20 }, []);
  assert.deepEqual(ofType(w.drain(), "execute").map((i) => i.key), ["c"]);
  w.executeSuccess("c", 1, { nbytes: 5, type: "", start: 0, stop: 0 });
  const ins = w.drain();
  assert.deepEqual(ofType(ins, "delete").map((i) => i.key).sort(), ["a", "b"], "fetched inputs dropped after use");
});

test("a failed transfer tries another holder and reports the missing replica", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.computeTask(compute("c", { a: ["tcp://p1:1", "tcp://p2:1"] }));
  const g = ofType(w.drain(), "gather")[0]!;
  w.gatherFailure(g.peer, g.keys);
  const ins = w.drain();
  const sent = ofType(ins, "send").map((i) => i.msg);
  assert.ok(sent.some((m) => m.op === "missing-data" && m["errant"] === g.peer));
  const retry = ofType(ins, "gather");
  assert.equal(retry.length, 1);
  assert.notEqual(retry[0]!.peer, g.peer);
});

test("a peer without the key marks it missing when no holder is left", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.computeTask(compute("c", { a: ["tcp://p1:1"] }));
  w.drain();
  w.gatherSuccess("tcp://p1:1", {}, ["a"]);
  assert.equal(w.tasks.get("a")!.state, "missing");
  assert.equal(w.tasks.get("c")!.state, "waiting");
});

test("freeing a running task cancels it; its result is discarded", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.computeTask(compute("a"));
  w.drain();
  w.freeKeys(["a"]);
  assert.equal(w.tasks.get("a")!.state, "cancelled");
  w.executeSuccess("a", 1, { nbytes: 9, type: "", start: 0, stop: 0 });
  const ins = w.drain();
  assert.equal(ofType(ins, "send").length, 0, "nothing reported");
  assert.deepEqual(ofType(ins, "delete").map((i) => i.key), ["a"]);
  assert.equal(w.tasks.size, 0);
  assert.equal(w.managedBytes, 0);
});

test("a task error is reported with the record", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.computeTask(compute("a"));
  w.drain();
  w.executeFailure("a", { name: "TypeError", message: "x", stack: "s" }, 0, 1);
  const sent = ofType(w.drain(), "send").map((i) => i.msg);
  assert.equal(sent[0]!.op, "task-erred");
  assert.equal((sent[0]!["error"] as { name: string }).name, "TypeError");
});

test("paused workers start nothing until resumed", () => {
  const w = new WorkerStateMachine({ nthreads: 1 });
  w.setPaused(true);
  w.computeTask(compute("a"));
  assert.equal(ofType(w.drain(), "execute").length, 0);
  w.setPaused(false);
  assert.equal(ofType(w.drain(), "execute").length, 1);
});
