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

/** Binary values at least this large travel as their own frame. */
export const OUT_OF_BAND_BYTES = 16 * 1024;

const EXT_TASK_REF = 1;
const EXT_BINARY = 2;
const EXT_MAP = 3;
const EXT_SET = 4;
const EXT_BIGINT = 5;
const EXT_ERROR = 7;
const EXT_DATE = 8;

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
const decodeCtx: DecodeContext = { frames: [], resolve: undefined };
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
  } finally {
    encodeCtx.frames = saved;
  }
}

/**
 * Rebuilds a value from a payload. `resolve`, when given, replaces each
 * {@link TaskRef} with the value it names (the worker passes dependency results).
 */
export function deserialize(p: Payload, resolve?: (key: string) => unknown): unknown {
  // Re-entrant: `resolve` may itself deserialize a dependency.
  const savedFrames = decodeCtx.frames;
  const savedResolve = decodeCtx.resolve;
  decodeCtx.frames = p.frames;
  decodeCtx.resolve = resolve;
  try {
    return decoder.decode(p.header);
  } finally {
    decodeCtx.frames = savedFrames;
    decodeCtx.resolve = savedResolve;
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
