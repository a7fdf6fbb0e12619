/**
 * Wire and spill format: Arrow IPC in memory, and partials that mix plain
 * values with frames.
 *
 * Measured on this machine (1M StackLite questions, 7 columns; see
 * docs/dataframe.md): polars `writeIPC` ~110 ms for ~107 MB, `readIPC` ~65 ms.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { engine, type Frame, type IpcCompression } from "./engine.ts";

/** Serialise a partition to Arrow IPC (file format) bytes. */
export function toIpc(df: Frame, opts: { compression?: IpcCompression } = {}): Buffer {
  return engine().toIpc(df, opts);
}

/**
 * Decoded frames of IPC byte objects, by object identity. Executor threads
 * cache decoded task values (a persisted partition arrives in later tasks on
 * the same thread as the *same* `Uint8Array`), so a frame remembered here
 * lives exactly as long as the thread keeps the bytes. Frames are never
 * mutated by tasks.
 */
const decoded = new WeakMap<object, Frame>();

/** Remember `df` as the decoded value of `buf` (the task that wrote `buf` from `df`). */
export function rememberDecoded(buf: Uint8Array, df: Frame): void {
  decoded.set(buf, df);
}

const DETACHABLE = Symbol.for("shoal.detachable");

/**
 * Copy `df`'s IPC bytes into a transferable buffer, remember `df` as their
 * decoded value, and mark the bytes *detachable* for the executor thread (see
 * `src/worker/thread.ts`): the thread then transfers them to the worker
 * instead of keeping a copy, and later tasks on this thread receive the same,
 * emptied, object — so every consumer of such bytes must read them with
 * {@link fromIpcCached} or {@link fromIpcKnown}. For internal partitions only
 * (never for bytes handed to user code, e.g. `toDelayed`).
 */
export function detachableIpc(buf: Buffer, df: Frame): Buffer {
  const out = Buffer.allocUnsafeSlow(buf.length);
  buf.copy(out);
  decoded.set(out, df);
  registry(DETACHABLE, () => new WeakSet<object>()).add(out);
  return out;
}

/** What a thread-resident value needs (see {@link residentFrame}). */
export interface ResidentValue {
  /** Bytes it holds in memory (for the worker's memory accounting). */
  nbytes: number;
  /** Its bytes, when they must leave the thread: a transferable Arrow IPC buffer (an array of them for {@link residentFrames}). */
  encode(): Buffer;
}

const RESIDENT = Symbol.for("shoal.resident");

/**
 * A persisted partition that stays a frame in the executor thread that made
 * it. Returns an empty placeholder that stands for the frame: the thread
 * keeps it and tells the worker only the frame's size (see
 * `src/worker/thread.ts`); the Arrow IPC bytes are written only when the
 * partition must leave the thread (a peer or the client fetches it, a task
 * on another thread needs it, it is spilled). Tasks on this thread receive
 * the placeholder and find the frame by identity ({@link fromIpcCached},
 * {@link fromIpcKnown}); elsewhere they receive the bytes. Measured on a
 * StackLite questions block: writing lz4 IPC takes ~230 ms of the ~750 ms of
 * reading it, and its bytes are a second copy held next to the frame.
 */
export function residentFrame(df: Frame, opts: { compression?: IpcCompression } = {}): Buffer {
  const placeholder = Buffer.alloc(0);
  decoded.set(placeholder, df);
  residents().set(placeholder, {
    nbytes: Math.max(1, engine().estimatedBytes(df)),
    encode: () => detachableIpc(toIpc(df, opts), df),
  });
  return placeholder;
}

/**
 * The buckets of a shuffle split, each a {@link residentFrame}, as one
 * thread-resident array: a bucket picked on this worker (`pickBucket`)
 * stays a frame, and only buckets that travel to another worker are written
 * as Arrow IPC. With one worker left (the StackLite job after the kill),
 * no shard is written at all.
 */
export function residentFrames(dfs: readonly Frame[], opts: { compression?: IpcCompression } = {}): Buffer[] {
  const out = dfs.map((df) => residentFrame(df, opts));
  const map = residents();
  map.set(out, {
    nbytes: out.reduce((a, b) => a + map.get(b)!.nbytes, 0),
    encode: () => out.map((b) => map.get(b)!.encode()) as unknown as Buffer,
  });
  return out;
}

/** What a value travels as: the bytes of a {@link residentFrame} or {@link residentFrames}, else the value itself. */
export function travelForm<T>(x: T): T {
  const r = typeof x === "object" && x !== null ? residents().get(x) : undefined;
  return r ? (r.encode() as unknown as T) : x;
}

/** A registry the executor thread reads at `globalThis[symbol]` (see `src/worker/thread.ts`). */
function registry<T extends object>(symbol: symbol, make: () => T): T {
  const g = globalThis as Record<symbol, unknown>;
  return (g[symbol] ??= make()) as T;
}

function residents(): WeakMap<object, ResidentValue> {
  return registry(RESIDENT, () => new WeakMap<object, ResidentValue>());
}

/** True when this thread remembers the decoded frame of `buf`. */
export function isDecoded(buf: Uint8Array): boolean {
  return decoded.has(buf);
}

/** The frame of `buf` if this thread remembers it, else a one-shot decode (nothing remembered). */
export function fromIpcKnown(buf: Uint8Array): Frame {
  return decoded.get(buf) ?? fromIpc(buf);
}

/**
 * {@link fromIpc} through the decoded-frame cache: for bytes that are used
 * repeatedly (persisted partitions, the broadcast side of a join). One-shot
 * bytes (shuffle shards) should use {@link fromIpc}, so that no decoded copy
 * outlives its task.
 */
export function fromIpcCached(buf: Uint8Array): Frame {
  const hit = decoded.get(buf);
  if (hit) return hit;
  const df = fromIpc(buf);
  decoded.set(buf, df);
  return df;
}

/** Read a partition from Arrow IPC bytes (file or stream format; e.g. from apache-arrow); only `columns` when given. */
export function fromIpc(buf: Uint8Array, columns?: readonly string[]): Frame {
  return engine().fromIpc(buf, columns);
}

/** True for a nodejs-polars DataFrame. */
export function isFrame(x: unknown): x is Frame {
  return typeof x === "object" && x !== null && typeof (x as { writeIPC?: unknown }).writeIPC === "function" &&
    Array.isArray((x as { columns?: unknown }).columns);
}

const FRAME_TAG = "__shoalFrameIpc";

function encode(x: unknown): unknown {
  if (isFrame(x)) return { [FRAME_TAG]: toIpc(x) };
  if (Array.isArray(x)) return x.map(encode);
  if (x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, encode(v)]));
  }
  return x;
}

function decode(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(decode);
  if (x !== null && typeof x === "object" && !ArrayBuffer.isView(x)) {
    const o = x as Record<string, unknown>;
    const ipc = o[FRAME_TAG];
    if (ipc instanceof Uint8Array) return fromIpc(ipc);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
  }
  return x;
}

/**
 * Serialise a partial (plain objects, arrays, numbers, strings, bigints, and
 * frames anywhere inside) to bytes: frames as Arrow IPC, the rest with the
 * structured-clone format (`node:v8`).
 */
export function serializePartial(partial: unknown): Buffer {
  return serialize(encode(partial));
}

/** Inverse of {@link serializePartial}. */
export function deserializePartial<T = unknown>(buf: Uint8Array): T {
  return decode(deserialize(buf)) as T;
}
