/**
 * Creation of arrays: from typed arrays, constants, ranges, identity,
 * seeded random numbers (counter-based: the value at each index depends
 * only on the seed, so any chunking gives the same array), and `.npy` files.
 *
 * @module
 */
import { delayed } from "../graph/delayed.ts";
import { read, write } from "../storage/ops.ts";
import { readRange } from "../storage/ops.ts";
import { NDArray, T, gridSize, unravel, type ComputeOptions } from "./array.ts";
import { normalizeChunks, offsets, type ChunksSpec } from "./chunks.ts";
import type { Chunk } from "./chunk.ts";
import { allocate, checkDtype, dtypeOf, type DType, type TypedData } from "./dtype.ts";
import { ArrayArgumentError, ArrayShapeError, NpyFormatError } from "./errors.ts";
import { createChunk, sliceChunk, type Fill } from "./kernels.ts";
import { npyBlock, npyHeader, parseNpyHeader } from "./npy.ts";

/** Options of creation functions. */
export interface CreateOptions {
  dtype?: DType;
  chunks?: ChunksSpec;
}

const create = delayed(createChunk, { name: "array-create" });
const npy = delayed(npyBlock, { name: "array-from-npy" });

function checkShape(shape: readonly number[]): number[] {
  for (const s of shape) if (!Number.isInteger(s) || s < 0) throw new ArrayArgumentError(`shape must be non-negative integers, got (${shape.join(", ")})`);
  return [...shape];
}

function filled(fill: Fill, shape: readonly number[], opts: CreateOptions, dflt: DType): NDArray {
  const sh = checkShape(shape);
  const dtype = checkDtype(opts.dtype ?? dflt);
  const chunks = normalizeChunks(opts.chunks, sh, dtype);
  const grid = chunks.map((c) => c.length);
  const offs = chunks.map((c) => offsets(c));
  const blocks = [];
  for (let i = 0; i < gridSize(grid); i++) {
    const b = unravel(i, grid);
    blocks.push(create(fill, dtype, b.map((k, d) => chunks[d]![k]!), b.map((k, d) => offs[d]![k]!)));
  }
  return NDArray.of(sh, dtype, chunks, blocks);
}

/** An array of zeros. @example `zeros([1000, 1000], { chunks: 250 })` */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): NDArray {
  return filled({ k: "full", v: 0 }, shape, opts, "float64");
}
/** An array of ones. @example `ones([10], { dtype: "int32" })` */
export function ones(shape: readonly number[], opts: CreateOptions = {}): NDArray {
  return filled({ k: "full", v: 1 }, shape, opts, "float64");
}
/** An array of one value. @example `full([3, 3], 7)` */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): NDArray {
  return filled({ k: "full", v: value }, shape, opts, Number.isInteger(value) ? "int64" : "float64");
}
/** Uninitialized in NumPy; zeros here (fresh typed arrays are zeroed). */
export function empty(shape: readonly number[], opts: CreateOptions = {}): NDArray {
  return zeros(shape, opts);
}

/**
 * Evenly spaced values in [start, stop) (NumPy's arange).
 *
 * @example
 * ```ts
 * arange(0, 10, 2); // [0, 2, 4, 6, 8]
 * ```
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): NDArray {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new ArrayArgumentError("arange step cannot be zero");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const dflt: DType = [start, stop, step].every(Number.isInteger) ? "int64" : "float64";
  return filled({ k: "arange", start, step }, [n], opts, dflt);
}

/**
 * `num` evenly spaced values from start to stop (inclusive by default).
 *
 * @example
 * ```ts
 * linspace(0, 1, 5); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(start: number, stop: number, num = 50, opts: CreateOptions & { endpoint?: boolean } = {}): NDArray {
  const div = (opts.endpoint ?? true) ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  return filled({ k: "arange", start, step }, [num], opts, "float64");
}

/**
 * The identity (ones on diagonal `k`).
 *
 * @example
 * ```ts
 * eye(3);
 * ```
 */
export function eye(n: number, m?: number, k = 0, opts: CreateOptions = {}): NDArray {
  return filled({ k: "eye", k2: k }, [n, m ?? n], opts, "float64");
}

/**
 * An array over a local typed array, split into chunks.
 *
 * @example
 * ```ts
 * const x = fromTyped(new Float64Array(12), [3, 4], [2, 2]);
 * ```
 */
export function fromTyped(data: TypedData, shape?: readonly number[], chunks?: ChunksSpec, dtype?: DType): NDArray {
  const sh = checkShape(shape ?? [data.length]);
  const dt = dtype ?? dtypeOf(data);
  if (sh.reduce((a, b) => a * b, 1) !== data.length) throw new ArrayShapeError(`a typed array of ${data.length} elements cannot have shape (${sh.join(", ")})`);
  const ch = normalizeChunks(chunks, sh, dt);
  const whole: Chunk = { dtype: dt, shape: sh, data };
  const grid = ch.map((c) => c.length);
  const offs = ch.map((c) => offsets(c));
  const blocks = [];
  for (let i = 0; i < gridSize(grid); i++) {
    const b = unravel(i, grid);
    const part = grid.every((g) => g === 1) ? whole : sliceChunk(whole, b.map((k, d) => offs[d]![k]!), sh.map(() => 1), b.map((k, d) => ch[d]![k]!));
    blocks.push(T.pass(part));
  }
  return NDArray.of(sh, dt, ch, blocks);
}

/** A seeded generator: `random.seed(42).normal(0, 1, [1000, 1000], { chunks: 250 })`. */
export class RandomState {
  constructor(private readonly s: number) {}
  /** Uniform in [low, high). */
  uniform(low: number, high: number, shape: readonly number[], opts: CreateOptions = {}): NDArray {
    return filled({ k: "random", seed: this.s, dist: "uniform", a: low, b: high, gshape: [...shape] }, shape, opts, "float64");
  }
  /** Normal with mean `loc` and standard deviation `scale`. */
  normal(loc: number, scale: number, shape: readonly number[], opts: CreateOptions = {}): NDArray {
    return filled({ k: "random", seed: this.s, dist: "normal", a: loc, b: scale, gshape: [...shape] }, shape, opts, "float64");
  }
  /** Integers in [low, high). */
  integers(low: number, high: number, shape: readonly number[], opts: CreateOptions = {}): NDArray {
    return filled({ k: "random", seed: this.s, dist: "integers", a: low, b: high, gshape: [...shape] }, shape, opts, "int64");
  }
}

/** Seeded random arrays. */
export const random = {
  seed: (s: number): RandomState => new RandomState(s >>> 0),
};

/**
 * An array over a `.npy` file (path or storage URL): the header is read
 * now, the data by one ranged read per block of rows (then rechunked if `chunks` is given).
 *
 * @example
 * ```ts
 * const x = await fromNpy("x.npy", { chunks: [1000, -1] });
 * ```
 */
export async function fromNpy(url: string, opts: { chunks?: ChunksSpec } = {}): Promise<NDArray> {
  const head = parseNpyHeader(await readRange(url, 0, 65536).catch(async () => read(url)), url);
  if (head.fortran) throw new NpyFormatError(`${url} is in Fortran order; save it with np.save(path, np.ascontiguousarray(a))`);
  const sh = head.shape;
  const rowChunks = normalizeChunks(sh.map((_, d) => (d === 0 ? "auto" : -1)), sh, head.dtype)[0] ?? [];
  if (sh.length === 0) return NDArray.of([], head.dtype, [], [npy(url, head.offset, head.dtype, [], 0)]);
  const offs = offsets(rowChunks);
  const blocks = rowChunks.map((r, i) => npy(url, head.offset, head.dtype, [r, ...sh.slice(1)], offs[i]!));
  const x = NDArray.of(sh, head.dtype, [rowChunks, ...sh.slice(1).map((s) => [s])], blocks);
  return opts.chunks ? x.rechunk(opts.chunks) : x;
}

/**
 * Computes `x` and writes it as a `.npy` file NumPy reads.
 *
 * @example
 * ```ts
 * await toNpy(x.sum({ axis: 0 }), "s.npy");
 * ```
 */
export async function toNpy(x: NDArray, url: string, opts: ComputeOptions = {}): Promise<void> {
  const r = await x.compute(opts);
  const head = npyHeader(r.dtype, r.shape);
  const body = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  await write(url, out);
}

export { allocate };
