/**
 * A binary min-heap, the one priority queue of the engine: the scheduler's
 * `queued` tasks and the worker's ready tasks are both ordered by priority.
 *
 * With an {@link HeapIndex}, each item records its own position in the heap
 * (the scheduler keeps it in `TaskState.heapIndex`), so `has` is O(1) and
 * `remove` of an arbitrary member is O(log n). Without one, `has` and
 * `remove` scan the heap (O(n)); push and pop are O(log n) either way.
 *
 * Sifting moves a hole instead of swapping pairs, so each level costs one
 * write (and one index update) rather than two.
 *
 * @example
 * ```ts
 * const h = new Heap<{ p: number; at: number }>((a, b) => a.p - b.p, {
 *   get: (x) => x.at,
 *   set: (x, i) => { x.at = i; },
 * });
 * const a = { p: 2, at: -1 };
 * h.push(a); h.push({ p: 1, at: -1 });
 * h.remove(a);          // O(log n)
 * h.pop();              // { p: 1, ... }
 * ```
 */

/** Where an item's heap position is kept; `set(item, -1)` means "not in the heap". */
export interface HeapIndex<T> {
  get(item: T): number;
  set(item: T, index: number): void;
}

export class Heap<T> {
  private readonly items: T[] = [];

  /**
   * @param compare negative when `a` comes out first (a min-heap by `compare`)
   * @param index optional position tracking for O(1) `has` and O(log n) `remove`
   */
  constructor(
    private readonly compare: (a: T, b: T) => number,
    private readonly index: HeapIndex<T> | null = null,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** The first item, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  has(item: T): boolean {
    if (this.index === null) return this.items.includes(item);
    const i = this.index.get(item);
    return i >= 0 && this.items[i] === item;
  }

  push(item: T): void {
    this.items.push(item);
    this.up(this.items.length - 1, item);
  }

  /** Removes and returns the first item. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  /** Removes `item` if it is in the heap (O(log n) with an index, O(n) without). */
  remove(item: T): boolean {
    const i = this.index === null ? this.items.indexOf(item) : this.index.get(item);
    if (i < 0 || this.items[i] !== item) return false;
    this.removeAt(i);
    return true;
  }

  /**
   * Restores the order after `item`'s key changed (O(log n); needs an
   * {@link HeapIndex}). Returns false when `item` is not in the heap.
   */
  update(item: T): boolean {
    if (this.index === null) throw new Error("Heap.update needs a HeapIndex");
    const i = this.index.get(item);
    if (i < 0 || this.items[i] !== item) return false;
    this.down(i, item);
    if (this.items[i] === item) this.up(i, item);
    return true;
  }

  /** The items in heap order (not sorted); do not modify. */
  values(): readonly T[] {
    return this.items;
  }

  private removeAt(i: number): void {
    const items = this.items;
    const removed = items[i]!;
    const last = items.pop()!;
    this.index?.set(removed, -1);
    if (i === items.length) return; // it was the last one
    // the last item fills the hole: it may belong further down or further up
    this.down(i, last);
    if (items[i] === last) this.up(i, last);
  }

  private place(i: number, item: T): void {
    this.items[i] = item;
    this.index?.set(item, i);
  }

  /** Moves `item`, destined for hole `i`, towards the root. */
  private up(i: number, item: T): void {
    const items = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (this.compare(item, parent) >= 0) break;
      this.place(i, parent);
      i = p;
    }
    this.place(i, item);
  }

  /** Moves `item`, destined for hole `i`, towards the leaves. */
  private down(i: number, item: T): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let child = items[l]!;
      if (r < n) {
        const right = items[r]!;
        if (this.compare(right, child) < 0) {
          c = r;
          child = right;
        }
      }
      if (this.compare(child, item) >= 0) break;
      this.place(i, child);
      i = c;
    }
    this.place(i, item);
  }
}
