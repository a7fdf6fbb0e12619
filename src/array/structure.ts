/**
 * Structural operations: slicing (steps, negative indices, integers that
 * drop an axis), reshape (with the rechunk Dask does, so that every block
 * is a contiguous run of rows), concatenate, stack, expandDims, squeeze.
 *
 * @module
 */
import { delayed, type Delayed } from "../graph/delayed.ts";
import { takeChunk } from "./kernels.ts";
import { NDArray, T, gridSize, normAxis, ravel, rechunkTo, unravel } from "./array.ts";
import { offsets } from "./chunks.ts";
import type { Chunk } from "./chunk.ts";
import { promote } from "./dtype.ts";
import { astype } from "./elementwise.ts";
import { ArrayArgumentError, ArrayShapeError } from "./errors.ts";

/** One axis of an index: an integer, `null` (all), a `"start:stop:step"` string, or `{ start, stop, step }`. */
export type Index = number | null | string | { start?: number | null; stop?: number | null; step?: number | null };

function parseSlice(ix: Exclude<Index, number>): { start: number | null; stop: number | null; step: number | null } {
  if (ix === null) return { start: null, stop: null, step: null };
  if (typeof ix === "string") {
    const parts = ix.split(":").map((s) => s.trim());
    if (parts.length < 1 || parts.length > 3) throw new ArrayArgumentError(`bad slice '${ix}'; use "start:stop:step"`);
    const num = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));
    const r = { start: num(parts[0]), stop: parts.length === 1 ? num(parts[0]) : num(parts[1]), step: num(parts[2]) };
    if (parts.length === 1) throw new ArrayArgumentError(`bad slice '${ix}'; a single integer is given as a number`);
    if ([r.start, r.stop, r.step].some((v) => v !== null && !Number.isInteger(v))) throw new ArrayArgumentError(`bad slice '${ix}'; bounds must be integers`);
    return r;
  }
  return { start: ix.start ?? null, stop: ix.stop ?? null, step: ix.step ?? null };
}

/** Python's slice.indices(n). */
function indices(s: { start: number | null; stop: number | null; step: number | null }, n: number): [number, number, number] {
  const step = s.step ?? 1;
  if (step === 0) throw new ArrayArgumentError("slice step cannot be zero");
  const clamp = (v: number | null, dflt: number, lo: number, hi: number) => {
    if (v === null) return dflt;
    if (v < 0) v += n;
    return Math.min(Math.max(v, lo), hi);
  };
  return step > 0 ? [clamp(s.start, 0, 0, n), clamp(s.stop, n, 0, n), step] : [clamp(s.start, n - 1, -1, n - 1), clamp(s.stop, -1, -1, n - 1), step];
}

interface AxisPlan {
  /** Per output chunk: input block, local start, count. */
  parts: { ib: number; start: number; count: number }[];
  step: number;
  drop: boolean;
}

function planAxis(ix: Index, n: number, chunks: readonly number[], axis: number): AxisPlan {
  const off = offsets(chunks);
  if (typeof ix === "number") {
    if (!Number.isInteger(ix) || ix < -n || ix >= n) throw new ArrayArgumentError(`index ${ix} is out of bounds for axis ${axis} with size ${n}`);
    const g = ix < 0 ? ix + n : ix;
    const ib = off.findIndex((o, k) => k < chunks.length && g >= o && g < off[k + 1]!);
    return { parts: [{ ib, start: g - off[ib]!, count: 1 }], step: 1, drop: true };
  }
  const [start, stop, step] = indices(parseSlice(ix), n);
  const count = Math.max(0, Math.ceil((stop - start) / step));
  const parts: AxisPlan["parts"] = [];
  const order = step > 0 ? [...chunks.keys()] : [...chunks.keys()].reverse();
  for (const k of order) {
    const lo = off[k]!, hi = off[k + 1]!;
    // First selected index g = start + m*step within [lo, hi).
    let m0: number, m1: number;
    if (step > 0) { m0 = Math.max(0, Math.ceil((lo - start) / step)); m1 = Math.min(count, Math.ceil((hi - start) / step)); }
    else { m0 = Math.max(0, Math.ceil((start - (hi - 1)) / -step)); m1 = Math.min(count, Math.floor((start - lo) / -step) + 1); }
    if (m1 > m0) parts.push({ ib: k, start: start + m0 * step - lo, count: m1 - m0 });
  }
  if (parts.length === 0) parts.push({ ib: 0, start: 0, count: 0 });
  return { parts, step, drop: false };
}

/**
 * NumPy basic indexing: `x.get(0, "1:10:2", null)`; missing trailing axes are taken whole.
 *
 * @example
 * ```ts
 * const y = x.get("::-1", 3);
 * ```
 */
export function getItem(x: NDArray, ...idx: Index[]): NDArray {
  if (idx.length > x.ndim) throw new ArrayArgumentError(`too many indices for an array of ${x.ndim} dimensions: ${idx.length} were given`);
  const plans = x.shape.map((n, d) => planAxis(idx[d] ?? null, n, x.chunks[d]!, d));
  const ogrid = plans.map((p) => p.parts.length);
  const src = x.blocks();
  const blocks: Delayed<Chunk>[] = [];
  const keep = plans.map((p) => !p.drop);
  for (let i = 0; i < gridSize(ogrid); i++) {
    const ob = unravel(i, ogrid);
    const parts = ob.map((b, d) => plans[d]!.parts[b]!);
    const count = parts.map((p) => p.count);
    const outShape = count.filter((_, d) => keep[d]);
    const s = T.slice(src[ravel(parts.map((p) => p.ib), x.numblocks)]!, parts.map((p) => p.start), plans.map((p) => p.step), count);
    blocks.push(outShape.length === count.length ? s : T.reshape(s, outShape));
  }
  const chunks = plans.filter((p) => !p.drop).map((p) => p.parts.map((q) => q.count));
  return NDArray.of(chunks.map((c) => c.reduce((a, b) => a + b, 0)), x.dtype, chunks, blocks);
}

const takeTask = delayed(takeChunk, { name: "array-take" });

/**
 * Integer-array indexing along one axis (NumPy's `take`; negative indices
 * count from the end): runs of indices that fall in the same block become one output chunk.
 *
 * @example
 * ```ts
 * x.take([4, 0, -1], 1);
 * ```
 */
export function take(x: NDArray, indices: readonly number[], axis = 0): NDArray {
  const ax = normAxis(axis, x.ndim);
  const n = x.shape[ax]!;
  const off = offsets(x.chunks[ax]!);
  const runs: { ib: number; idx: number[] }[] = [];
  for (const i0 of indices) {
    if (!Number.isInteger(i0) || i0 < -n || i0 >= n) throw new ArrayArgumentError(`index ${i0} is out of bounds for axis ${ax} with size ${n}`);
    const g = i0 < 0 ? i0 + n : i0;
    const ib = off.findIndex((o, k) => k < x.chunks[ax]!.length && g >= o && g < off[k + 1]!);
    const last = runs[runs.length - 1];
    if (last && last.ib === ib) last.idx.push(g - off[ib]!);
    else runs.push({ ib, idx: [g - off[ib]!] });
  }
  if (runs.length === 0) return getItem(x, ...x.shape.map((_, d) => (d === ax ? "0:0" : null)));
  const chunks = x.chunks.map((c, d) => (d === ax ? runs.map((r) => r.idx.length) : [...c]));
  const grid = chunks.map((c) => c.length);
  const src = x.blocks();
  const blocks: Delayed<Chunk>[] = [];
  for (let i = 0; i < gridSize(grid); i++) {
    const b = unravel(i, grid);
    const run = runs[b[ax]!]!;
    blocks.push(takeTask(src[ravel(b.map((k, d) => (d === ax ? run.ib : k)), x.numblocks)]!, ax, run.idx));
  }
  return NDArray.of(chunks.map((c) => c.reduce((p, q) => p + q, 0)), x.dtype, chunks, blocks);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Reshape in C order. Blocks become contiguous runs of whole rows (a
 * rechunk that keeps the first axis's chunking where it can), so every
 * output block is one input block with a new shape.
 *
 * @example
 * ```ts
 * const y = x.reshape([-1, 4]);
 * ```
 */
export function reshape(x: NDArray, shape: readonly number[]): NDArray {
  const n = x.size;
  const unknown = shape.filter((s) => s === -1).length;
  if (unknown > 1) throw new ArrayArgumentError("can only specify one unknown dimension (-1)");
  const known = shape.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
  const target = shape.map((s) => (s === -1 ? (known === 0 ? 0 : n / known) : s));
  if (target.reduce((a, b) => a * b, 1) !== n || target.some((s) => !Number.isInteger(s) || s < 0)) throw new ArrayShapeError(`cannot reshape array of size ${n} (shape (${x.shape.join(", ")})) into shape (${shape.join(", ")})`);
  if (target.length === x.ndim && target.every((s, d) => s === x.shape[d])) return x;
  if (n === 0 || x.ndim === 0 || target.length === 0) {
    const y = x.rechunk(x.shape.map(() => -1));
    return NDArray.of(target, x.dtype, target.map((s) => [s]), [T.reshape(y.blocks()[0]!, target)]);
  }
  const R = n / x.shape[0]!;
  const R2 = n / target[0]!;
  const lcm = (R * R2) / gcd(R, R2);
  const unitRows = lcm / R; // input rows per unit (a multiple of whole output rows)
  const want = Math.max(1, Math.round(Math.max(...x.chunks[0]!) / unitRows)) * unitRows;
  const rows: number[] = [];
  for (let s = 0; s < x.shape[0]!; s += want) rows.push(Math.min(want, x.shape[0]! - s));
  const y = rechunkTo(x, [rows, ...x.shape.slice(1).map((s) => [s])]);
  const outRows = rows.map((r) => (r * R) / R2);
  const blocks = y.blocks().map((b, i) => T.reshape(b, [outRows[i]!, ...target.slice(1)]));
  return NDArray.of(target, x.dtype, [outRows, ...target.slice(1).map((s) => [s])], blocks);
}

/**
 * Joins arrays along an existing axis (dtypes promoted, other chunks unified).
 *
 * @example
 * ```ts
 * const z = concatenate([x, y], 0);
 * ```
 */
export function concatenate(arrs: readonly NDArray[], axis = 0): NDArray {
  if (arrs.length === 0) throw new ArrayArgumentError("need at least one array to concatenate");
  const first = arrs[0]!;
  const ax = normAxis(axis, first.ndim);
  for (const a of arrs) {
    if (a.ndim !== first.ndim || a.shape.some((s, d) => d !== ax && s !== first.shape[d])) throw new ArrayShapeError(`all the input array dimensions except for the concatenation axis must match exactly: (${first.shape.join(", ")}) and (${a.shape.join(", ")}) along axis ${ax}`);
  }
  const dt = arrs.map((a) => a.dtype).reduce(promote);
  const casted = arrs.map((a) => astype(a, dt));
  const ref = casted[0]!;
  const aligned = casted.map((a) => (a.chunks.every((c, d) => d === ax || c.join() === ref.chunks[d]!.join()) ? a : rechunkTo(a, a.chunks.map((c, d) => (d === ax ? [...c] : [...ref.chunks[d]!])))));
  const chunks = ref.chunks.map((c, d) => (d === ax ? aligned.flatMap((a) => a.chunks[ax]!) : [...c]));
  const grid = chunks.map((c) => c.length);
  const blocks: Delayed<Chunk>[] = [];
  const starts = offsets(aligned.map((a) => a.numblocks[ax]!));
  for (let i = 0; i < gridSize(grid); i++) {
    const b = unravel(i, grid);
    const k = starts.findIndex((s, j) => j < aligned.length && b[ax]! >= s && b[ax]! < starts[j + 1]!);
    const a = aligned[k]!;
    const local = b.map((x, d) => (d === ax ? x - starts[k]! : x));
    blocks.push(a.blocks()[ravel(local, a.numblocks)]!);
  }
  return NDArray.of(chunks.map((c) => c.reduce((p, q) => p + q, 0)), dt, chunks, blocks);
}

/**
 * Inserts an axis of length 1.
 *
 * @example
 * ```ts
 * expandDims(x, 0); // (1, ...x.shape)
 * ```
 */
export function expandDims(x: NDArray, axis: number): NDArray {
  const ax = normAxis(axis, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  const chunks = x.chunks.map((c) => [...c]);
  chunks.splice(ax, 0, [1]);
  const grid = chunks.map((c) => c.length);
  const blocks = x.blocks().map((b, i) => T.reshape(b, unravel(i, grid).map((k, d) => chunks[d]![k]!)));
  return NDArray.of(shape, x.dtype, chunks, blocks);
}

/**
 * Removes axes of length 1 (all, or the given one).
 *
 * @example
 * ```ts
 * squeeze(x); // (3, 1, 4) -> (3, 4)
 * ```
 */
export function squeeze(x: NDArray, axis?: number): NDArray {
  const axes = axis === undefined ? [...x.shape.keys()].filter((d) => x.shape[d] === 1) : [normAxis(axis, x.ndim)];
  for (const a of axes) if (x.shape[a] !== 1) throw new ArrayShapeError(`cannot select an axis to squeeze out which has size not equal to one (axis ${a} of shape (${x.shape.join(", ")}))`);
  if (axes.length === 0) return x;
  const keep = (d: number) => !axes.includes(d);
  const chunks = x.chunks.filter((_, d) => keep(d)).map((c) => [...c]);
  const grid = x.numblocks;
  const blocks = x.blocks().map((b, i) => T.reshape(b, unravel(i, grid).map((k, d) => x.chunks[d]![k]!).filter((_, d) => keep(d))));
  return NDArray.of(x.shape.filter((_, d) => keep(d)), x.dtype, chunks, blocks);
}

/**
 * Joins arrays of the same shape along a new axis.
 *
 * @example
 * ```ts
 * stack([x, y], 0); // (2, ...x.shape)
 * ```
 */
export function stack(arrs: readonly NDArray[], axis = 0): NDArray {
  if (arrs.length === 0) throw new ArrayArgumentError("need at least one array to stack");
  const s = arrs[0]!.shape;
  for (const a of arrs) if (a.shape.join() !== s.join()) throw new ArrayShapeError(`all input arrays must have the same shape: (${s.join(", ")}) and (${a.shape.join(", ")})`);
  return concatenate(arrs.map((a) => expandDims(a, axis)), axis);
}
