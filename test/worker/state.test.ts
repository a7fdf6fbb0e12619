// Tier 1: the worker state machine fed events directly (no sockets, no threads).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EDGES, InvalidTransition, WorkerStateMachine, type Instruction, type WorkerEvent } from "../../src/worker/state.ts";
import { serialize } from "../../src/protocol/serialize.ts";
import type { ComputeTaskMsg } from "../../src/protocol/messages.ts";

const spec = serialize({ f: { kind: "source", source: "() => 1", name: "x" }, a: [] });

function compute(key: string, deps: Record<string, string[]> = {}, runId = 1, priority = [0, 0]): WorkerEvent {
  const d: ComputeTaskMsg["deps"] = {};
  for (const [k, who] of Object.entries(deps)) d[k] = { who, nbytes: 100 };
  return { type: "compute-task", msg: { op: "compute-task", key, spec, deps: d, priority, runId }, stimulusId: `compute-${key}-${runId}` };
}

let n = 0;
const sid = (): string => `s${++n}`;
const success = (key: string, nbytes = 1, runId = 1): WorkerEvent => ({ type: "execute-success", key, runId, nbytes, typeName: "", start: 0, stop: 0, stimulusId: sid() });
const gathered = (peer: string, got: Record<string, number>, missing: string[] = []): WorkerEvent => ({ type: "gather-success", peer, got, missing, stimulusId: sid() });
const gatherFailed = (peer: string, keys: string[]): WorkerEvent => ({ type: "gather-failure", peer, keys, stimulusId: sid() });
const free = (...keys: string[]): WorkerEvent => ({ type: "free-keys", keys, stimulusId: sid() });

const ofType = <T extends Instruction["type"]>(ins: Instruction[], t: T): Extract<Instruction, { type: T }>[] =>
  ins.filter((i) => i.type === t) as Extract<Instruction, { type: T }>[];

const machine = (nthreads = 1): WorkerStateMachine => new WorkerStateMachine({ nthreads, validate: true });

test("a ready task executes; success reports task-finished with its size and stimulus", () => {
  const w = machine();
  const ins = w.handle(compute("a"));
  assert.deepEqual(ofType(ins, "execute").map((i) => i.key), ["a"]);
  const sent = ofType(w.handle({ ...success("a", 42), stimulusId: "done-a" }), "send").map((i) => i.msg);
  assert.equal(sent[0]!.op, "task-finished");
  assert.equal(sent[0]!["nbytes"], 42);
  assert.equal(sent[0]!["stimulusId"], "done-a");
  assert.equal(w.managedBytes, 42);
});

test("threads bound concurrency and priority orders the ready queue", () => {
  const w = machine(2);
  const first = [
    ...w.handle(compute("low", {}, 1, [1, 5])),
    ...w.handle(compute("a", {}, 2, [1, 0])),
    ...w.handle(compute("b", {}, 3, [1, 1])),
    ...w.handle(compute("c", {}, 4, [1, 2])),
  ];
  assert.deepEqual(ofType(first, "execute").map((i) => i.key), ["low", "a"]);
  assert.deepEqual(ofType(w.handle(success("low")), "execute").map((i) => i.key), ["b"]);
});

test("missing inputs are fetched from a peer, batched, then the task runs", () => {
  const w = machine();
  const g = ofType(w.handle(compute("c", { a: ["tcp://p1:1"], b: ["tcp://p1:1"] })), "gather");
  assert.equal(g.length, 1);
  assert.equal(g[0]!.peer, "tcp://p1:1");
  assert.deepEqual(g[0]!.keys.sort(), ["a", "b"]);
  assert.deepEqual(ofType(w.handle(gathered("tcp://p1:1", { a: 10, b: 20 })), "execute").map((i) => i.key), ["c"]);
  const ins = w.handle(success("c", 5));
  assert.deepEqual(ofType(ins, "delete").map((i) => i.key).sort(), ["a", "b"], "fetched inputs dropped after use");
});

test("an unreachable holder is not data loss: another holder is tried, nothing is reported missing", () => {
  const w = machine();
  const g = ofType(w.handle(compute("c", { a: ["tcp://p1:1", "tcp://p2:1"] })), "gather")[0]!;
  const ins = w.handle(gatherFailed(g.peer, g.keys));
  assert.equal(ofType(ins, "send").filter((i) => i.msg.op === "missing-data").length, 0, "no missing-data for an unreachable peer");
  const retry = ofType(ins, "gather");
  assert.equal(retry.length, 1);
  assert.notEqual(retry[0]!.peer, g.peer);
});

test("when no reachable holder is left the worker asks the scheduler (with backoff) and fetches where it says", () => {
  const w = machine();
  w.handle(compute("c", { a: ["tcp://p1:1"] }));
  const ins = w.handle(gatherFailed("tcp://p1:1", ["a"]));
  assert.equal(ofType(ins, "send").length, 0);
  const ask = ofType(ins, "who-has");
  assert.deepEqual(ask.map((i) => i.keys), [["a"]]);
  assert.equal(w.tasks.get("a")!.state, "missing");
  // still unreachable: the next question waits longer
  w.handle({ type: "who-has", whoHas: { a: ["tcp://p1:1"] }, stimulusId: sid() });
  const again = ofType(w.handle(gatherFailed("tcp://p1:1", ["a"])), "who-has");
  assert.ok(again[0]!.delayMs > ask[0]!.delayMs, "backoff grows");
  // the scheduler names another holder
  const g = ofType(w.handle({ type: "who-has", whoHas: { a: ["tcp://p3:1"] }, stimulusId: sid() }), "gather");
  assert.deepEqual(g.map((i) => i.peer), ["tcp://p3:1"]);
  assert.deepEqual(ofType(w.handle(gathered("tcp://p3:1", { a: 1 })), "execute").map((i) => i.key), ["c"]);
});

test("a holder that says it lacks the key is reported (definitive), and the key waits as missing", () => {
  const w = machine();
  w.handle(compute("c", { a: ["tcp://p1:1"] }));
  const sent = ofType(w.handle(gathered("tcp://p1:1", {}, ["a"])), "send").map((i) => i.msg);
  assert.deepEqual(sent.map((m) => [m.op, m["key"], m["errant"]]), [["missing-data", "a", "tcp://p1:1"]]);
  assert.equal(w.tasks.get("a")!.state, "missing");
  assert.equal(w.tasks.get("c")!.state, "waiting");
});

test("freeing a running task cancels it; its result is discarded", () => {
  const w = machine();
  w.handle(compute("a"));
  w.handle(free("a"));
  assert.equal(w.tasks.get("a")!.state, "cancelled");
  const ins = w.handle(success("a", 9));
  assert.equal(ofType(ins, "send").length, 0, "nothing reported");
  assert.deepEqual(ofType(ins, "delete").map((i) => i.key), ["a"]);
  assert.equal(w.tasks.size, 0);
  assert.equal(w.managedBytes, 0);
});

test("cancelled while executing, then assigned again: the running execution is resumed, not restarted", () => {
  const w = machine();
  w.handle(compute("a", {}, 1));
  w.handle(free("a"));
  const ins = w.handle(compute("a", {}, 2));
  assert.equal(ofType(ins, "execute").length, 0, "not started twice");
  assert.equal(w.tasks.get("a")!.state, "executing");
  const sent = ofType(w.handle(success("a", 3, 1)), "send").map((i) => i.msg);
  assert.deepEqual(sent.map((m) => [m.op, m["runId"]]), [["task-finished", 2]], "reported for the new run");
});

test("a dependency cancelled in flight, then assigned here: resumed; its transfer's data is used", () => {
  const w = machine();
  w.handle(compute("c", { a: ["tcp://p1:1"] }));
  w.handle(free("c")); // c forgotten, a (in flight) cancelled
  assert.equal(w.tasks.get("a")!.state, "cancelled");
  w.handle(compute("a", {}, 7)); // the scheduler now wants a computed here
  assert.equal(w.tasks.get("a")!.state, "resumed");
  const sent = ofType(w.handle(gathered("tcp://p1:1", { a: 4 })), "send").map((i) => i.msg);
  assert.deepEqual(sent.map((m) => [m.op, m["key"], m["runId"]]), [["task-finished", "a", 7]]);
  assert.equal(w.tasks.get("a")!.state, "memory");
});

test("a resumed task whose transfer fails is computed here", () => {
  const w = machine();
  w.handle(compute("c", { a: ["tcp://p1:1"] }));
  w.handle(free("c"));
  w.handle(compute("a", {}, 7));
  const ins = w.handle(gatherFailed("tcp://p1:1", ["a"]));
  assert.deepEqual(ofType(ins, "execute").map((i) => [i.key, i.runId]), [["a", 7]]);
});

test("a transfer cancelled in flight drops its data on arrival", () => {
  const w = machine();
  w.handle(compute("c", { a: ["tcp://p1:1"] }));
  w.handle(free("c"));
  const ins = w.handle(gathered("tcp://p1:1", { a: 4 }));
  assert.deepEqual(ofType(ins, "delete").map((i) => i.key), ["a"]);
  assert.equal(w.tasks.size, 0);
});

test("a task error is reported with the record", () => {
  const w = machine();
  w.handle(compute("a"));
  const sent = ofType(w.handle({ type: "execute-failure", key: "a", runId: 1, error: { name: "TypeError", message: "x", stack: "s" }, start: 0, stop: 1, stimulusId: sid() }), "send").map((i) => i.msg);
  assert.equal(sent[0]!.op, "task-erred");
  assert.equal((sent[0]!["error"] as { name: string }).name, "TypeError");
});

test("paused workers start nothing until resumed", () => {
  const w = machine();
  w.handle({ type: "pause", stimulusId: sid() });
  assert.equal(ofType(w.handle(compute("a")), "execute").length, 0);
  assert.equal(ofType(w.handle({ type: "unpause", stimulusId: sid() }), "execute").length, 1);
});

test("the transition log tells a task's story with its stimulus ids, and is bounded", () => {
  const w = new WorkerStateMachine({ nthreads: 1, validate: true, transitionLogSize: 8 });
  w.handle(compute("a"));
  w.handle({ ...success("a"), stimulusId: "finish-a" });
  const story = w.story("a");
  assert.deepEqual(story.map((e) => [e[1], e[2], e[3]]), [
    ["released", "ready", "compute-a-1"],
    ["ready", "executing", "compute-a-1"],
    ["executing", "memory", "finish-a"],
  ]);
  for (let i = 0; i < 10; i++) {
    w.handle(compute(`t${i}`));
    w.handle(success(`t${i}`));
  }
  assert.equal(w.story("a").length, 0, "old entries fall out of the ring");
  assert.equal(w.story("t9").length, 3);
});

test("only edges of the table are taken; a bad one throws with the task's story", () => {
  for (const [from, tos] of Object.entries(EDGES)) for (const to of tos) assert.ok(to in EDGES, `${from} -> ${to}`);
  const w = machine();
  w.handle(compute("a"));
  const ts = w.tasks.get("a")!;
  // drive an impossible transition through the private door
  const t = (w as unknown as { transition(ts: unknown, to: string): void }).transition.bind(w);
  assert.throws(() => t(ts, "fetch"), (e: Error) => e instanceof InvalidTransition && /executing -> fetch/.test(e.message) && /released/.test(e.message));
});
