/**
 * Task functions of `shoal/array` that make, cut, join and multiply chunks.
 * They run on worker threads as builtin tasks; their arguments and results
 * are {@link Chunk}s, whose data travels as raw frames.
 *
 * @module
 */
import { allocate, type DType } from "./dtype.ts";
import { convert, getNumber, size, strides, type Chunk } from "./chunk.ts";
import { resolveUser } from "../bag/user-fn.ts";
import { blasDgemm } from "./blas.ts";
import type { FnRef } from "../code/fnref.ts";

/** How a creation task fills its chunk. */
export type Fill =
  | { k: "full"; v: number }
  | { k: "arange"; start: number; step: number }
  | { k: "eye"; k2: number }
  | { k: "random"; seed: number; dist: "uniform" | "normal" | "integers"; a: number; b: number; gshape: number[] };

// A counter-based generator: the value at a global flat index depends only on
// the seed and the index, so results do not depend on the chunking.
function mix(seed: number, i: number, stream: number): number {
  let h1 = (seed ^ 0x9e3779b9) >>> 0;
  let h2 = (Math.floor(i / 4294967296) ^ (stream * 0x85ebca6b)) >>> 0;
  let x = (i >>> 0) ^ h1;
  for (let r = 0; r < 4; r++) {
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) ^ h2;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    x ^= x >>> 16;
    h2 = Math.imul(h2 ^ r, 0x27d4eb2d) + x;
    h1 = (h1 + 0x6d2b79f5) | 0;
    x ^= h1;
  }
  return x >>> 0;
}

function uniform53(seed: number, i: number, stream: number): number {
  const hi = mix(seed, i, stream * 2) >>> 5;
  const lo = mix(seed, i, stream * 2 + 1) >>> 6;
  return (hi * 67108864 + lo) / 9007199254740992;
}

/**
 * Task: a new chunk at `off` (per axis) of `shape`, filled as `fill` says.
 *
 * @example
 * ```ts
 * const c = createChunk({ k: "full", v: 1 }, "float64", [2, 2], [0, 0]);
 * ```
 */
export function createChunk(fill: Fill, dtype: DType, shape: number[], off: number[]): Chunk {
  const n = size(shape);
  const tmp = new Float64Array(n);
  if (fill.k === "full") tmp.fill(fill.v);
  else if (fill.k === "arange") for (let i = 0; i < n; i++) tmp[i] = fill.start + (off[0]! + i) * fill.step;
  else if (fill.k === "eye") {
    const [r, c] = shape as [number, number];
    for (let i = 0; i < r; i++) {
      const j = off[0]! + i + fill.k2 - off[1]!;
      if (j >= 0 && j < c) tmp[i * c + j] = 1;
    }
  } else {
    const gst = strides(fill.gshape);
    const st = strides(shape);
    for (let i = 0; i < n; i++) {
      let g = 0, rem = i;
      for (let d = 0; d < shape.length; d++) {
        const q = Math.floor(rem / st[d]!);
        rem -= q * st[d]!;
        g += (q + off[d]!) * gst[d]!;
      }
      if (fill.dist === "uniform") tmp[i] = fill.a + (fill.b - fill.a) * uniform53(fill.seed, g, 0);
      else if (fill.dist === "integers") tmp[i] = fill.a + Math.floor(uniform53(fill.seed, g, 0) * (fill.b - fill.a));
      else {
        const u1 = 1 - uniform53(fill.seed, g, 0), u2 = uniform53(fill.seed, g, 1);
        tmp[i] = fill.a + fill.b * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      }
    }
  }
  return { dtype, shape, data: convert(tmp, "float64", dtype) };
}

/**
 * Task: the part of a chunk from `start` by `step` (`count` elements per axis).
 *
 * @example
 * ```ts
 * const c = sliceChunk(chunk, [0, 5], [1, -1], [3, 4]);
 * ```
 */
export function sliceChunk(c: Chunk, start: number[], step: number[], count: number[]): Chunk {
  const nd = c.shape.length;
  const out = allocate(c.dtype, size(count));
  if (out.length === 0) return { dtype: c.dtype, shape: count, data: out };
  const st = strides(c.shape);
  const idx = new Array<number>(nd).fill(0);
  const src = c.data as Float64Array, dst = out as Float64Array;
  let base = 0;
  for (let d = 0; d < nd; d++) base += start[d]! * st[d]!;
  if (nd === 0) { dst[0] = src[0]!; return { dtype: c.dtype, shape: [], data: out }; }
  const last = count[nd - 1]!, ls = step[nd - 1]! * st[nd - 1]!;
  const rows = out.length / last;
  let o = 0;
  for (let r = 0; r < rows; r++) {
    let b = base;
    for (let d = 0; d < nd - 1; d++) b += idx[d]! * step[d]! * st[d]!;
    if (ls === 1) { dst.set(src.subarray(b, b + last), o); o += last; }
    else for (let j = 0; j < last; j++) dst[o++] = src[b + j * ls]!;
    for (let d = nd - 2; d >= 0; d--) { if (++idx[d]! < count[d]!) break; idx[d] = 0; }
  }
  return { dtype: c.dtype, shape: count, data: out };
}

/**
 * Task: one chunk of `shape` made of pieces placed at offsets (rechunk,
 * concatenate); pieces are converted to `dtype`.
 *
 * @example
 * ```ts
 * const c = assemble([a, b], [[0, 0], [0, 3]], [2, 6], "float64");
 * ```
 */
export function assemble(pieces: Chunk[], offs: number[][], shape: number[], dtype: DType): Chunk {
  const out = allocate(dtype, size(shape));
  const ost = strides(shape);
  const nd = shape.length;
  pieces.forEach((p, k) => {
    const data = convert(p.data, p.dtype, dtype) as Float64Array;
    const n = data.length;
    if (n === 0) return;
    if (nd === 0) { (out as Float64Array)[0] = data[0]!; return; }
    const off = offs[k]!;
    const last = p.shape[nd - 1]!;
    const idx = new Array<number>(nd).fill(0);
    for (let i = 0; i < n; i += last) {
      let b = 0;
      for (let d = 0; d < nd; d++) b += (idx[d]! + off[d]!) * ost[d]!;
      (out as Float64Array).set(data.subarray(i, i + last), b);
      for (let d = nd - 2; d >= 0; d--) { if (++idx[d]! < p.shape[d]!) break; idx[d] = 0; }
    }
  });
  return { dtype, shape, data: out };
}

/**
 * Task: a chunk with its axes permuted.
 *
 * @example
 * ```ts
 * const t = transposeChunk(c, [1, 0]);
 * ```
 */
export function transposeChunk(c: Chunk, perm: number[]): Chunk {
  const shape = perm.map((p) => c.shape[p]!);
  const n = size(shape);
  const out = allocate(c.dtype, n);
  const ist = strides(c.shape);
  const pst = perm.map((p) => ist[p]!);
  const nd = shape.length;
  const src = c.data as Float64Array, dst = out as Float64Array;
  if (nd === 2) {
    const [R, C] = shape as [number, number];
    const [s0, s1] = pst as [number, number];
    const B = 32;
    for (let i0 = 0; i0 < R; i0 += B)
      for (let j0 = 0; j0 < C; j0 += B)
        for (let i = i0; i < Math.min(R, i0 + B); i++)
          for (let j = j0; j < Math.min(C, j0 + B); j++) dst[i * C + j] = src[i * s0 + j * s1]!;
    return { dtype: c.dtype, shape, data: out };
  }
  const idx = new Array<number>(nd).fill(0);
  for (let o = 0; o < n; o++) {
    let b = 0;
    for (let d = 0; d < nd; d++) b += idx[d]! * pst[d]!;
    dst[o] = src[b]!;
    for (let d = nd - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
  return { dtype: c.dtype, shape, data: out };
}

/**
 * Task: the same data with a new shape (C order; sizes must agree).
 *
 * @example
 * ```ts
 * const r = reshapeChunk(c, [6]);
 * ```
 */
export function reshapeChunk(c: Chunk, shape: number[]): Chunk {
  return { dtype: c.dtype, shape, data: c.data };
}

/**
 * Task: sum over k of a[i,k] @ b[k,j] for blocks of one output block, in float64
 * (OpenBLAS's dgemm through koffi where it loads, else cache-blocked i-k-j JS loops; see blas.ts).
 *
 * @example
 * ```ts
 * const c = matmulBlocks([a0, a1], [b0, b1], "float64");
 * ```
 */
export function matmulBlocks(as: Chunk[], bs: Chunk[], dtype: DType): Chunk {
  const m = as[0]!.shape[0]!, n = bs[0]!.shape[1]!;
  const acc = new Float64Array(m * n);
  for (let t = 0; t < as.length; t++) {
    const a = as[t]!, b = bs[t]!;
    const kk = a.shape[1]!;
    const A = a.data instanceof Float64Array ? a.data : (convert(a.data, a.dtype, "float64") as Float64Array);
    const B = b.data instanceof Float64Array ? b.data : (convert(b.data, b.dtype, "float64") as Float64Array);
    const blas = blasDgemm();
    if (blas) {
      if (m > 0 && n > 0 && kk > 0) blas(101, 111, 111, m, n, kk, 1, A, kk, B, n, 1, acc, n);
      continue;
    }
    const KB = 256, JB = 512;
    for (let k0 = 0; k0 < kk; k0 += KB) {
      const k1 = Math.min(kk, k0 + KB);
      for (let j0 = 0; j0 < n; j0 += JB) {
        const j1 = Math.min(n, j0 + JB);
        for (let i = 0; i < m; i++) {
          const ro = i * n;
          for (let k = k0; k < k1; k++) {
            const av = A[i * kk + k]!;
            if (av === 0) continue;
            const bo = k * n;
            for (let j = j0; j < j1; j++) acc[ro + j] = acc[ro + j]! + av * B[bo + j]!;
          }
        }
      }
    }
  }
  return { dtype, shape: [m, n], data: convert(acc, "float64", dtype) };
}

/**
 * Task: a user function over chunks (mapBlocks). It receives each input as
 * `{ data, shape, dtype }` and the block index, and returns a chunk or a typed array of `shape`.
 *
 * @example
 * ```ts
 * const c = await mapBlocksTask(ref, [chunk], [0, 1], "float64", [2, 2]);
 * ```
 */
export async function mapBlocksTask(ref: FnRef, ins: Chunk[], block: number[], dtype: DType, shape: number[]): Promise<Chunk> {
  const fn = await resolveUser<(...a: unknown[]) => unknown>(ref);
  const r = (await fn(...ins, { block })) as Chunk | ArrayBufferView;
  if (ArrayBuffer.isView(r)) return { dtype, shape, data: convert(r as Float64Array, dtypeOfView(r), dtype) };
  return { dtype: r.dtype ?? dtype, shape: r.shape, data: r.data };
}

function dtypeOfView(v: ArrayBufferView): DType {
  return v instanceof Float64Array ? "float64" : v instanceof Float32Array ? "float32" : v instanceof Int32Array ? "int32" : v instanceof BigInt64Array ? "int64" : "uint8";
}

/**
 * Task: the chunk's slices at local indices `idx` along `axis`, in that order (integer indexing).
 *
 * @example
 * ```ts
 * const c = takeChunk(chunk, 0, [3, 1, 1]);
 * ```
 */
export function takeChunk(c: Chunk, axis: number, idx: number[]): Chunk {
  const shape = c.shape.map((n, d) => (d === axis ? idx.length : n));
  const out = allocate(c.dtype, size(shape));
  const st = strides(c.shape)[axis]!;
  const len = c.shape[axis]!;
  const outer = size(c.shape) / Math.max(1, len * st);
  const src = c.data as Float64Array, dst = out as Float64Array;
  let o = 0;
  for (let r = 0; r < outer; r++)
    for (const k of idx) {
      const b = r * len * st + k * st;
      dst.set(src.subarray(b, b + st), o);
      o += st;
    }
  return { dtype: c.dtype, shape, data: out };
}

/** Task: a chunk passed through (wraps a persisted Future). */
export function passChunk(c: Chunk): Chunk {
  return c;
}

export { getNumber };
