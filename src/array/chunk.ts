/**
 * One chunk of an array as it travels between tasks: a plain object with a
 * C-ordered typed array (the engine's serializer sends `data` as one raw
 * binary frame, never element by element).
 *
 * @module
 */
import { allocate, type DType, type TypedData } from "./dtype.ts";

/** A chunk: dtype, shape and C-ordered data. */
export interface Chunk {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** C-order strides in elements. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d]!;
  }
  return out;
}

export function emptyChunk(dtype: DType, shape: number[]): Chunk {
  return { dtype, shape, data: allocate(dtype, size(shape)) };
}

/** Reads element `i` of a chunk as a JS number (int64 through Number). */
export function getNumber(data: TypedData, i: number): number {
  const v = data[i]!;
  return typeof v === "bigint" ? Number(v) : v;
}

/** Copies `data` into a new buffer of `dtype`, converting values as NumPy's astype (floats to ints truncate). */
export function convert(data: TypedData, from: DType, to: DType): TypedData {
  if (from === to) return data;
  const n = data.length;
  const out = allocate(to, n);
  if (to === "int64") {
    const o = out as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = getNumber(data, i);
      o[i] = Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
    }
  } else if (to === "bool") {
    for (let i = 0; i < n; i++) (out as Uint8Array)[i] = getNumber(data, i) !== 0 ? 1 : 0;
  } else if (from === "int64") {
    const src = data as BigInt64Array;
    for (let i = 0; i < n; i++) (out as Float64Array)[i] = Number(src[i]!);
  } else if (to === "int32" || to === "uint8") {
    for (let i = 0; i < n; i++) (out as Int32Array)[i] = Math.trunc(data[i] as number);
  } else {
    (out as Float64Array).set(data as Float64Array);
  }
  return out;
}
