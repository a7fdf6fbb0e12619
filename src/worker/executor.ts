/**
 * A pool of worker threads that run task functions, so that user code never
 * blocks the worker's event loop (heartbeats, data serving). One task per
 * thread at a time. A thread that dies (process.exit in user code, a native
 * crash of the thread) fails its task and is replaced.
 *
 * Each thread caches decoded values up to `cacheBytes`; the executor mirrors
 * every thread's cache (least recently used first), sends a task to the idle
 * thread that already holds most of its inputs, and sends only the inputs
 * that thread lacks.
 */
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import type { Payload } from "../protocol/serialize.ts";
import type { ErrorRecord } from "../protocol/messages.ts";
import type { ThreadEvict, ThreadGc, ThreadResult, ThreadTask } from "./thread.ts";

export type ExecResult =
  | { ok: true; result: Payload; nbytes: number; type: string; start: number; stop: number }
  | { ok: false; error: ErrorRecord; start: number; stop: number };

interface Job {
  key: string;
  spec: Payload;
  deps: [string, Payload][];
  resolve(r: ExecResult): void;
}

interface Slot {
  worker: Worker;
  busy: { id: number; key: string; resolve(r: ExecResult): void } | null;
  /** Mirror of the thread's cache: key → bytes, least recently used first. */
  cache: Map<string, number>;
  cacheBytes: number;
}

/** Default budget of decoded values kept per thread. */
export const DEFAULT_THREAD_CACHE_BYTES = 256 * 2 ** 20;

const THREAD_URL = new URL(import.meta.url.endsWith(".ts") ? "./thread.ts" : "./thread.js", import.meta.url);

function spawnThread(codeDir: string, env: Record<string, string>): Worker {
  const opts = { workerData: { codeDir }, env: { ...process.env, ...env, SHOAL_IN_TASK: "1" } };
  if (THREAD_URL.href.endsWith(".ts")) {
    // Running from TypeScript sources (tests, development): load through tsx.
    const api = import.meta.resolve("tsx/esm/api");
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(THREAD_URL.href)}); })`;
    return new Worker(code, { ...opts, eval: true });
  }
  return new Worker(fileURLToPath(THREAD_URL), opts);
}

function size(p: Payload): number {
  let n = p.header.byteLength;
  for (const f of p.frames) n += f.byteLength;
  return n;
}

export class Executor {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly nthreads: number,
    private readonly codeDir: string,
    private readonly env: Record<string, string> = {},
    private readonly cacheBudget = DEFAULT_THREAD_CACHE_BYTES,
  ) {
    for (let i = 0; i < nthreads; i++) this.slots.push(this.makeSlot());
  }

  private makeSlot(): Slot {
    const slot: Slot = { worker: spawnThread(this.codeDir, this.env), busy: null, cache: new Map(), cacheBytes: 0 };
    slot.worker.unref();
    slot.worker.on("message", (r: ThreadResult) => {
      const b = slot.busy;
      if (!b || b.id !== r.id) return;
      slot.busy = null;
      b.resolve(r.ok ? { ok: true, result: r.result, nbytes: r.nbytes, type: r.type, start: r.start, stop: r.stop } : { ok: false, error: r.error, start: r.start, stop: r.stop });
      this.pump();
    });
    const onDeath = (err: Error | null): void => {
      const b = slot.busy;
      slot.busy = null;
      const idx = this.slots.indexOf(slot);
      if (idx >= 0 && !this.closed) this.slots[idx] = this.makeSlot();
      if (b) {
        const now = Date.now() / 1000;
        b.resolve({
          ok: false,
          error: { name: "ThreadDiedError", message: `the thread running ${b.key} died${err ? `: ${err.message}` : " (process.exit or a crash in the task)"}`, stack: err?.stack ?? "" },
          start: now,
          stop: now,
        });
      }
      this.pump();
    };
    slot.worker.on("error", (err) => onDeath(err));
    slot.worker.on("exit", () => onDeath(null));
    return slot;
  }

  run(key: string, spec: Payload, deps: [string, Payload][]): Promise<ExecResult> {
    return new Promise((resolve) => {
      this.queue.push({ key, spec, deps, resolve });
      this.pump();
    });
  }

  /** Drops `keys` from every thread cache (the worker freed them). */
  forget(keys: readonly string[]): void {
    for (const slot of this.slots) {
      const evict: string[] = [];
      for (const k of keys) {
        const n = slot.cache.get(k);
        if (n === undefined) continue;
        slot.cache.delete(k);
        slot.cacheBytes -= n;
        evict.push(k);
      }
      if (evict.length > 0) slot.worker.postMessage({ type: "evict", keys: evict } satisfies ThreadEvict);
    }
  }

  /**
   * Asks every thread to collect garbage (frames of native engines, such as
   * polars, are freed only when their JS wrappers are collected, and a
   * thread's heap is not collected by the process's `gc()`), after emptying
   * the thread caches when `dropCaches` (the worker is over its memory
   * limit's spill fraction).
   */
  collectGarbage(opts: { dropCaches: boolean }): void {
    if (opts.dropCaches) this.forgetAll();
    for (const slot of this.slots) slot.worker.postMessage({ type: "gc" } satisfies ThreadGc);
  }

  /** Empties every thread cache (the worker starts a new session). */
  forgetAll(): void {
    const keys = new Set<string>();
    for (const slot of this.slots) for (const k of slot.cache.keys()) keys.add(k);
    this.forget([...keys]);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((s) => !s.busy);
      if (idle.length === 0) return;
      const job = this.queue.shift()!;
      // affinity: the idle thread holding the most input bytes
      let best = idle[0]!;
      let bestBytes = -1;
      for (const s of idle) {
        let held = 0;
        for (const [k] of job.deps) held += s.cache.get(k) ?? 0;
        if (held > bestBytes) {
          best = s;
          bestBytes = held;
        }
      }
      this.dispatch(best, job);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    const id = this.nextId++;
    const deps: [string, Payload | null][] = [];
    const inputs = new Set<string>();
    const cacheOn = this.cacheBudget > 0;
    for (const [k, p] of job.deps) {
      inputs.add(k);
      const held = slot.cache.get(k);
      if (held !== undefined) {
        slot.cache.delete(k); // touch: most recently used
        slot.cache.set(k, held);
        deps.push([k, null]);
      } else {
        deps.push([k, p]);
        if (cacheOn) {
          const n = size(p);
          slot.cache.set(k, n);
          slot.cacheBytes += n;
        }
      }
    }
    const cacheResult = cacheOn && slot.cacheBytes < this.cacheBudget;
    slot.busy = { id, key: job.key, resolve: (r) => this.afterRun(slot, job, r, cacheResult) };
    this.trim(slot, inputs);
    const t: ThreadTask = { type: "task", id, key: job.key, spec: job.spec, deps, cacheInputs: cacheOn, cacheResult };
    slot.worker.postMessage(t);
  }

  private afterRun(slot: Slot, job: Job, r: ExecResult, cachedResult: boolean): void {
    // mirror the thread's decision to keep the result
    if (r.ok && cachedResult && this.slots.includes(slot)) {
      slot.cache.set(job.key, r.nbytes);
      slot.cacheBytes += r.nbytes;
      this.trim(slot, new Set());
    }
    job.resolve(r);
  }

  /** Evicts least-recently-used entries over budget, keeping `keep`. */
  private trim(slot: Slot, keep: ReadonlySet<string>): void {
    if (slot.cacheBytes <= this.cacheBudget) return;
    const evict: string[] = [];
    for (const [k, n] of slot.cache) {
      if (slot.cacheBytes <= this.cacheBudget) break;
      if (keep.has(k)) continue;
      slot.cache.delete(k);
      slot.cacheBytes -= n;
      evict.push(k);
    }
    if (evict.length > 0) slot.worker.postMessage({ type: "evict", keys: evict } satisfies ThreadEvict);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
