/**
 * Cumulative sums and products along an axis: each chunk scans locally
 * (one task), then block k adds (multiplies) the carry of blocks 0..k-1 along
 * the axis, a chain of small tasks over the last slice of each block, as
 * Dask's cumreduction does.
 *
 * @module
 */
import { delayed } from "../graph/delayed.ts";
import { NDArray, normAxis } from "./array.ts";
import { offsets } from "./chunks.ts";
import { size, strides, type Chunk } from "./chunk.ts";
import { allocate, sumDtype, type DType } from "./dtype.ts";
import { arith } from "./elementwise.ts";
import { concatenate } from "./structure.ts";

/**
 * Task: the local scan of one chunk along `axis` in float64, stored as `dtype`.
 *
 * @example
 * ```ts
 * const c = scanChunk(chunk, 0, "sum", "float64");
 * ```
 */
export function scanChunk(c: Chunk, axis: number, op: "sum" | "prod", dtype: DType): Chunk {
  const n = size(c.shape);
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) { const v = c.data[i]!; acc[i] = typeof v === "bigint" ? Number(v) : v; }
  const st = strides(c.shape)[axis]!;
  const len = c.shape[axis]!;
  const outer = n / Math.max(1, len * st);
  for (let o = 0; o < outer; o++)
    for (let k = 1; k < len; k++) {
      const base = o * len * st + k * st;
      for (let j = 0; j < st; j++) acc[base + j] = op === "sum" ? acc[base + j]! + acc[base + j - st]! : acc[base + j]! * acc[base + j - st]!;
    }
  const out = allocate(dtype, n);
  if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(Number.isFinite(acc[i]!) ? acc[i]! : 0));
  else out.set(acc as unknown as Float64Array);
  return { dtype, shape: c.shape, data: out };
}

const scan = delayed(scanChunk, { name: "array-cumreduction" });

/**
 * `cumsum`/`cumprod` along `axis` (default: of the flattened array, as NumPy).
 *
 * @example
 * ```ts
 * cumulative(x, "sum", 1);
 * ```
 */
export function cumulative(x: NDArray, op: "sum" | "prod", axis?: number): NDArray {
  if (axis === undefined) return cumulative(x.reshape([-1]), op, 0);
  const ax = normAxis(axis, x.ndim);
  const dt = sumDtype(x.dtype);
  const local = NDArray.of(x.shape, dt, x.chunks, x.blocks().map((b) => scan(b, ax, op, dt)));
  const offs = offsets(x.chunks[ax]!);
  const sel = (s: string) => x.shape.map((_, d) => (d === ax ? s : null));
  const parts: NDArray[] = [];
  let carry: NDArray | null = null;
  for (let k = 0; k < x.chunks[ax]!.length; k++) {
    const part = local.get(...sel(`${offs[k]}:${offs[k + 1]}`));
    parts.push(carry ? arith(op === "sum" ? "add" : "mul", part, carry) : part);
    const last = local.get(...sel(`${offs[k + 1]! - 1}:${offs[k + 1]}`));
    if (offs[k + 1]! > offs[k]!) carry = carry ? arith(op === "sum" ? "add" : "mul", carry, last) : last;
  }
  return parts.length === 1 ? parts[0]! : concatenate(parts, ax);
}
