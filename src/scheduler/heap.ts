/**
 * The scheduler's two heaps, both the generic {@link Heap} with positions
 * kept in the items (O(1) `has`, O(log n) `remove` and `update`):
 * {@link TaskHeap}, the queue of root-ish tasks waiting for a slot, by task
 * priority; {@link WorkerHeap}, the running workers by load.
 */
import type { TaskState, WorkerState } from "./model.ts";
import { comparePriority } from "../protocol/keys.ts";
import { Heap, type HeapIndex } from "../utils/heap.ts";
export { comparePriority };

const byPriority = (a: TaskState, b: TaskState): number => a.generation - b.generation || a.order - b.order;
/** Positions kept in the items' own `heapIndex` field (tasks and workers both have one). */
function ownIndex<T extends { heapIndex: number }>(): HeapIndex<T> {
  return {
    get: (x) => x.heapIndex,
    set: (x, i) => {
      x.heapIndex = i;
    },
  };
}

export class TaskHeap extends Heap<TaskState> {
  constructor() {
    super(byPriority, ownIndex<TaskState>());
  }
}

const byLoad = (a: WorkerState, b: WorkerState): number =>
  a.processing.size / a.nthreads - b.processing.size / b.nthreads || a.occupancy / a.nthreads - b.occupancy / b.nthreads;

/**
 * The running workers, least loaded first (tasks assigned per thread, then
 * expected seconds of work per thread): placement of a task that has no
 * inputs to follow reads the top in O(1), and every assignment or finished
 * task re-sorts one worker in O(log W), instead of scanning all workers per
 * decision. Paused and closing workers are not in it.
 */
export class WorkerHeap extends Heap<WorkerState> {
  constructor() {
    super(byLoad, ownIndex<WorkerState>());
  }
}
