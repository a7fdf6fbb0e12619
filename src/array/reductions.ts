/**
 * Reductions along axes as tree reductions: one partial per chunk, then
 * combine tasks over at most `splitEvery` partials along the reduced axes,
 * level by level, then one finalize per output chunk (never a gather of all
 * chunks to one worker).
 *
 * @module
 */
import { delayed, type Delayed } from "../graph/delayed.ts";
import { NDArray, gridSize, normAxis, ravel, unravel } from "./array.ts";
import { offsets } from "./chunks.ts";
import { strides } from "./chunk.ts";
import { ArrayArgumentError } from "./errors.ts";
import type { Chunk } from "./chunk.ts";
import { reduceCombine, reduceDtype, reduceEwPartial, reduceFinal, reducePartial, type Partial, type ReduceOp } from "./reduce.ts";

/** Options of reductions. */
export interface ReduceOptions {
  /** Axis or axes to reduce (default: all). */
  axis?: number | readonly number[] | null;
  /** Keep reduced axes with length 1. */
  keepdims?: boolean;
  /** Partials combined per task at each tree level (default 16 in all, as Dask's split_every). */
  splitEvery?: number;
}

/** Options of var/std. */
export interface VarOptions extends ReduceOptions {
  /** Delta degrees of freedom (divide by N - ddof). */
  ddof?: number;
}

const P = { ewPartial: delayed(reduceEwPartial, { name: "array-reduce-chunk" }), partial: delayed(reducePartial, { name: "array-reduce-chunk" }), combine: delayed(reduceCombine, { name: "array-reduce-combine" }), final: delayed(reduceFinal, { name: "array-reduce-agg" }) };

/**
 * Builds the reduction graph of `op` over `x`.
 *
 * @example
 * ```ts
 * const s = reduce(x, "sum", { axis: 0 });
 * ```
 */
export function reduce(x: NDArray, op: ReduceOp, opts: VarOptions = {}, sqrt = false): NDArray {
  const nd = x.ndim;
  const ax = opts.axis;
  const axes = ax === undefined || ax === null ? [...x.shape.keys()] : [...new Set((typeof ax === "number" ? [ax] : ax).map((a) => normAxis(a, nd)))].sort();
  const arg = op.includes("arg");
  if (arg && ax !== undefined && ax !== null && typeof ax !== "number") throw new ArrayArgumentError(`${op} takes one axis or none, got (${(ax as number[]).join(", ")})`);
  if ((op === "min" || op === "max" || arg || op === "nanmin" || op === "nanmax") && axes.some((a) => x.shape[a] === 0)) {
    throw new ArrayArgumentError(`zero-size array to reduction operation ${op} which has no identity (shape (${x.shape.join(", ")}), axis ${JSON.stringify(ax ?? null)})`);
  }
  const keepdims = opts.keepdims ?? false;
  const flat = arg && (ax === undefined || ax === null);
  const G = flat ? strides(x.shape) : x.shape.map((_, d) => (arg && axes[0] === d ? 1 : 0));
  const grid = x.numblocks;
  const offs = x.chunks.map((c) => offsets(c));
  // An elementwise input is evaluated inside the partial tasks (fused), unless its chunks are already computed.
  const fused = x.src.k === "ew" ? { expr: x.src.expr, blocks: x.ewInputs() } : null;
  const src = fused ? null : x.blocks();
  let level: Delayed<Partial>[] = (fused ? fused.blocks : src!).map((b, i) => {
    const bi = unravel(i, grid);
    const o = bi.map((k, d) => offs[d]![k]!);
    if (fused && "ins" in b) return P.ewPartial(op, fused.expr, b.ins, b.shape, axes, o, G);
    return P.partial(op, b as Delayed<Chunk>, axes, o, G);
  });
  let g = [...grid];
  const nred = axes.filter((a) => g[a]! > 1).length;
  const per = Math.max(2, Math.floor(Math.pow(opts.splitEvery ?? 16, 1 / Math.max(1, nred))));
  while (axes.some((a) => g[a]! > 1)) {
    const ng = g.map((n, d) => (axes.includes(d) ? Math.ceil(n / per) : n));
    const next: Delayed<Partial>[] = [];
    for (let i = 0; i < gridSize(ng); i++) {
      const bi = unravel(i, ng);
      const ranges = bi.map((b, d) => (axes.includes(d) ? [b * per, Math.min(g[d]!, (b + 1) * per)] : [b, b + 1])) as [number, number][];
      const members: Delayed<Partial>[] = [];
      const walk = (d: number, idx: number[]): void => {
        if (d === nd) { members.push(level[ravel(idx, g)]!); return; }
        for (let k = ranges[d]![0]; k < ranges[d]![1]; k++) walk(d + 1, [...idx, k]);
      };
      walk(0, []);
      next.push(members.length === 1 ? members[0]! : P.combine(op, members));
    }
    level = next;
    g = ng;
  }
  const outChunks = x.chunks.map((c, d) => (axes.includes(d) ? [1] : [...c])).filter((_, d) => keepdims || !axes.includes(d));
  const outShape = x.shape.map((n, d) => (axes.includes(d) ? 1 : n)).filter((_, d) => keepdims || !axes.includes(d));
  const blocks = level.map((p, i) => {
    const bi = unravel(i, g);
    const shape = bi.map((b, d) => (axes.includes(d) ? 1 : x.chunks[d]![b]!)).filter((_, d) => keepdims || !axes.includes(d));
    return P.final(op, p, x.dtype, { ddof: opts.ddof ?? 0, sqrt, shape });
  });
  return NDArray.of(outShape, reduceDtype(op, x.dtype), outChunks, blocks);
}
