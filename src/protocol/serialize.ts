/**
 * Serialization of user values: msgpack with extensions for the JavaScript
 * types msgpack lacks (Map, Set, BigInt, typed arrays, Date, Error) and for
 * task references. Binary data of `OUT_OF_BAND_BYTES` or more is not copied
 * into the msgpack header: it becomes a separate frame that the transport
 * writes as is (zero-copy on send, a view of the receive buffer on receipt).
 */
import { Decoder, Encoder, ExtensionCodec } from "@msgpack/msgpack";

/** A serialized user value: a small msgpack header plus raw binary frames. */
export interface Payload {
  readonly header: Uint8Array;
  readonly frames: readonly Uint8Array[];
}

/** Placeholder for "the result of task `key`" inside task arguments. */
export class TaskRef {
  constructor(readonly key: string) {}
}

/**
 * Placeholder for "this function" inside task arguments: a reference to the
 * function as the code layer ships it (`FnRef`: module export, builtin, or
 * self-contained source). Workers replace it with the function itself
 * before the call (see `resolveFnArgs` in code/resolve.ts).
 */
export class FnArg {
  constructor(readonly ref: unknown) {}
}

/** How {@link registerClass} turns instances into data and back. */
export interface ClassCodec<T> {
  /** Name on the wire (default: the class's name); must be the same in every process. */
  name?: string;
  /** The data that travels (default: the instance's own enumerable fields). */
  toWire?: (value: T) => unknown;
  /** Rebuilds an instance (default: an object with the class's prototype and the fields assigned). */
  fromWire?: (data: unknown) => T;
}

interface RegisteredClass {
  name: string;
  ctor: abstract new (...args: never[]) => unknown;
  toWire: (v: unknown) => unknown;
  fromWire: (d: unknown) => unknown;
}
/**
 * The registry is per process (per thread), not per copy of this module: a
 * user module bundled for workers, or a second install of the package, may
 * carry its own copy of Shoal, and its `registerClass` must reach the
 * serializer the worker uses.
 */
const registry = ((globalThis as Record<symbol, unknown>)[Symbol.for("shoal.classRegistry")] ??= {
  byName: new Map<string, RegisteredClass>(),
  byProto: new Map<object, RegisteredClass>(),
}) as { byName: Map<string, RegisteredClass>; byProto: Map<object, RegisteredClass> };
const classesByName = registry.byName;
const classesByProto = registry.byProto;

/**
 * Lets instances of a class travel between processes as instances (methods
 * included), as Dask lets users register serializers. Call it at the top
 * level of the module that defines the class: workers import that module to
 * run its tasks, and the client imports it to call them, so both sides know
 * the class. Without it an instance arrives as a plain object (its fields
 * only), which the result types say: see {@link Wire}.
 *
 * @example
 * ```ts
 * export class Point {
 *   declare readonly [wireClass]: true;   // types: results keep their methods
 *   constructor(readonly x: number, readonly y: number) {}
 *   norm(): number { return Math.hypot(this.x, this.y); }
 * }
 * registerClass(Point);
 * ```
 */
export function registerClass<T extends object>(ctor: abstract new (...args: never[]) => T, codec: ClassCodec<T> = {}): void {
  if (typeof ctor !== "function" || typeof ctor.prototype !== "object") throw new TypeError("registerClass needs a class");
  const name = codec.name ?? ctor.name;
  if (!name) throw new TypeError("registerClass: an anonymous class needs { name }");
  // a later registration of the name wins: a worker that imports a new
  // version of the user's module (another bundle) must use the new class
  const known = classesByName.get(name);
  if (known) classesByProto.delete(known.ctor.prototype as object);
  const proto = ctor.prototype as object;
  const entry: RegisteredClass = {
    name,
    ctor,
    toWire: (codec.toWire as ((v: unknown) => unknown) | undefined) ?? ((v) => ({ ...(v as object) })),
    fromWire: (codec.fromWire as ((d: unknown) => unknown) | undefined) ?? ((d) => Object.assign(Object.create(proto) as object, d)),
  };
  classesByName.set(name, entry);
  classesByProto.set(proto, entry);
}

/**
 * Brand of classes registered with {@link registerClass}: a class that
 * declares `declare readonly [wireClass]: true` keeps its type (methods
 * included) in results; any other class instance is typed as what arrives,
 * its data fields.
 */
export const wireClass: unique symbol = Symbol.for("shoal.wireClass");

type Primitive = string | number | boolean | bigint | null | undefined | symbol;
type AnyFunction = (...args: never[]) => unknown;

/**
 * The type of a value after it crossed the wire: functions dropped, class
 * instances reduced to their data fields (unless registered and branded, see
 * {@link registerClass}); Map, Set, Date, Error, typed arrays and Buffers
 * arrive as themselves.
 */
export type Wire<T> = 0 extends 1 & T
  ? T
  : T extends Primitive
    ? T
    : T extends { readonly [wireClass]: true }
      ? T
      : T extends Date | Error | ArrayBufferView | ArrayBuffer
        ? T
        : T extends Map<infer K, infer V>
          ? Map<Wire<K>, Wire<V>>
          : T extends Set<infer V>
            ? Set<Wire<V>>
            : T extends AnyFunction
              ? never
              : T extends readonly unknown[]
                ? { [I in keyof T]: Wire<T[I]> }
                : { [K in keyof T as T[K] extends AnyFunction ? never : K]: Wire<T[K]> };

/** Binary values at least this large travel as their own frame. */
export const OUT_OF_BAND_BYTES = 16 * 1024;

const EXT_TASK_REF = 1;
const EXT_BINARY = 2;
const EXT_MAP = 3;
const EXT_SET = 4;
const EXT_BIGINT = 5;
const EXT_ERROR = 7;
const EXT_DATE = 8;
const EXT_FN = 9;
const EXT_CLASS = 10;

// Typed array kinds; index in this table is the wire code.
const VIEW_KINDS = [
  Uint8Array, Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
] as const;
const KIND_BUFFER = 254;
const KIND_ARRAYBUFFER = 255;

interface EncodeContext {
  frames: Uint8Array[];
}
interface DecodeContext {
  frames: readonly Uint8Array[];
  resolve: ((key: string) => unknown) | undefined;
  resolveFunction: ((ref: unknown) => unknown) | undefined;
}

function viewKind(v: ArrayBufferView): number {
  if (Buffer.isBuffer(v)) return KIND_BUFFER;
  for (let i = 0; i < VIEW_KINDS.length; i++) {
    if (v.constructor === VIEW_KINDS[i]) return i;
  }
  return 0;
}

function encodeBinary(kind: number, bytes: Uint8Array, ctx: EncodeContext): Uint8Array {
  if (bytes.byteLength >= OUT_OF_BAND_BYTES) {
    const idx = ctx.frames.length;
    ctx.frames.push(bytes);
    const out = new Uint8Array(6);
    out[0] = kind;
    out[1] = 1; // out of band
    new DataView(out.buffer).setUint32(2, idx, true);
    return out;
  }
  const out = new Uint8Array(2 + bytes.byteLength);
  out[0] = kind;
  out[1] = 0;
  out.set(bytes, 2);
  return out;
}

function copyBytes(b: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(b);
}

function decodeBinary(data: Uint8Array, ctx: DecodeContext): unknown {
  const kind = data[0]!;
  let bytes: Uint8Array;
  if (data[1] === 1) {
    const idx = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(2, true);
    const frame = ctx.frames[idx];
    if (frame === undefined) throw new RangeError(`payload references missing frame ${idx}`);
    bytes = frame;
  } else {
    bytes = data.subarray(2);
  }
  if (kind === KIND_BUFFER) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // copies with Uint8Array's slice: when the packet is a Node Buffer, Buffer#slice
  // is a view, and its `.buffer` is the whole pool slab (offset 0 read other bytes)
  if (kind === KIND_ARRAYBUFFER) return copyBytes(bytes).buffer;
  const Ctor = VIEW_KINDS[kind];
  if (Ctor === undefined) throw new RangeError(`unknown binary kind ${kind}`);
  const width = Ctor === DataView ? 1 : (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  let buffer: ArrayBufferLike = bytes.buffer;
  let offset = bytes.byteOffset;
  if (offset % width !== 0) {
    buffer = copyBytes(bytes).buffer;
    offset = 0;
  }
  if (Ctor === DataView) return new DataView(buffer, offset, bytes.byteLength);
  return new (Ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => unknown)(
    buffer, offset, bytes.byteLength / width,
  );
}

const codec = new ExtensionCodec<EncodeContext | DecodeContext>();

// registered classes first: one of them may extend Map, Set or Error
codec.register({
  type: EXT_CLASS,
  encode: (v, ctx) => {
    if (classesByProto.size === 0 || typeof v !== "object" || v === null) return null;
    const c = classesByProto.get(Object.getPrototypeOf(v) as object);
    return c ? nested(ctx as EncodeContext).encode([c.name, c.toWire(v)]) : null;
  },
  decode: (data, _t, ctx) => {
    const [name, fields] = nestedDecode(data, ctx as DecodeContext) as [string, unknown];
    const c = classesByName.get(name);
    if (!c) {
      throw new TypeError(
        `received an instance of class '${name}', which is not registered in this process: call registerClass(${name}) at the top level of the module that defines it, and import that module here`,
      );
    }
    return c.fromWire(fields);
  },
});
codec.register({
  type: EXT_FN,
  encode: (v, ctx) => (v instanceof FnArg ? nested(ctx as EncodeContext).encode(v.ref) : null),
  decode: (data, _t, ctx) => {
    const ref = nestedDecode(data, ctx as DecodeContext);
    const f = (ctx as DecodeContext).resolveFunction;
    return f ? f(ref) : new FnArg(ref);
  },
});

codec.register({
  type: EXT_TASK_REF,
  encode: (v) => (v instanceof TaskRef ? new TextEncoder().encode(v.key) : null),
  decode: (data, _t, ctx) => {
    const key = new TextDecoder().decode(data);
    const resolve = (ctx as DecodeContext).resolve;
    return resolve ? resolve(key) : new TaskRef(key);
  },
});
codec.register({
  type: EXT_BINARY,
  encode: (v, ctx) => {
    if (ArrayBuffer.isView(v)) {
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      return encodeBinary(viewKind(v), bytes, ctx as EncodeContext);
    }
    if (v instanceof ArrayBuffer) return encodeBinary(KIND_ARRAYBUFFER, new Uint8Array(v), ctx as EncodeContext);
    return null;
  },
  decode: (data, _t, ctx) => decodeBinary(data, ctx as DecodeContext),
});
codec.register({
  type: EXT_MAP,
  encode: (v, ctx) => {
    if (!(v instanceof Map)) return null;
    const flat: unknown[] = [];
    for (const [k, x] of v) flat.push(k, x);
    return nested(ctx as EncodeContext).encode(flat);
  },
  decode: (data, _t, ctx) => {
    const flat = nestedDecode(data, ctx as DecodeContext) as unknown[];
    const m = new Map();
    for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
    return m;
  },
});
codec.register({
  type: EXT_SET,
  encode: (v, ctx) => (v instanceof Set ? nested(ctx as EncodeContext).encode([...v]) : null),
  decode: (data, _t, ctx) => new Set(nestedDecode(data, ctx as DecodeContext) as unknown[]),
});
codec.register({
  type: EXT_BIGINT,
  encode: (v) => (typeof v === "bigint" ? new TextEncoder().encode(v.toString()) : null),
  decode: (data) => BigInt(new TextDecoder().decode(data)),
});
codec.register({
  type: EXT_ERROR,
  encode: (v, ctx) => {
    if (!(v instanceof Error)) return null;
    return nested(ctx as EncodeContext).encode([v.name, v.message, v.stack ?? ""]);
  },
  decode: (data, _t, ctx) => {
    const [name, message, stack] = nestedDecode(data, ctx as DecodeContext) as [string, string, string];
    const e = new Error(message);
    e.name = name;
    e.stack = stack;
    return e;
  },
});
codec.register({
  type: EXT_DATE,
  encode: (v) => {
    if (!(v instanceof Date)) return null;
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, v.getTime(), true);
    return out;
  },
  decode: (data) => new Date(new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true)),
});

function nested(ctx: EncodeContext): Encoder<EncodeContext> {
  return new Encoder<EncodeContext>({ extensionCodec: codec as ExtensionCodec<EncodeContext>, context: ctx });
}
function nestedDecode(data: Uint8Array, ctx: DecodeContext): unknown {
  return new Decoder<DecodeContext>({ extensionCodec: codec as ExtensionCodec<DecodeContext>, context: ctx }).decode(data);
}

const encodeCtx: EncodeContext = { frames: [] };
const encoder = new Encoder<EncodeContext>({
  extensionCodec: codec as ExtensionCodec<EncodeContext>,
  context: encodeCtx,
});
const decodeCtx: DecodeContext = { frames: [], resolve: undefined, resolveFunction: undefined };
const decoder = new Decoder<DecodeContext>({
  extensionCodec: codec as ExtensionCodec<DecodeContext>,
  context: decodeCtx,
});

/** Serializes a user value. Throws a TypeError for values that cannot travel (functions, symbols). */
export function serialize(value: unknown): Payload {
  const saved = encodeCtx.frames;
  const frames: Uint8Array[] = [];
  encodeCtx.frames = frames;
  try {
    const header = encoder.encode(checkTransferable(value));
    return { header, frames };
  } catch (err) {
    const where = err instanceof Error && /Unrecognized object/.test(err.message) ? findUnsendable(value, "value", 0) : null;
    if (where !== null) throw new TypeError(`${where}, which cannot be sent between processes`, { cause: err });
    throw err;
  } finally {
    encodeCtx.frames = saved;
  }
}

/**
 * Rebuilds a value from a payload. `resolve`, when given, replaces each
 * {@link TaskRef} with the value it names (the worker passes dependency
 * results); `resolveFunction`, each {@link FnArg} with what it returns.
 */
export function deserialize(p: Payload, resolve?: (key: string) => unknown, resolveFunction?: (ref: unknown) => unknown): unknown {
  // Re-entrant: `resolve` may itself deserialize a dependency.
  const savedFrames = decodeCtx.frames;
  const savedResolve = decodeCtx.resolve;
  const savedFn = decodeCtx.resolveFunction;
  decodeCtx.frames = p.frames;
  decodeCtx.resolve = resolve;
  decodeCtx.resolveFunction = resolveFunction;
  try {
    return decoder.decode(p.header);
  } finally {
    decodeCtx.frames = savedFrames;
    decodeCtx.resolve = savedResolve;
    decodeCtx.resolveFunction = savedFn;
  }
}

function checkTransferable(value: unknown): unknown {
  const t = typeof value;
  if (t === "function") {
    throw new TypeError(
      "a function cannot be sent as a value; pass it as the task function (client.submit(fn, ...)) or export it from a module",
    );
  }
  if (t === "symbol") throw new TypeError("a symbol cannot be sent between processes");
  return value;
}

/** Where in `value` the first thing that cannot travel is, as a path and a reason ("value.cb is a function: ..."). */
function findUnsendable(value: unknown, path: string, depth: number): string | null {
  if (depth > 100) return null;
  if (typeof value === "function") {
    return `${path} is a function (${value.name || "anonymous"}): a function travels only as a task's function or as a task argument (Shoal ships those as code), not inside a result or scattered data; send the data it needs instead`;
  }
  if (typeof value === "symbol") return `${path} is a symbol`;
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return null;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const w = findUnsendable(k, `${path} (a Map key)`, depth + 1) ?? findUnsendable(v, `${path}.get(${JSON.stringify(String(k))})`, depth + 1);
      if (w) return w;
    }
    return null;
  }
  const entries: [string, unknown][] = value instanceof Set ? [...value].map((v, i) => [`[set item ${i}]`, v]) : Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v]) : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
  for (const [k, v] of entries) {
    const w = findUnsendable(v, path + k, depth + 1);
    if (w) return w;
  }
  return null;
}

/** Total bytes of a payload (header plus frames); the engine's one payload-size function (store, data plane, executor, scheduler). */
export function payloadBytes(p: Payload): number {
  let n = p.header.byteLength;
  for (const f of p.frames) n += f.byteLength;
  return n;
}

/** Keys referenced by {@link TaskRef}s anywhere inside `value` (client side, before serializing). */
export function collectRefs(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 100 || value === null || typeof value !== "object") return;
  if (value instanceof TaskRef) {
    out.add(value.key);
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return;
  if (Array.isArray(value)) {
    for (const v of value) collectRefs(v, out, depth + 1);
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      collectRefs(k, out, depth + 1);
      collectRefs(v, out, depth + 1);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) collectRefs(v, out, depth + 1);
    return;
  }
  for (const v of Object.values(value)) collectRefs(v, out, depth + 1);
}
