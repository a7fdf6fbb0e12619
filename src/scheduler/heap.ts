/** Min-heap of queued tasks by priority, with removal of arbitrary members. */
import type { TaskState } from "./model.ts";

import { comparePriority } from "../protocol/keys.ts";
export { comparePriority };

export class TaskHeap {
  private items: TaskState[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): TaskState | undefined {
    return this.items[0];
  }

  has(ts: TaskState): boolean {
    return ts.heapIndex >= 0 && this.items[ts.heapIndex] === ts;
  }

  push(ts: TaskState): void {
    ts.heapIndex = this.items.length;
    this.items.push(ts);
    this.up(ts.heapIndex);
  }

  pop(): TaskState | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  remove(ts: TaskState): void {
    if (this.has(ts)) this.removeAt(ts.heapIndex);
  }

  values(): readonly TaskState[] {
    return this.items;
  }

  private removeAt(i: number): void {
    const last = this.items.pop()!;
    const removed = i < this.items.length ? this.items[i]! : last;
    removed.heapIndex = -1;
    if (i < this.items.length) {
      this.items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  private less(i: number, j: number): boolean {
    return comparePriority(this.items[i]!.priority, this.items[j]!.priority) < 0;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
