/**
 * The lazy chunked array: shape, dtype and chunks per axis, and a source
 * that is either a grid of chunk tasks or a fused elementwise expression
 * over other arrays (materialized as one task per output chunk).
 *
 * @module
 */
import { Client, wait } from "../client/client.ts";
import { delayed, type Delayed } from "../graph/delayed.ts";
import { computeAll } from "../bag/execute.ts";
import { shipUser } from "../bag/user-fn.ts";
import { normalizeChunks, offsets, refine, sameChunks, type ChunksSpec } from "./chunks.ts";
import { size, type Chunk } from "./chunk.ts";
import { type DType, type TypedData } from "./dtype.ts";
import { ArrayArgumentError, ArrayShapeError } from "./errors.ts";
import { ewChunk, type Expr } from "./ew.ts";
import * as E from "./elementwise.ts";
import type { Operand } from "./elementwise.ts";
import * as R from "./reductions.ts";
import type { ReduceOptions, VarOptions } from "./reductions.ts";
import * as S from "./structure.ts";
import type { Index } from "./structure.ts";
import * as L from "./linalg.ts";
import * as C from "./scan.ts";
import { assemble, mapBlocksTask, passChunk, reshapeChunk, sliceChunk, transposeChunk } from "./kernels.ts";

/** Where to compute: a client, `"inline"` for this process, or the default (the current client, else this process). */
export interface ComputeOptions {
  client?: Client | "inline";
}

/** A computed array: C-ordered data and its shape. */
export interface LocalArray {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

type Source = { k: "blocks"; blocks: Delayed<Chunk>[] } | { k: "ew"; expr: Expr; leaves: NDArray[] };

export const T = {
  ew: delayed(ewChunk, { name: "array-ew" }),
  slice: delayed(sliceChunk, { name: "array-getitem" }),
  assemble: delayed(assemble, { name: "array-rechunk" }),
  transpose: delayed(transposeChunk, { name: "array-transpose" }),
  reshape: delayed(reshapeChunk, { name: "array-reshape" }),
  pass: delayed(passChunk, { name: "array-persist" }),
};

/** Block index (per axis) of flat block `i` of a grid. */
export function unravel(i: number, grid: readonly number[]): number[] {
  const out = new Array<number>(grid.length);
  for (let d = grid.length - 1; d >= 0; d--) {
    out[d] = i % grid[d]!;
    i = Math.floor(i / grid[d]!);
  }
  return out;
}

export function ravel(idx: readonly number[], grid: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < grid.length; d++) i = i * grid[d]! + idx[d]!;
  return i;
}

const gridSize = (g: readonly number[]) => g.reduce((a, b) => a * b, 1);

/** A lazy, chunked n-dimensional array (dask.array's Array). */
export class NDArray {
  private cached: Delayed<Chunk>[] | null = null;

  /** @internal use the creation functions. */
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly chunks: readonly (readonly number[])[],
    /** @internal */ readonly src: Source,
  ) {}

  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    return size(this.shape as number[]);
  }
  /** Blocks per axis. */
  get numblocks(): number[] {
    return this.chunks.map((c) => c.length);
  }

  /** @internal the chunk tasks, C order over the block grid. */
  blocks(): Delayed<Chunk>[] {
    if (this.cached) return this.cached;
    if (this.src.k === "blocks") return (this.cached = this.src.blocks);
    const { expr } = this.src;
    return (this.cached = this.ewInputs().map(({ ins, shape }) => T.ew(expr, ins, shape)));
  }

  /** @internal for an elementwise array: per output block, the input chunk tasks and the block shape. */
  ewInputs(): { ins: Delayed<Chunk>[]; shape: number[] }[] {
    if (this.src.k !== "ew") throw new Error("internal: ewInputs of a non-elementwise array");
    const { leaves } = this.src;
    const grid = this.numblocks;
    const nd = this.ndim;
    const out: { ins: Delayed<Chunk>[]; shape: number[] }[] = [];
    const lb = leaves.map((l) => l.blocks());
    for (let i = 0; i < gridSize(grid); i++) {
      const b = unravel(i, grid);
      const ins = leaves.map((l, k) => {
        const off = nd - l.ndim;
        const li = l.shape.map((n, d) => (n === 1 && this.shape[d + off] !== 1 ? 0 : b[d + off]!));
        return lb[k]![ravel(li, l.numblocks)]!;
      });
      out.push({ ins, shape: b.map((x, d) => this.chunks[d]![x]!) });
    }
    return out;
  }

  /** @internal an array over new blocks. */
  static of(shape: readonly number[], dtype: DType, chunks: readonly (readonly number[])[], blocks: Delayed<Chunk>[]): NDArray {
    return new NDArray([...shape], dtype, chunks.map((c) => [...c]), { k: "blocks", blocks });
  }

  /**
   * Computes the array and returns it as one local array.
   *
   * @example
   * ```ts
   * const { data, shape } = await da.ones([4, 4], { chunks: 2 }).compute();
   * ```
   */
  async compute(opts: ComputeOptions = {}): Promise<LocalArray> {
    const parts = await computeAll<Chunk>(this.blocks(), opts.client);
    return gatherLocal(this, parts);
  }

  /** The computed data as a typed array (C order). */
  async toTyped(opts: ComputeOptions = {}): Promise<TypedData> {
    return (await this.compute(opts)).data;
  }

  /**
   * Computes the chunks and keeps them on the workers (with a client) or in
   * this process; later arrays built on the result start from there.
   *
   * @example
   * ```ts
   * const y = await x.add(1).persist();
   * ```
   */
  async persist(opts: ComputeOptions = {}): Promise<NDArray> {
    const target = opts.client === "inline" ? null : (opts.client ?? Client.current());
    if (target) {
      const futs = target.persist(this.blocks());
      await wait(futs);
      // each chunk task holds its Future, so the cluster keeps the data while any array built on it lives
      const blocks = futs.map((f) => Object.assign(T.pass(f as never), { future: f }));
      return NDArray.of(this.shape, this.dtype, this.chunks, blocks);
    }
    const parts = await computeAll<Chunk>(this.blocks(), "inline");
    return NDArray.of(this.shape, this.dtype, this.chunks, parts.map((p) => T.pass(p)));
  }

  /**
   * The same values with new chunks.
   *
   * @example
   * ```ts
   * const y = x.rechunk([1000, -1]);
   * ```
   */
  rechunk(spec: ChunksSpec): NDArray {
    const chunks = normalizeChunks(spec, this.shape, this.dtype);
    if (chunks.every((c, d) => sameChunks(c, this.chunks[d]!))) return this;
    return rechunkTo(this, chunks);
  }

  /**
   * Applies `fn` to every block; `fn` gets the chunks `{ data, shape, dtype }`
   * and `{ block }`, and returns a chunk or a typed array. With `chunks`
   * omitted, output blocks have the input's shape.
   *
   * @example
   * ```ts
   * const y = x.mapBlocks((c) => c.data.map((v) => v * 2));
   * ```
   */
  mapBlocks(fn: (c: LocalArray, info: { block: number[] }) => LocalArray | TypedData | Promise<LocalArray | TypedData>, opts: { dtype?: DType; chunks?: number[][] } = {}): NDArray {
    const { ref, code } = shipUser(fn as never);
    const task = delayed(mapBlocksTask, { name: "array-mapblocks", code });
    const chunks = opts.chunks ?? this.chunks.map((c) => [...c]);
    const shape = chunks.map((c) => c.reduce((a, b) => a + b, 0));
    const dtype = opts.dtype ?? this.dtype;
    const grid = this.numblocks;
    const blocks = this.blocks().map((b, i) => {
      const idx = unravel(i, grid);
      return task(ref, [b], idx, dtype, idx.map((x, d) => chunks[d]![x] ?? 0));
    });
    return NDArray.of(shape, dtype, chunks, blocks);
  }

  /**
   * Permutes axes (reversed by default).
   *
   * @example
   * ```ts
   * x.transpose([1, 0, 2]);
   * ```
   */
  transpose(axes?: readonly number[]): NDArray {
    const perm = axes ? axes.map((a) => normAxis(a, this.ndim)) : [...this.shape.keys()].reverse();
    if (perm.length !== this.ndim || new Set(perm).size !== perm.length) throw new ArrayArgumentError(`axes (${axes?.join(", ")}) do not permute ${this.ndim} axes`);
    const grid = this.numblocks;
    const ngrid = perm.map((p) => grid[p]!);
    const src = this.blocks();
    const blocks: Delayed<Chunk>[] = [];
    for (let i = 0; i < gridSize(ngrid); i++) {
      const ni = unravel(i, ngrid);
      const oi = new Array<number>(this.ndim);
      perm.forEach((p, d) => (oi[p] = ni[d]!));
      blocks.push(T.transpose(src[ravel(oi, grid)]!, perm));
    }
    return NDArray.of(perm.map((p) => this.shape[p]!), this.dtype, perm.map((p) => this.chunks[p]!), blocks);
  }

  /** The transpose. */
  get T(): NDArray {
    return this.transpose();
  }

  /** Swaps two axes. */
  swapaxes(a: number, b: number): NDArray {
    const p = [...this.shape.keys()];
    const x = normAxis(a, this.ndim), y = normAxis(b, this.ndim);
    [p[x], p[y]] = [p[y]!, p[x]!];
    return this.transpose(p);
  }

  // Elementwise (NumPy broadcasting and promotion; fused into one loop per chunk).
  /** `this + b` */ add(b: Operand): NDArray { return E.arith("add", this, b); }
  /** `this - b` */ sub(b: Operand): NDArray { return E.arith("sub", this, b); }
  /** `this * b` */ mul(b: Operand): NDArray { return E.arith("mul", this, b); }
  /** `this / b` (true division) */ div(b: Operand): NDArray { return E.divide(this, b); }
  /** `this // b` */ floordiv(b: Operand): NDArray { return E.arith("floordiv", this, b); }
  /** `this % b` (sign of the divisor, as NumPy) */ mod(b: Operand): NDArray { return E.arith("mod", this, b); }
  /** `this ** b` */ pow(b: Operand): NDArray { return E.arith("pow", this, b); }
  /** np.maximum (NaN propagates) */ maximum(b: Operand): NDArray { return E.arith("maximum", this, b); }
  /** np.minimum */ minimum(b: Operand): NDArray { return E.arith("minimum", this, b); }
  /** `==` */ eq(b: Operand): NDArray { return E.compare("eq", this, b); }
  /** `!=` */ ne(b: Operand): NDArray { return E.compare("ne", this, b); }
  /** `<` */ lt(b: Operand): NDArray { return E.compare("lt", this, b); }
  /** `<=` */ le(b: Operand): NDArray { return E.compare("le", this, b); }
  /** `>` */ gt(b: Operand): NDArray { return E.compare("gt", this, b); }
  /** `>=` */ ge(b: Operand): NDArray { return E.compare("ge", this, b); }
  /** logical and */ and(b: Operand): NDArray { return E.logical("and", this, b); }
  /** logical or */ or(b: Operand): NDArray { return E.logical("or", this, b); }
  /** logical xor */ xor(b: Operand): NDArray { return E.logical("xor", this, b); }
  /** logical not */ not(): NDArray { return E.predicate("not", this); }
  /** `-this` */ neg(): NDArray { return E.unary("neg", this); }
  abs(): NDArray { return E.unary("abs", this); }
  sqrt(): NDArray { return E.unary("sqrt", this); }
  exp(): NDArray { return E.unary("exp", this); }
  log(): NDArray { return E.unary("log", this); }
  sin(): NDArray { return E.unary("sin", this); }
  cos(): NDArray { return E.unary("cos", this); }
  /** Any unary ufunc by name (tan, tanh, log1p, expm1, log2, log10, floor, ceil, trunc, rint, sign, square, reciprocal, arcsin...). */
  ufunc(name: string): NDArray { return E.unary(name, this); }
  isnan(): NDArray { return E.predicate("isnan", this); }
  isfinite(): NDArray { return E.predicate("isfinite", this); }
  isinf(): NDArray { return E.predicate("isinf", this); }
  clip(lo: Operand | null, hi: Operand | null): NDArray { return E.clip(this, lo, hi); }
  nanToNum(opts: { nan?: number; posinf?: number; neginf?: number } = {}): NDArray { return E.nanToNum(this, opts); }
  astype(dt: DType): NDArray { return E.astype(this, dt); }

  // Reductions (tree reductions; see reductions.ts).
  sum(o: ReduceOptions = {}): NDArray { return R.reduce(this, "sum", o); }
  prod(o: ReduceOptions = {}): NDArray { return R.reduce(this, "prod", o); }
  mean(o: ReduceOptions = {}): NDArray { return R.reduce(this, "mean", o); }
  var(o: VarOptions = {}): NDArray { return R.reduce(this, "var", o); }
  std(o: VarOptions = {}): NDArray { return R.reduce(this, "var", o, true); }
  min(o: ReduceOptions = {}): NDArray { return R.reduce(this, "min", o); }
  max(o: ReduceOptions = {}): NDArray { return R.reduce(this, "max", o); }
  argmin(o: ReduceOptions = {}): NDArray { return R.reduce(this, "argmin", o); }
  argmax(o: ReduceOptions = {}): NDArray { return R.reduce(this, "argmax", o); }
  any(o: ReduceOptions = {}): NDArray { return R.reduce(this, "any", o); }
  all(o: ReduceOptions = {}): NDArray { return R.reduce(this, "all", o); }
  nansum(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nansum", o); }
  nanprod(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nanprod", o); }
  nanmean(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nanmean", o); }
  nanvar(o: VarOptions = {}): NDArray { return R.reduce(this, "nanvar", o); }
  nanstd(o: VarOptions = {}): NDArray { return R.reduce(this, "nanvar", o, true); }
  nanmin(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nanmin", o); }
  nanmax(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nanmax", o); }
  nanargmin(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nanargmin", o); }
  nanargmax(o: ReduceOptions = {}): NDArray { return R.reduce(this, "nanargmax", o); }

  /** Cumulative sum along `axis` (default: flattened). */ cumsum(axis?: number): NDArray { return C.cumulative(this, "sum", axis); }
  /** Cumulative product along `axis` (default: flattened). */ cumprod(axis?: number): NDArray { return C.cumulative(this, "prod", axis); }

  // Structure.
  /** Basic indexing: `x.get(0, "1:10:2", null)` */ get(...idx: Index[]): NDArray { return S.getItem(this, ...idx); }
  /** Integer-array indexing along an axis: `x.take([3, 0, -1], 1)` */ take(indices: readonly number[], axis = 0): NDArray { return S.take(this, indices, axis); }
  reshape(shape: readonly number[]): NDArray { return S.reshape(this, shape); }
  expandDims(axis: number): NDArray { return S.expandDims(this, axis); }
  squeeze(axis?: number): NDArray { return S.squeeze(this, axis); }
  /** Matrix product of 2-D arrays. */ matmul(b: NDArray): NDArray { return L.matmul(this, b); }
  /** Same as matmul for 2-D arrays. */ dot(b: NDArray): NDArray { return L.matmul(this, b); }
}

export function normAxis(a: number, nd: number): number {
  if (!Number.isInteger(a) || a < -nd || a >= nd) throw new ArrayArgumentError(`axis ${a} is out of bounds for an array of ${nd} dimensions`);
  return a < 0 ? a + nd : a;
}

function gatherLocal(x: NDArray, parts: Chunk[]): LocalArray {
  if (parts.length === 1 && parts[0]!.shape.length === x.ndim) return { dtype: x.dtype, shape: [...x.shape], data: parts[0]!.data };
  const grid = x.numblocks;
  const offs = parts.map((_, i) => unravel(i, grid).map((b, d) => offsets(x.chunks[d]!)[b]!));
  const c = assemble(parts, offs, [...x.shape], x.dtype);
  return { dtype: x.dtype, shape: c.shape, data: c.data };
}

/** Rechunks to explicit chunks: each output block assembles its overlapping input pieces. */
export function rechunkTo(x: NDArray, chunks: number[][]): NDArray {
  const nd = x.ndim;
  const src = x.blocks();
  const igrid = x.numblocks;
  const ioffs = x.chunks.map((c) => offsets(c));
  const ooffs = chunks.map((c) => offsets(c));
  const ogrid = chunks.map((c) => c.length);
  const blocks: Delayed<Chunk>[] = [];
  for (let i = 0; i < gridSize(ogrid); i++) {
    const ob = unravel(i, ogrid);
    // For each axis, the input blocks overlapping [lo, hi).
    const ranges = ob.map((b, d) => {
      const lo = ooffs[d]![b]!, hi = ooffs[d]![b + 1]!;
      const io = ioffs[d]!;
      const list: { ib: number; s: number; e: number }[] = [];
      for (let k = 0; k < igrid[d]!; k++) {
        const s = Math.max(lo, io[k]!), e = Math.min(hi, io[k + 1]!);
        if (e > s || (hi === lo && k === 0)) list.push({ ib: k, s, e });
      }
      return { lo, hi, list };
    });
    const combos = ranges.reduce<{ ib: number; s: number; e: number }[][]>((acc, r) => acc.flatMap((c) => r.list.map((x2) => [...c, x2])), [[]]);
    const pieces: Delayed<Chunk>[] = [];
    const poffs: number[][] = [];
    for (const combo of combos) {
      const ib = combo.map((c) => c.ib);
      const whole = combo.every((c, d) => c.s === ioffs[d]![c.ib] && c.e === ioffs[d]![c.ib + 1]);
      const blk = src[ravel(ib, igrid)]!;
      pieces.push(whole ? blk : T.slice(blk, combo.map((c, d) => c.s - ioffs[d]![c.ib]!), new Array(nd).fill(1), combo.map((c) => c.e - c.s)));
      poffs.push(combo.map((c, d) => c.s - ranges[d]!.lo));
    }
    const bshape = ranges.map((r) => r.hi - r.lo);
    blocks.push(pieces.length === 1 && poffs[0]!.every((o) => o === 0) && combos[0]!.every((c, d) => c.e - c.s === bshape[d]) ? pieces[0]! : T.assemble(pieces, poffs, bshape, x.dtype));
  }
  return NDArray.of(x.shape, x.dtype, chunks, blocks);
}

/** Rechunks arrays (right-aligned, broadcasting) so that their chunks agree on every axis of size > 1. */
export function unify(arrs: NDArray[], shape: readonly number[]): NDArray[] {
  const nd = shape.length;
  const target: (number[] | null)[] = new Array(nd).fill(null);
  for (const a of arrs) {
    const off = nd - a.ndim;
    a.chunks.forEach((c, d) => {
      if (a.shape[d] === 1 && shape[d + off] !== 1) return;
      const t = target[d + off];
      target[d + off] = t ? refine(t, c) : [...c];
    });
  }
  return arrs.map((a) => {
    const off = nd - a.ndim;
    const want = a.chunks.map((c, d) => (a.shape[d] === 1 && shape[d + off] !== 1 ? [...c] : target[d + off]!));
    return want.every((c, d) => sameChunks(c, a.chunks[d]!)) ? a : rechunkTo(a, want);
  });
}

/** NumPy's broadcast shape; the error names both shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const nd = Math.max(a.length, b.length);
  const out = new Array<number>(nd);
  for (let i = 0; i < nd; i++) {
    const x = a[a.length - nd + i] ?? 1, y = b[b.length - nd + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new ArrayShapeError(`operands could not be broadcast together with shapes (${a.join(",")}) (${b.join(",")})`);
    out[i] = x === 1 ? y : x;
  }
  return out;
}

export { reshapeChunk, sliceChunk, gridSize };
