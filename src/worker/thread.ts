/**
 * Executor thread entry: runs user task functions off the worker's event
 * loop. Receives a task (spec and dependency payloads), resolves the
 * function, calls it, and posts back the serialized result or the error.
 *
 * The thread keeps a cache of deserialized values (inputs it decoded and
 * results it produced). The executor mirrors the cache's contents and sends
 * `null` instead of a payload for a dependency the thread already holds, so
 * a chain of tasks on one worker passes values without copying or decoding.
 * Tasks must therefore not mutate their inputs (as with Dask's threads).
 *
 * A result registered as thread-resident (see `residentOf`) is not
 * serialized at all: the thread keeps it and reports only its size; the
 * worker asks for its bytes (`encode`) when they must leave the thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { resolvedFn, resolveFn } from "../code/resolve.ts";
import type { FnRef, TaskSpec } from "../code/fnref.ts";
import { deserialize, payloadBytes, serialize, type Payload } from "../protocol/serialize.ts";
import { errorToRecord } from "../utils/error-record.ts";

export interface ThreadTask {
  type: "task";
  id: number;
  key: string;
  spec: Payload;
  /** Dependency payloads; null = take the value from this thread's cache. */
  deps: [string, Payload | null][];
  /** Keep the decoded inputs in the cache. */
  cacheInputs: boolean;
  /** Keep the result in the cache (its buffers are then copied, not transferred, to the worker). */
  cacheResult: boolean;
  /** A result that can stay a thread-resident value (see below) may do so; else it is encoded now. */
  resident: boolean;
}

/** Write the bytes of the thread-resident value of `key` (the worker must hand it out). */
export interface ThreadEncode {
  type: "encode";
  id: number;
  key: string;
}

export interface ThreadEvict {
  type: "evict";
  keys: string[];
}

/** Collect garbage now (when the process runs with `--expose-gc`). */
export interface ThreadGc {
  type: "gc";
}

/**
 * A finished task. `result: null` with `resident: true`: the value stays in
 * this thread's cache, where only this thread can read it; `nbytes` is its
 * size in memory, and its bytes are written on request ({@link ThreadEncode}).
 */
export type ThreadResult =
  | { id: number; ok: true; result: Payload | null; resident?: true; nbytes: number; type: string; start: number; stop: number }
  | { id: number; ok: false; error: ReturnType<typeof errorToRecord>; start: number; stop: number };

/** Sent once, when the thread is ready for tasks (its preload, if any, done). */
export interface ThreadReady {
  ready: true;
}

/** The answer to a {@link ThreadEncode}. */
export type ThreadEncoded =
  | { encoded: true; id: number; ok: true; result: Payload; nbytes: number }
  | { encoded: true; id: number; ok: false; error: ReturnType<typeof errorToRecord> };

process.setSourceMapsEnabled(true);
const codeDir = (workerData as { codeDir: string }).codeDir;
const port = parentPort!;
const cache = new Map<string, unknown>();

/**
 * Task results that task code registered in the WeakSet at
 * `globalThis[Symbol.for("shoal.detachable")]`: byte arrays whose content the
 * task module keeps in another form (the DataFrame layer maps persisted Arrow
 * IPC bytes to their decoded frame). Such a result is transferred to the
 * worker even when this thread caches it, so the thread does not hold a
 * second copy of the bytes; the cached (now empty) object still arrives as the
 * same object in later tasks, which must look its content up by identity.
 */
function isDetachable(v: unknown): boolean {
  const set = (globalThis as Record<symbol, unknown>)[Symbol.for("shoal.detachable")];
  return set instanceof WeakSet && typeof v === "object" && v !== null && set.has(v);
}

/**
 * Task results registered in the WeakMap at
 * `globalThis[Symbol.for("shoal.resident")]` (the DataFrame layer's
 * persisted partitions): placeholders for a value that lives in this thread
 * and can write its own bytes. The thread keeps such a result instead of
 * serializing it, until the worker asks for the bytes.
 */
interface ResidentValue { nbytes: number; encode(): unknown }
function residentOf(v: unknown): ResidentValue | undefined {
  const map = (globalThis as Record<symbol, unknown>)[Symbol.for("shoal.resident")];
  return map instanceof WeakMap && typeof v === "object" && v !== null ? (map.get(v) as ResidentValue | undefined) : undefined;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "Object";
}

function transferables(p: Payload): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const seen = new Set<ArrayBufferLike>();
  for (const b of [p.header, ...p.frames]) {
    const ab = b.buffer;
    if (ab instanceof ArrayBuffer && b.byteOffset === 0 && b.byteLength === ab.byteLength && !seen.has(ab)) {
      seen.add(ab);
      out.push(ab);
    }
  }
  return out;
}

async function run(t: ThreadTask): Promise<void> {
  const start = Date.now() / 1000;
  try {
    const depMap = new Map(t.deps);
    const local = new Map<string, unknown>();
    const resolve = (key: string): unknown => {
      if (local.has(key)) return local.get(key);
      const p = depMap.get(key);
      let v: unknown;
      if (p === null) {
        if (!cache.has(key)) throw new Error(`dependency ${key} of ${t.key} is missing from the thread cache`);
        v = cache.get(key);
      } else if (p === undefined) {
        throw new Error(`dependency ${key} of ${t.key} is not available on this worker`);
      } else {
        v = deserialize(p);
        if (t.cacheInputs) cache.set(key, v);
      }
      local.set(key, v);
      return v;
    };
    // Two passes: decode without resolving (to find the function), then args.
    // functions among the arguments (FnArgs) come from this thread's function
    // cache; one not loaded yet is loaded and the spec decoded again (the
    // dependencies it decoded are in `local` by then)
    const missing: FnRef[] = [];
    const fnArg = (ref: unknown): unknown => resolvedFn(ref as FnRef) ?? (missing.push(ref as FnRef), null);
    let spec = deserialize(t.spec, resolve, fnArg) as TaskSpec;
    if (missing.length > 0) {
      for (const r of missing.splice(0)) await resolveFn(r, codeDir);
      spec = deserialize(t.spec, resolve, fnArg) as TaskSpec;
    }
    const fn = await resolveFn(spec.f, codeDir);
    let value = fn(...spec.a);
    if (value && typeof (value as Promise<unknown>).then === "function") value = await value;
    const res = residentOf(value);
    if (res && t.resident) {
      cache.set(t.key, value);
      const msg: ThreadResult = { id: t.id, ok: true, result: null, resident: true, nbytes: res.nbytes, type: typeName(value), start, stop: Date.now() / 1000 };
      port.postMessage(msg);
      releaseNative(Date.now() / 1000 - start);
      return;
    }
    if (res) value = res.encode();
    const result = serialize(value);
    const stop = Date.now() / 1000;
    const msg: ThreadResult = { id: t.id, ok: true, result, nbytes: payloadBytes(result), type: typeName(value), start, stop };
    if (t.cacheResult) {
      cache.set(t.key, value);
      if (isDetachable(value)) {
        // the task keeps what the bytes stand for (e.g. the decoded frame, keyed by this object):
        // transfer them; the cached object stays as an identity key only
        port.postMessage(msg, transferables(result));
      } else {
        // the frames are views of the cached value: copy them, transfer only the header
        port.postMessage(msg, transferables({ header: result.header, frames: [] }));
      }
    } else {
      port.postMessage(msg, transferables(result));
    }
  } catch (err) {
    const stop = Date.now() / 1000;
    const msg: ThreadResult = { id: t.id, ok: false, error: errorToRecord(err), start, stop };
    port.postMessage(msg);
  }
  releaseNative(Date.now() / 1000 - start);
}

const gcNow = (globalThis as { gc?: (o?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void }).gc;
let busySinceMajor = 0;

/**
 * Native engines (polars) free a frame's memory only when its JS wrapper is
 * collected, and V8 does not see that memory, so it does not hurry: without
 * help, the frames of finished tasks pile up (hundreds of MiB per worker in
 * the StackLite job). After a task that ran for a while (and so probably
 * made large frames), a minor collection frees the wrappers that died young
 * (sub-millisecond); after ~1 s of such tasks, a full one frees the rest.
 */
function releaseNative(seconds: number): void {
  if (!gcNow || seconds < 0.02) return;
  busySinceMajor += seconds;
  if (busySinceMajor >= 1) {
    busySinceMajor = 0;
    gcNow({ type: "major", execution: "sync" });
  } else {
    gcNow({ type: "minor", execution: "sync" });
  }
}

function encodeResident(m: ThreadEncode): void {
  try {
    const res = residentOf(cache.get(m.key));
    if (!res) throw new Error(`${m.key} is not a resident value of this thread`);
    const result = serialize(res.encode());
    const msg: ThreadEncoded = { encoded: true, id: m.id, ok: true, result, nbytes: payloadBytes(result) };
    port.postMessage(msg, transferables(result));
  } catch (err) {
    const msg: ThreadEncoded = { encoded: true, id: m.id, ok: false, error: errorToRecord(err) };
    port.postMessage(msg);
  }
}

port.on("message", (m: ThreadTask | ThreadEvict | ThreadGc | ThreadEncode) => {
  if (m.type === "encode") {
    encodeResident(m);
    return;
  }
  if (m.type === "gc") {
    (globalThis as { gc?: () => void }).gc?.();
    return;
  }
  if (m.type === "evict") {
    for (const k of m.keys) cache.delete(k);
    return;
  }
  void run(m);
});

/**
 * The `shoal` package, which most user modules import (their bundles leave it
 * external), loaded while the thread waits for its first task, so that task
 * does not wait for it (~0.25 s of CPU and ~30 MB per thread: ~150 of
 * Shoal's modules and polars; Arrow and the AWS SDK load on first use). On
 * by default when Shoal runs compiled, where the package entry shares this
 * thread's modules; off when it runs from its TypeScript sources (tests,
 * development), where it would be a second copy. Set
 * `SHOAL_THREAD_PRELOAD` to `1` or `0` to choose. The thread says it is ready
 * once the preload is done, and the worker registers after its threads are
 * ready (`Executor.ready`).
 */
const preload = process.env["SHOAL_THREAD_PRELOAD"] ?? (import.meta.url.endsWith(".js") ? "1" : "0");
const readyMsg: ThreadReady = { ready: true };
if (preload === "1") {
  const entry = "shoal"; // a variable: the compiler must not resolve it (dist may not exist yet)
  // a failed preload is not this thread's failure: a task that imports shoal reports it
  void import(entry).catch(() => undefined).then(() => port.postMessage(readyMsg));
} else {
  port.postMessage(readyMsg);
}
