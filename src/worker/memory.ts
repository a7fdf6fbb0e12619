/**
 * The worker's memory manager: Dask's spill / pause / terminate ladder on
 * the process RSS, as a plain class with an injected clock, RSS probe and
 * actions, so it is unit-tested with made-up numbers (test/worker/memory.test.ts)
 * rather than switched off in tests.
 *
 * - target (0.6): stored results above this fraction of the limit are spilled
 *   least-recently-used first (on every store, and on every check)
 * - spill (0.7): RSS above it spills even when stored results are under the
 *   target (after a garbage collection at most once a second, which returns
 *   spilled buffers to the OS)
 * - pause (0.8): no new tasks start until RSS falls below it again
 * - terminate (0.95): the process asks to be restarted
 */
export interface MemoryThresholds {
  /** Spill least-recently-used results when stored results pass this fraction. */
  target: number;
  /** Spill when the process RSS passes this fraction. */
  spill: number;
  /** Stop starting tasks when RSS passes this fraction. */
  pause: number;
  /** Restart the worker when RSS passes this fraction. */
  terminate: number;
  /** How often RSS is sampled, ms. */
  intervalMs: number;
}

export const DEFAULT_MEMORY_THRESHOLDS: MemoryThresholds = { target: 0.6, spill: 0.7, pause: 0.8, terminate: 0.95, intervalMs: 100 };

/** What the manager reads and does; the worker server wires these to its store, executor and state machine. */
export interface MemoryHost {
  /** Milliseconds (monotonic or wall: only differences are used). */
  now(): number;
  /** Resident set size of the process, bytes. */
  rss(): number;
  /** Bytes of stored results held in memory. */
  managedBytes(): number;
  /** Spills until stored results in memory are at most `bytes`. */
  spillTo(bytes: number): void;
  /** A full garbage collection (and dropping caches that hold decoded values); absent = not available. */
  collectGarbage?: () => void;
  setPaused(paused: boolean, why: string): void;
  terminate(why: string): void;
}

export class MemoryManager {
  private lastGc = Number.NEGATIVE_INFINITY;
  paused = false;
  private terminating = false;

  constructor(readonly limit: number, readonly thresholds: MemoryThresholds, private readonly host: MemoryHost) {}

  /** Spill bound for stored results (called after each new result). */
  spillIfNeeded(): void {
    if (this.limit <= 0) return;
    this.host.spillTo(this.thresholds.target * this.limit);
  }

  /** One sample of the ladder. */
  check(): void {
    const limit = this.limit;
    if (limit <= 0) return;
    const m = this.thresholds;
    const h = this.host;
    let rss = h.rss();
    this.spillIfNeeded();
    if (h.collectGarbage && rss > m.spill * limit && h.now() - this.lastGc > 1000) {
      this.lastGc = h.now();
      h.collectGarbage();
      rss = h.rss();
    }
    if (rss > m.spill * limit && h.managedBytes() > 0) {
      h.spillTo(Math.max(0, h.managedBytes() - (rss - m.target * limit)));
    }
    const pause = rss > m.pause * limit;
    if (pause !== this.paused) {
      this.paused = pause;
      h.setPaused(pause, `process memory ${mib(rss)} MiB ${pause ? ">" : "<="} ${Math.round(m.pause * 100)}% of the ${mib(limit)} MiB limit`);
    }
    if (rss > m.terminate * limit && !this.terminating) {
      this.terminating = true;
      h.terminate(`process memory ${mib(rss)} MiB is over ${Math.round(m.terminate * 100)}% of the ${mib(limit)} MiB limit`);
    }
  }
}

function mib(b: number): string {
  return (b / 2 ** 20).toFixed(0);
}
