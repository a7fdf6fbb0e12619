/**
 * NumPy's `.npy` format (versions 1.0, 2.0 and 3.0): the header parser and
 * writer, and the task that reads a block of rows with a ranged read from
 * the storage layer (`file://`, `s3://`, `http(s)://`, plain paths).
 *
 * @module
 */
import { readRange } from "../storage/ops.ts";
import { allocate, itemsize, type DType } from "./dtype.ts";
import { size, type Chunk } from "./chunk.ts";
import { NpyFormatError } from "./errors.ts";

const DESCR: Record<string, DType> = { "|b1": "bool", "|u1": "uint8", "<i4": "int32", "<i8": "int64", "<f4": "float32", "<f8": "float64" };
const TO_DESCR: Record<DType, string> = { bool: "|b1", uint8: "|u1", int32: "<i4", int64: "<i8", float32: "<f4", float64: "<f8" };

/** A parsed `.npy` header. */
export interface NpyHeader {
  dtype: DType;
  shape: number[];
  fortran: boolean;
  /** Byte offset of the data. */
  offset: number;
}

/**
 * Parses the header at the start of a `.npy` file.
 *
 * @example
 * ```ts
 * const h = parseNpyHeader(bytes); // { dtype: "float64", shape: [3, 4], fortran: false, offset: 128 }
 * ```
 */
export function parseNpyHeader(b: Uint8Array, what = "the file"): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (b.length < 10 || magic.some((m, i) => b[i] !== m)) throw new NpyFormatError(`${what} is not a .npy file (no \\x93NUMPY magic)`);
  const major = b[6]!;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const [hlen, start] = major === 1 ? [dv.getUint16(8, true), 10] : [dv.getUint32(8, true), 12];
  if (b.length < start + hlen) throw new NpyFormatError(`${what}: header of ${hlen} bytes is truncated`);
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(b.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*True/.test(text);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || shapeText === undefined) throw new NpyFormatError(`${what}: malformed header ${JSON.stringify(text)}`);
  const dtype = DESCR[descr === "<u1" ? "|u1" : descr === "<b1" ? "|b1" : descr];
  if (!dtype) throw new NpyFormatError(`${what}: dtype '${descr}' is not supported (Shoal reads ${Object.keys(DESCR).join(", ")}); convert with arr.astype(...) in NumPy`);
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  return { dtype, shape, fortran, offset: start + hlen };
}

/**
 * The header bytes NumPy writes for an array (version 1.0, padded to 64 bytes).
 *
 * @example
 * ```ts
 * const head = npyHeader("float64", [3, 4]);
 * ```
 */
export function npyHeader(dtype: DType, shape: readonly number[]): Uint8Array {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${TO_DESCR[dtype]}', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = 10 + dict.length + 1;
  dict += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  return out;
}

/**
 * Task: rows [r0, r0 + shape[0]) of a C-ordered `.npy` file as one chunk.
 *
 * @example
 * ```ts
 * const c = await npyBlock("x.npy", 128, "float64", [100, 4], 0);
 * ```
 */
export async function npyBlock(url: string, offset: number, dtype: DType, shape: number[], r0: number): Promise<Chunk> {
  const n = size(shape);
  const row = shape.length === 0 ? 1 : n / Math.max(1, shape[0]!);
  const isz = itemsize(dtype);
  const start = offset + r0 * (shape.length === 0 ? 0 : row) * isz;
  const out = allocate(dtype, n);
  if (n > 0) {
    const buf = await readRange(url, start, start + n * isz);
    if (buf.byteLength !== n * isz) throw new NpyFormatError(`${url}: expected ${n * isz} bytes at ${start}, got ${buf.byteLength} (truncated file?)`);
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(buf);
  }
  return { dtype, shape, data: out };
}
