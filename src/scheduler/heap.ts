/**
 * The scheduler's queue of root-ish tasks waiting for a slot: the generic
 * {@link Heap} ordered by task priority, with each task's position kept in
 * `TaskState.heapIndex` (O(1) `has`, O(log n) `remove` of any member).
 */
import type { TaskState } from "./model.ts";
import { comparePriority } from "../protocol/keys.ts";
import { Heap, type HeapIndex } from "../utils/heap.ts";
export { comparePriority };

const byPriority = (a: TaskState, b: TaskState): number => comparePriority(a.priority, b.priority);
const heapIndex: HeapIndex<TaskState> = {
  get: (ts) => ts.heapIndex,
  set: (ts, i) => {
    ts.heapIndex = i;
  },
};

export class TaskHeap extends Heap<TaskState> {
  constructor() {
    super(byPriority, heapIndex);
  }
}
