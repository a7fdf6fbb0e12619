/**
 * Chunk specifications: a size per axis, `-1` or `"auto"` per axis, explicit
 * tuples, or `"auto"` for all (about {@link AUTO_CHUNK_BYTES} per chunk, as
 * Dask's `array.chunk-size`), and the helpers that compare and refine them.
 *
 * @module
 */
import { itemsize, type DType } from "./dtype.ts";
import { ArrayChunkError } from "./errors.ts";

/** Default bytes per chunk for `"auto"` (Dask's `array.chunk-size`, 128 MiB). */
export const AUTO_CHUNK_BYTES = 128 * 1024 * 1024;

/** How chunks are given. */
export type ChunksSpec = "auto" | number | readonly (number | "auto" | readonly number[])[];

function regular(n: number, c: number): number[] {
  if (n === 0) return [0];
  const out: number[] = [];
  for (let s = 0; s < n; s += c) out.push(Math.min(c, n - s));
  return out;
}

/**
 * Normalizes a chunk specification against a shape.
 *
 * @example
 * ```ts
 * normalizeChunks([2, "auto"], [5, 10], "float64"); // [[2, 2, 1], [10]]
 * ```
 */
export function normalizeChunks(spec: ChunksSpec | undefined, shape: readonly number[], dtype: DType, limit = AUTO_CHUNK_BYTES): number[][] {
  const nd = shape.length;
  const per: (number | "auto" | readonly number[])[] = spec === undefined || spec === "auto" ? new Array(nd).fill("auto") : typeof spec === "number" ? new Array(nd).fill(spec) : [...spec];
  if (per.length !== nd) throw new ArrayChunkError(`chunks ${JSON.stringify(spec)} give ${per.length} axes for shape (${shape.join(", ")})`);
  const out: (number[] | null)[] = per.map((c, d) => {
    const n = shape[d]!;
    if (c === "auto") return null;
    if (typeof c === "number") return regular(n, c === -1 || c >= n ? Math.max(1, n) : c < 1 ? fail(c) : c);
    const sum = c.reduce((a, b) => a + b, 0);
    if (sum !== n || c.some((x) => !Number.isInteger(x) || x < 0)) throw new ArrayChunkError(`chunks (${c.join(", ")}) on axis ${d} sum to ${sum}, not the axis length ${n}`);
    return [...c];
  });
  const auto = out.map((c, d) => (c === null ? d : -1)).filter((d) => d >= 0);
  if (auto.length > 0) {
    let fixed = itemsize(dtype);
    out.forEach((c) => { if (c) fixed *= Math.max(...c, 1); });
    const side = Math.max(1, Math.floor(Math.pow(limit / fixed, 1 / auto.length)));
    for (const d of auto) out[d] = regular(shape[d]!, Math.min(Math.max(1, shape[d]!), side));
  }
  return out as number[][];
}

function fail(c: number): never {
  throw new ArrayChunkError(`chunk sizes must be positive integers (or -1 for the whole axis), got ${c}`);
}

export function offsets(c: readonly number[]): number[] {
  const o = [0];
  for (const x of c) o.push(o[o.length - 1]! + x);
  return o;
}

/** The common refinement of two chunkings of one axis. */
export function refine(a: readonly number[], b: readonly number[]): number[] {
  const bounds = [...new Set([...offsets(a), ...offsets(b)])].sort((x, y) => x - y);
  const out: number[] = [];
  for (let i = 1; i < bounds.length; i++) out.push(bounds[i]! - bounds[i - 1]!);
  return out.length === 0 ? [0] : out;
}

export function sameChunks(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
