/**
 * Executor thread entry: runs user task functions off the worker's event
 * loop. Receives a task (spec and dependency payloads), resolves the
 * function, calls it, and posts back the serialized result or the error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { resolveFn } from "../code/resolve.ts";
import type { TaskSpec } from "../code/fnref.ts";
import { deserialize, payloadBytes, serialize, type Payload } from "../protocol/serialize.ts";
import { errorToRecord } from "../utils/error-record.ts";

export interface ThreadTask {
  id: number;
  key: string;
  spec: Payload;
  deps: [string, Payload][];
}

export type ThreadResult =
  | { id: number; ok: true; result: Payload; nbytes: number; type: string; start: number; stop: number }
  | { id: number; ok: false; error: ReturnType<typeof errorToRecord>; start: number; stop: number };

process.setSourceMapsEnabled(true);
const codeDir = (workerData as { codeDir: string }).codeDir;
const port = parentPort!;

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
    const cache = new Map<string, unknown>();
    const resolve = (key: string): unknown => {
      if (cache.has(key)) return cache.get(key);
      const p = depMap.get(key);
      if (p === undefined) throw new Error(`dependency ${key} of ${t.key} is not available on this worker`);
      const v = deserialize(p);
      cache.set(key, v);
      return v;
    };
    // Two passes: decode without resolving (to find the function), then args.
    const spec = deserialize(t.spec, resolve) as TaskSpec;
    const fn = await resolveFn(spec.f, codeDir);
    let value = fn(...spec.a);
    if (value && typeof (value as Promise<unknown>).then === "function") value = await value;
    const result = serialize(value);
    const stop = Date.now() / 1000;
    const msg: ThreadResult = { id: t.id, ok: true, result, nbytes: payloadBytes(result), type: typeName(value), start, stop };
    port.postMessage(msg, transferables(result));
  } catch (err) {
    const stop = Date.now() / 1000;
    const msg: ThreadResult = { id: t.id, ok: false, error: errorToRecord(err), start, stop };
    port.postMessage(msg);
  }
}

port.on("message", (t: ThreadTask) => {
  void run(t);
});
