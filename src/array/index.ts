/**
 * `shoal/array`: lazy, chunked n-dimensional arrays whose chunks are tasks
 * (dask.array for TypeScript), with NumPy's semantics, on one core, all
 * cores or a cluster.
 *
 * @example
 * ```ts
 * import { Client } from "shoal";
 * import * as da from "shoal/array";
 * const client = await Client.connect();
 * const x = (await da.fromNpy("x.npy")).rechunk([500, 500]);
 * await da.toNpy(x.add(x.T).sum({ axis: 0 }), "s.npy");
 * ```
 *
 * @module
 */
export { NDArray, NDArray as Array, type LocalArray, type ComputeOptions } from "./array.ts";
export { zeros, ones, full, empty, arange, linspace, eye, fromTyped, fromNpy, toNpy, random, RandomState, type CreateOptions } from "./create.ts";
export { where, clip, nanToNum, astype, type Operand } from "./elementwise.ts";
export { concatenate, stack, expandDims, squeeze, reshape, type Index } from "./structure.ts";
export { matmul, matmul as dot } from "./linalg.ts";
export { normalizeChunks, AUTO_CHUNK_BYTES, type ChunksSpec } from "./chunks.ts";
export { parseNpyHeader, npyHeader, type NpyHeader } from "./npy.ts";
export type { DType, TypedData } from "./dtype.ts";
export type { ReduceOptions, VarOptions } from "./reductions.ts";
export type { Chunk } from "./chunk.ts";
export { ArrayShapeError, ArrayChunkError, ArrayArgumentError, NpyFormatError } from "./errors.ts";
