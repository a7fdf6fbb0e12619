// Tier 1: the adaptive target read from a scheduler state fed events; no sockets, no sleeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SchedulerState } from "../../src/scheduler/state.ts";
import { adaptiveTarget, workersToClose } from "../../src/scheduler/adaptive.ts";
import { serialize } from "../../src/protocol/serialize.ts";
import type { TaskMsg } from "../../src/protocol/messages.ts";

const spec = serialize({ f: { kind: "source", source: "() => 1", name: "x" }, a: [] });
const task = (key: string): TaskMsg => ({ key, spec, deps: [], order: 0 });
const addWorker = (s: SchedulerState, address: string, nthreads = 1): void =>
  s.addWorker({ address, name: address, nthreads, memoryLimit: 0, host: "h", pid: 1, keys: [] });

test("no workers: tasks waiting for one ask for workers (unknown duration 0.5 s each)", () => {
  const s = new SchedulerState({ validate: true }, () => 1000);
  assert.equal(adaptiveTarget(s).target, 0);
  s.updateGraph("c", Array.from({ length: 30 }, (_, i) => task(`inc-${i}`)), Array.from({ length: 30 }, (_, i) => `inc-${i}`));
  // 30 × 0.5 s = 15 s of work; 5 s per worker → 3 workers
  assert.deepEqual(adaptiveTarget(s, { targetDuration: 5 }), { target: 3, seconds: 15, tasks: 30, memory: 0 });
  // never more workers than tasks
  assert.equal(adaptiveTarget(s, { targetDuration: 0.01 }).target, 30);
  // 4-thread workers: a quarter as many
  assert.equal(adaptiveTarget(s, { targetDuration: 0.01, threadsPerWorker: 4 }).target, 8);
});

test("known group durations are used; idle workers are the ones to close, fewest bytes first", () => {
  const s = new SchedulerState({ validate: true }, () => 1000);
  addWorker(s, "w1");
  addWorker(s, "w2");
  addWorker(s, "w3");
  s.updateGraph("c", [task("a-1")], ["a-1"]);
  const out = s.drain();
  const w = out.find((o) => o.to === "worker" && o.msg.op === "compute-task")!;
  const address = (w as { address: string }).address;
  const ts = s.tasks.get("a-1")!;
  s.taskFinished(address, { op: "task-finished", key: "a-1", runId: ts.runId, nbytes: 1000, type: "number", start: 0, stop: 2 });
  // nothing to do: every idle worker may close; the one holding a result last
  const close = workersToClose(s, 3).map((x) => x.address);
  assert.equal(close[2], address);
  assert.equal(adaptiveTarget(s).target, 0);
  // 20 tasks of a group known to take 2 s: 40 s of work
  s.updateGraph("c", Array.from({ length: 20 }, (_, i) => task(`a-${i + 2}`)), Array.from({ length: 20 }, (_, i) => `a-${i + 2}`));
  const t = adaptiveTarget(s, { targetDuration: 5 });
  assert.equal(t.seconds, 40);
  assert.equal(t.target, 8);
});
