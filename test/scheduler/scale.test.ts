// Scale regression guards (issue 16), in the sans-I/O tier: the simulated
// cluster of src/scheduler/simulate.ts drives the real state machine with
// fake workers that finish at once. Sizes are small for CI; the same code
// runs at 1,000 workers and 1M tasks in bench/engine/scale.ts --sim.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimulatedCluster, simulate, mapGraph, treeGraph } from "../../src/scheduler/simulate.ts";
import { validateState } from "../../src/scheduler/validate.ts";

test("a map streamed in parts over 200 workers x 8 threads runs every task once, under validation, and forgets everything after release", () => {
  const c = new SimulatedCluster(200, 8, { validate: true, transitionLogSize: 1000 });
  const tasks = mapGraph(6_000);
  const r = simulate(c, tasks, tasks.map((t) => t.key), 1_000);
  assert.equal(r.tasks, 6_000);
  assert.equal(c.state.transitionCounts["memory"], 6_000, "each task reached memory exactly once");
  assert.equal(c.state.tasks.size, 0, "released results are forgotten");
  validateState(c.state);
});

test("a tree reduction streamed in parts keeps the leaves its later parts need (held until the last part), then forgets them", () => {
  const c = new SimulatedCluster(50, 4, { validate: true, transitionLogSize: 1000 });
  const tasks = treeGraph(3_000);
  const root = tasks[tasks.length - 1]!.key;
  c.submit(tasks, [root], 700);
  c.runToCompletion();
  assert.ok(c.inMemory.has(root), "the root was computed");
  assert.equal(c.state.transitionCounts["erred"] ?? 0, 0, "no dependency went missing between parts");
  assert.equal(c.state.transitionCounts["memory"], tasks.length, "no task was computed twice");
  assert.equal(c.state.heldToRelease, 0);
  c.release([root]);
  assert.equal(c.state.tasks.size, 0);
  validateState(c.state);
});

test("placement stays cheap with many workers: 1,000 workers x 8 threads, 50k tasks, no call longer than a part's ingestion", () => {
  const c = new SimulatedCluster(1_000, 8, { transitionLogSize: 0 });
  const tasks = mapGraph(50_000);
  const r = simulate(c, tasks, tasks.map((t) => t.key), 5_000);
  // a loose bound, for a loaded CI machine (about 1 s on a quiet one)
  assert.ok(r.seconds < 20, `50k tasks took ${r.seconds.toFixed(1)} s`);
  assert.equal(c.state.transitionCounts["memory"], 50_000);
  // the least loaded running worker is on top of the pool
  validateState(c.state);
});

test("a paused worker leaves the pool and gets no root-ish tasks; resumed, it gets queued work", () => {
  const c = new SimulatedCluster(3, 1, { validate: true });
  c.state.heartbeat("sim://w0", { paused: 1 });
  assert.equal(c.state.pool.size, 2);
  const tasks = mapGraph(30);
  c.state.updateGraph("c", tasks, tasks.map((t) => t.key));
  const w0 = c.state.workers.get("sim://w0")!;
  assert.equal(w0.processing.size, 0);
  assert.ok(c.state.queued.size > 0, "the rest is queued");
  c.state.heartbeat("sim://w0", { paused: 0 });
  assert.equal(c.state.pool.size, 3);
  assert.ok(w0.processing.size > 0, "the resumed worker took queued tasks");
  validateState(c.state);
});

test("releasing the root of a 30k-task tree forgets it in slices: the stimulus stops at its budget, releaseHolds finishes the cascade", () => {
  const c = new SimulatedCluster(20, 2, { transitionLogSize: 0 });
  const tasks = treeGraph(15_000);
  const root = tasks[tasks.length - 1]!.key;
  c.submit(tasks, [root], 5_000);
  c.runToCompletion();
  c.state.clientReleasesKeys("sim-client", [root]);
  assert.ok(c.state.heldToRelease > 0, "part of the cascade was left for later");
  assert.ok(c.state.tasks.size > 0 && c.state.tasks.size < tasks.length);
  validateState(c.state);
  while (c.state.releaseHolds(1_000)) validateState(c.state, []);
  assert.equal(c.state.tasks.size, 0);
  validateState(c.state);
});
