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
 *
 * Thread-resident results (persisted DataFrame partitions, see
 * `thread.ts`) are not caches but the only copy: the executor pins them to
 * their thread (outside the cache budget) and writes their bytes on request
 * ({@link Executor.encode}) when they must leave it; a thread that dies
 * takes them along ({@link Executor.onLost}).
 */
import { startModuleThread } from "../utils/module-thread.ts";
import type { Worker } from "node:worker_threads";
import { payloadBytes, type Payload } from "../protocol/serialize.ts";
import type { ErrorRecord } from "../protocol/messages.ts";
import type { ThreadEncode, ThreadEncoded, ThreadEvict, ThreadGc, ThreadReady, ThreadResult, ThreadTask } from "./thread.ts";

/** A finished task; `result: null` means the value stays resident in an executor thread. */
export type ExecResult =
  | { ok: true; result: Payload | null; nbytes: number; type: string; start: number; stop: number }
  | { ok: false; error: ErrorRecord; start: number; stop: number };

/** A dependency's payload, or null for a value resident in one of this executor's threads. */
export type DepPayload = Payload | null;

interface Job {
  key: string;
  spec: Payload;
  deps: [string, DepPayload][];
  resolve(r: ExecResult): void;
}

interface Slot {
  worker: Worker;
  busy: { id: number; key: string; resolve(r: ExecResult): void } | null;
  /** Mirror of the thread's cache: key → bytes, least recently used first. */
  cache: Map<string, number>;
  cacheBytes: number;
  /** Values resident in this thread (the only copy): key → bytes in memory. */
  resident: Map<string, number>;
  /** Encode requests waiting for their answer. */
  encoding: Map<number, { resolve(p: Payload): void; reject(e: Error): void }>;
  /** Settles when the thread is ready for tasks (its preload done) or has died. */
  ready: Promise<void>;
}

/** Default budget of decoded values kept per thread. */
export const DEFAULT_THREAD_CACHE_BYTES = 256 * 2 ** 20;

const THREAD_URL = new URL(import.meta.url.endsWith(".ts") ? "./thread.ts" : "./thread.js", import.meta.url);

function spawnThread(codeDir: string, env: Record<string, string>): Worker {
  return startModuleThread(THREAD_URL, { workerData: { codeDir }, env: { ...process.env, ...env, SHOAL_IN_TASK: "1" } });
}

export class Executor {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Called with the keys of resident values lost with a thread that died. */
  onLost: (keys: string[]) => void = () => undefined;
  /** Called when a resident value has been written (the worker keeps the bytes from now on). */
  onEncoded: (key: string, p: Payload) => void = () => undefined;
  private readonly encodes = new Map<string, Promise<Payload>>();
  /**
   * Settles when every thread started with the executor is ready for tasks:
   * loaded, and done with its preload (see `thread.ts`), or dead (then
   * replaced). The worker registers after it, so a registered worker runs its
   * first task without waiting for its threads.
   */
  readonly ready: Promise<void>;

  constructor(
    readonly nthreads: number,
    private readonly codeDir: string,
    private readonly env: Record<string, string> = {},
    private readonly cacheBudget = DEFAULT_THREAD_CACHE_BYTES,
  ) {
    for (let i = 0; i < nthreads; i++) this.slots.push(this.makeSlot());
    this.ready = Promise.all(this.slots.map((s) => s.ready)).then(() => undefined);
  }

  private makeSlot(): Slot {
    let isReady!: () => void;
    const ready = new Promise<void>((r) => (isReady = r));
    const slot: Slot = { worker: spawnThread(this.codeDir, this.env), busy: null, cache: new Map(), cacheBytes: 0, resident: new Map(), encoding: new Map(), ready };
    slot.worker.unref();
    slot.worker.on("message", (r: ThreadResult | ThreadEncoded | ThreadReady) => {
      if ("ready" in r) {
        isReady();
        return;
      }
      if ("encoded" in r) {
        const e = slot.encoding.get(r.id);
        slot.encoding.delete(r.id);
        if (!e) return;
        if (r.ok) e.resolve(r.result);
        else e.reject(Object.assign(new Error(r.error.message), { name: r.error.name }));
        return;
      }
      const b = slot.busy;
      if (!b || b.id !== r.id) return;
      slot.busy = null;
      b.resolve(r.ok ? { ok: true, result: r.result, nbytes: r.nbytes, type: r.type, start: r.start, stop: r.stop } : { ok: false, error: r.error, start: r.start, stop: r.stop });
      this.pump();
    });
    const onDeath = (err: Error | null): void => {
      isReady();
      if (!this.slots.includes(slot)) return; // error and exit both report a death
      const b = slot.busy;
      slot.busy = null;
      const idx = this.slots.indexOf(slot);
      if (!this.closed) this.slots[idx] = this.makeSlot();
      else this.slots.splice(idx, 1);
      for (const e of slot.encoding.values()) e.reject(new Error(`the thread holding the value died${err ? `: ${err.message}` : ""}`));
      slot.encoding.clear();
      const lost = [...slot.resident.keys()];
      slot.resident.clear();
      if (lost.length > 0 && !this.closed) this.onLost(lost);
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

  run(key: string, spec: Payload, deps: [string, DepPayload][]): Promise<ExecResult> {
    return new Promise((resolve) => {
      this.queue.push({ key, spec, deps, resolve });
      this.pump();
    });
  }

  /**
   * The bytes of a resident value, written by its thread (which keeps the
   * value, now as an ordinary cache entry: the caller stores the bytes).
   */
  encode(key: string): Promise<Payload> {
    const running = this.encodes.get(key);
    if (running) return running;
    const slot = this.slots.find((s) => s.resident.has(key));
    if (!slot) return Promise.reject(new Error(`${key} is not resident in this worker's threads`));
    const id = this.nextId++;
    const p = new Promise<Payload>((resolve, reject) => {
      slot.encoding.set(id, { resolve, reject });
      slot.worker.postMessage({ type: "encode", id, key } satisfies ThreadEncode);
    }).then((bytes) => {
      const n = slot.resident.get(key);
      if (n !== undefined && this.slots.includes(slot)) {
        slot.resident.delete(key);
        slot.cache.set(key, n);
        slot.cacheBytes += n;
        this.onEncoded(key, bytes);
        this.trim(slot, new Set());
      }
      return bytes;
    }).finally(() => this.encodes.delete(key));
    this.encodes.set(key, p);
    return p;
  }

  /** Drops `keys` from every thread cache and residence (the worker freed them). */
  forget(keys: readonly string[]): void {
    for (const slot of this.slots) {
      const evict: string[] = [];
      for (const k of keys) {
        const r = slot.resident.get(k);
        if (r !== undefined) {
          slot.resident.delete(k);
          evict.push(k);
          continue;
        }
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
    // caches only: resident values are stored data (the worker spills them through encode)
    if (opts.dropCaches) this.forget(this.heldKeys(false));
    for (const slot of this.slots) slot.worker.postMessage({ type: "gc" } satisfies ThreadGc);
  }

  /** Empties every thread cache and drops every resident value (the worker starts a new session). */
  forgetAll(): void {
    this.forget(this.heldKeys(true));
  }

  private heldKeys(withResident: boolean): string[] {
    const keys = new Set<string>();
    for (const slot of this.slots) {
      for (const k of slot.cache.keys()) keys.add(k);
      if (withResident) for (const k of slot.resident.keys()) keys.add(k);
    }
    return [...keys];
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
        for (const [k] of job.deps) held += s.resident.get(k) ?? s.cache.get(k) ?? 0;
        if (held > bestBytes) {
          best = s;
          bestBytes = held;
        }
      }
      this.dispatch(best, job);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    // inputs resident in another thread: have them written first (the slot waits, reserved)
    const foreign = job.deps.filter(([k, p]) => p === null && !slot.resident.has(k));
    if (foreign.length > 0) {
      const id = this.nextId++;
      slot.busy = { id, key: job.key, resolve: job.resolve };
      void Promise.all(foreign.map(([k]) => this.encode(k).then((p): [string, Payload] => [k, p]))).then(
        (got) => {
          if (slot.busy?.id !== id) return;
          slot.busy = null;
          const have = new Map(got);
          this.dispatch(slot, { ...job, deps: job.deps.map(([k, p]): [string, DepPayload] => [k, p ?? have.get(k) ?? null]) });
        },
        (err: Error) => {
          if (slot.busy?.id !== id) return;
          slot.busy = null;
          const now = Date.now() / 1000;
          job.resolve({ ok: false, error: { name: "LostInputError", message: `an input of ${job.key} was lost: ${err.message}`, stack: err.stack ?? "" }, start: now, stop: now });
          this.pump();
        },
      );
      return;
    }
    const id = this.nextId++;
    const deps: [string, Payload | null][] = [];
    const inputs = new Set<string>();
    const cacheOn = this.cacheBudget > 0;
    for (const [k, p] of job.deps) {
      inputs.add(k);
      if (p === null) {
        deps.push([k, null]); // resident in this thread
        continue;
      }
      const held = slot.cache.get(k);
      if (held !== undefined) {
        slot.cache.delete(k); // touch: most recently used
        slot.cache.set(k, held);
        deps.push([k, null]);
      } else {
        deps.push([k, p]);
        if (cacheOn) {
          const n = payloadBytes(p);
          slot.cache.set(k, n);
          slot.cacheBytes += n;
        }
      }
    }
    const cacheResult = cacheOn && slot.cacheBytes < this.cacheBudget;
    slot.busy = { id, key: job.key, resolve: (r) => this.afterRun(slot, job, r, cacheResult) };
    this.trim(slot, inputs);
    const t: ThreadTask = { type: "task", id, key: job.key, spec: job.spec, deps, cacheInputs: cacheOn, cacheResult, resident: cacheOn };
    slot.worker.postMessage(t);
  }

  private afterRun(slot: Slot, job: Job, r: ExecResult, cachedResult: boolean): void {
    if (r.ok && r.result === null) {
      if (this.slots.includes(slot)) slot.resident.set(job.key, r.nbytes);
      job.resolve(r);
      return;
    }
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
