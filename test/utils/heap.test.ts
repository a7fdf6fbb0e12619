// The generic priority heap (scheduler queue, worker ready queue): random
// operations against a sorted reference, with and without position tracking.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Heap, type HeapIndex } from "../../src/utils/heap.ts";
import { TaskHeap } from "../../src/scheduler/heap.ts";

interface Item {
  p: number;
  id: number;
  at: number;
}
const cmp = (a: Item, b: Item): number => a.p - b.p || a.id - b.id;
const tracked: HeapIndex<Item> = { get: (x) => x.at, set: (x, i) => void (x.at = i) };

/** A small seeded generator, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

for (const withIndex of [true, false]) {
  test(`heap ${withIndex ? "with" : "without"} an index agrees with a sorted reference under push/pop/remove`, () => {
    const rand = rng(withIndex ? 1 : 2);
    for (let round = 0; round < 50; round++) {
      const items: Item[] = Array.from({ length: 40 }, (_, id) => ({ p: Math.floor(rand() * 10), id, at: -1 }));
      const h = new Heap<Item>(cmp, withIndex ? tracked : null);
      const ref = new Set<Item>();
      for (let op = 0; op < 400; op++) {
        const x = items[Math.floor(rand() * items.length)]!;
        const r = rand();
        if (r < 0.45) {
          if (!h.has(x)) {
            h.push(x);
            ref.add(x);
          }
        } else if (r < 0.7) {
          assert.equal(h.remove(x), ref.delete(x));
        } else {
          const want = [...ref].sort(cmp)[0];
          assert.equal(h.peek(), want);
          assert.equal(h.pop(), want);
          if (want) ref.delete(want);
        }
        assert.equal(h.size, ref.size);
        for (const y of items) assert.equal(h.has(y), ref.has(y));
        if (withIndex) for (const y of items) assert.equal(y.at >= 0, ref.has(y), "index kept in step");
      }
    }
  });
}

test("TaskHeap keeps TaskState.heapIndex: O(1) has, removal of any member, -1 once out", () => {
  const h = new TaskHeap();
  const tasks = [3, 1, 2].map((p) => ({ priority: [p, 0], heapIndex: -1 })) as never[];
  for (const t of tasks) h.push(t);
  const [t3, t1, t2] = tasks as unknown as { heapIndex: number }[];
  assert.ok(t1!.heapIndex >= 0 && h.has(tasks[1]!));
  h.remove(tasks[1]!);
  assert.equal(t1!.heapIndex, -1);
  assert.equal(h.pop(), tasks[2]);
  assert.equal(t2!.heapIndex, -1);
  assert.equal(h.pop(), tasks[0]);
  assert.equal(t3!.heapIndex, -1);
  assert.equal(h.size, 0);
});
