// Tier 1: the worker's memory ladder (spill, pause, terminate) with an
// injected clock and RSS probe: no processes, no real memory pressure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_MEMORY_THRESHOLDS, MemoryManager, type MemoryHost } from "../../src/worker/memory.ts";

const MiB = 2 ** 20;

function host(over: Partial<MemoryHost> = {}): MemoryHost & { state: { rss: number; managed: number; t: number; spills: number[]; pauses: boolean[]; terminated: string[]; gcs: number } } {
  const state = { rss: 0, managed: 0, t: 0, spills: [] as number[], pauses: [] as boolean[], terminated: [] as string[], gcs: 0 };
  return {
    state,
    now: () => state.t,
    rss: () => state.rss,
    managedBytes: () => state.managed,
    spillTo: (b) => {
      state.spills.push(b);
      state.managed = Math.min(state.managed, b);
    },
    collectGarbage: () => {
      state.gcs++;
      state.rss -= 50 * MiB; // a collection returns some memory
    },
    setPaused: (p) => void state.pauses.push(p),
    terminate: (why) => void state.terminated.push(why),
    ...over,
  };
}

test("stored results over the target fraction are spilled down to it", () => {
  const h = host();
  const m = new MemoryManager(1000 * MiB, DEFAULT_MEMORY_THRESHOLDS, h);
  h.state.managed = 700 * MiB;
  m.spillIfNeeded();
  assert.deepEqual(h.state.spills, [600 * MiB]);
});

test("RSS over the spill fraction collects garbage at most once a second, then spills what RSS is over the target", () => {
  const h = host();
  const m = new MemoryManager(1000 * MiB, DEFAULT_MEMORY_THRESHOLDS, h);
  h.state.managed = 400 * MiB;
  h.state.rss = 800 * MiB;
  m.check();
  assert.equal(h.state.gcs, 1);
  // after the collection RSS is 750 MiB: 150 MiB over the target (600), so managed 400 -> 250
  assert.equal(h.state.spills.at(-1), 250 * MiB);
  h.state.rss = 800 * MiB;
  h.state.t = 500;
  m.check();
  assert.equal(h.state.gcs, 1, "not again within a second");
  h.state.t = 1500;
  m.check();
  assert.equal(h.state.gcs, 2);
});

test("pause above the pause fraction, resume below it, each announced once", () => {
  const h = host({ collectGarbage: undefined });
  const m = new MemoryManager(1000 * MiB, DEFAULT_MEMORY_THRESHOLDS, h);
  h.state.rss = 850 * MiB;
  m.check();
  m.check();
  assert.deepEqual(h.state.pauses, [true]);
  assert.equal(m.paused, true);
  h.state.rss = 500 * MiB;
  m.check();
  assert.deepEqual(h.state.pauses, [true, false]);
});

test("over the terminate fraction the worker asks to be restarted, once", () => {
  const h = host({ collectGarbage: undefined });
  const m = new MemoryManager(1000 * MiB, DEFAULT_MEMORY_THRESHOLDS, h);
  h.state.rss = 960 * MiB;
  m.check();
  m.check();
  assert.equal(h.state.terminated.length, 1);
  assert.match(h.state.terminated[0]!, /960 MiB is over 95% of the 1000 MiB limit/);
});

test("no limit: nothing is ever spilled, paused or terminated", () => {
  const h = host();
  const m = new MemoryManager(0, DEFAULT_MEMORY_THRESHOLDS, h);
  h.state.rss = 10_000 * MiB;
  h.state.managed = 5000 * MiB;
  m.check();
  m.spillIfNeeded();
  assert.deepEqual([h.state.spills.length, h.state.pauses.length, h.state.terminated.length, h.state.gcs], [0, 0, 0, 0]);
});
