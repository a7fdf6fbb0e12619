/**
 * Fixed-size ring buffers for the dashboard's task stream. Appending is the
 * only thing the dashboard does on the scheduler's task hot path: a handful
 * of array stores, no allocation, no lookups. Readers copy out slices by
 * sequence number.
 */

/** Kind of a task-stream entry. */
export const StreamKind = { memory: 0, erred: 1, transfer: 2 } as const;
export type StreamKind = (typeof StreamKind)[keyof typeof StreamKind];

/** One task-stream entry as served to pages (times in seconds since the epoch). */
export interface StreamEntry {
  seq: number;
  key: string;
  worker: string;
  group: string;
  start: number;
  stop: number;
  kind: "memory" | "erred" | "transfer";
  /** Bytes moved (transfers only). */
  nbytes?: number;
}

const KIND_NAMES = ["memory", "erred", "transfer"] as const;

/**
 * A ring of task-stream entries stored as parallel arrays.
 *
 * @example
 * ```ts
 * const ring = new StreamRing(1024);
 * ring.push("inc-1", "tcp://127.0.0.1:4000", "inc", 1.0, 1.1, StreamKind.memory, 0);
 * ring.since(0, 100); // [{ seq: 0, key: "inc-1", ... }]
 * ```
 */
export class StreamRing {
  /** Sequence number the next entry will get (= entries ever pushed). */
  head = 0;
  private readonly keys: string[];
  private readonly workers: string[];
  private readonly groups: string[];
  private readonly starts: Float64Array;
  private readonly stops: Float64Array;
  private readonly kinds: Uint8Array;
  private readonly bytes: Float64Array;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.keys = new Array<string>(capacity).fill("");
    this.workers = new Array<string>(capacity).fill("");
    this.groups = new Array<string>(capacity).fill("");
    this.starts = new Float64Array(capacity);
    this.stops = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.bytes = new Float64Array(capacity);
  }

  /** Appends one entry, overwriting the oldest when full. */
  push(key: string, worker: string, group: string, start: number, stop: number, kind: StreamKind, nbytes: number): void {
    const i = this.head % this.capacity;
    this.keys[i] = key;
    this.workers[i] = worker;
    this.groups[i] = group;
    this.starts[i] = start;
    this.stops[i] = stop;
    this.kinds[i] = kind;
    this.bytes[i] = nbytes;
    this.head++;
  }

  /** Oldest sequence number still held. */
  get tail(): number {
    return Math.max(0, this.head - this.capacity);
  }

  /** Calls `fn` for each held entry with sequence >= `seq` (oldest first), without allocating entries. */
  scan(seq: number, fn: (key: string, worker: string, group: string, start: number, stop: number, kind: StreamKind, nbytes: number) => void): void {
    for (let s = Math.max(seq, this.tail); s < this.head; s++) {
      const i = s % this.capacity;
      fn(this.keys[i]!, this.workers[i]!, this.groups[i]!, this.starts[i]!, this.stops[i]!, this.kinds[i]! as StreamKind, this.bytes[i]!);
    }
  }

  /** Entries with sequence >= `seq`, at most the newest `max` of them. */
  since(seq: number, max: number, filter?: (worker: string) => boolean): StreamEntry[] {
    const out: StreamEntry[] = [];
    const from = Math.max(seq, this.tail, filter ? this.tail : this.head - max);
    for (let s = from; s < this.head; s++) {
      const i = s % this.capacity;
      const worker = this.workers[i]!;
      if (filter && !filter(worker)) continue;
      const e: StreamEntry = { seq: s, key: this.keys[i]!, worker, group: this.groups[i]!, start: this.starts[i]!, stop: this.stops[i]!, kind: KIND_NAMES[this.kinds[i]!]! };
      if (this.kinds[i] === StreamKind.transfer) e.nbytes = this.bytes[i]!;
      out.push(e);
    }
    return out.length > max ? out.slice(out.length - max) : out;
  }
}
