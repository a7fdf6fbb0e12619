/**
 * Blocked matrix products: output block (i, j) is one task over row-block i
 * of `a` and column-block j of `b` (the contraction chunks aligned first by
 * rechunking `b`'s rows to `a`'s columns, as Dask's unify_chunks does).
 *
 * @module
 */
import { delayed } from "../graph/delayed.ts";
import { NDArray, rechunkTo } from "./array.ts";
import { promote } from "./dtype.ts";
import { ArrayShapeError } from "./errors.ts";
import { matmulBlocks } from "./kernels.ts";

const mm = delayed(matmulBlocks, { name: "array-matmul" });

/**
 * Matrix product of 2-D arrays.
 *
 * @example
 * ```ts
 * const c = matmul(a, b);
 * ```
 */
export function matmul(a: NDArray, b: NDArray): NDArray {
  if (a.ndim !== 2 || b.ndim !== 2) throw new ArrayShapeError(`matmul takes 2-D arrays here, got shapes (${a.shape.join(", ")}) and (${b.shape.join(", ")})`);
  if (a.shape[1] !== b.shape[0]) throw new ArrayShapeError(`matmul: shapes (${a.shape.join(", ")}) and (${b.shape.join(", ")}) are not aligned: ${a.shape[1]} (dim 1) != ${b.shape[0]} (dim 0)`);
  const bb = b.chunks[0]!.join() === a.chunks[1]!.join() ? b : rechunkTo(b, [[...a.chunks[1]!], [...b.chunks[1]!]]);
  const [I, K] = a.numblocks as [number, number];
  const J = bb.numblocks[1]!;
  const ab = a.blocks(), bbl = bb.blocks();
  const dt = promote(a.dtype, b.dtype);
  const out = [];
  for (let i = 0; i < I; i++)
    for (let j = 0; j < J; j++) {
      const as = [], bs = [];
      for (let k = 0; k < K; k++) { as.push(ab[i * K + k]!); bs.push(bbl[k * J + j]!); }
      out.push(mm(as, bs, dt === "bool" ? "int64" : dt));
    }
  return NDArray.of([a.shape[0]!, b.shape[1]!], dt === "bool" ? "int64" : dt, [[...a.chunks[0]!], [...bb.chunks[1]!]], out);
}
