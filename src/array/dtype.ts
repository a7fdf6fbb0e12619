/**
 * Data types of `shoal/array` and NumPy 2's promotion rules (NEP 50: JS
 * numbers are "weak" scalars that take the array's kind where they fit).
 *
 * int64 is stored as BigInt64Array (exact exchange with NumPy); kernels
 * compute on it as doubles, so values beyond 2^53 lose precision.
 *
 * @module
 */
import { ArrayArgumentError } from "./errors.ts";

/** The dtypes an array can have. */
export type DType = "bool" | "uint8" | "int32" | "int64" | "float32" | "float64";

/** Storage of one chunk per dtype. */
export type TypedData = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export const DTYPES: readonly DType[] = ["bool", "uint8", "int32", "int64", "float32", "float64"];

/** Bytes per element. */
export function itemsize(dt: DType): number {
  return dt === "bool" || dt === "uint8" ? 1 : dt === "int32" || dt === "float32" ? 4 : 8;
}

/** A new zeroed buffer of `n` elements. */
export function allocate(dt: DType, n: number): TypedData {
  switch (dt) {
    case "bool":
    case "uint8":
      return new Uint8Array(n);
    case "int32":
      return new Int32Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
  }
}

/** The dtype a typed array stores (Uint8Array is uint8; pass "bool" explicitly). */
export function dtypeOf(ta: ArrayBufferView): DType {
  if (ta instanceof Float64Array) return "float64";
  if (ta instanceof Float32Array) return "float32";
  if (ta instanceof Int32Array) return "int32";
  if (ta instanceof BigInt64Array) return "int64";
  if (ta instanceof Uint8Array) return "uint8";
  throw new ArrayArgumentError(`unsupported typed array ${ta.constructor.name}; use Float64Array, Float32Array, Int32Array, BigInt64Array or Uint8Array`);
}

export function checkDtype(dt: string): DType {
  if (!(DTYPES as readonly string[]).includes(dt)) throw new ArrayArgumentError(`dtype must be one of ${DTYPES.join(", ")}, got '${dt}'`);
  return dt as DType;
}

const isFloat = (d: DType) => d === "float32" || d === "float64";
const isInt = (d: DType) => d === "uint8" || d === "int32" || d === "int64";
export { isFloat, isInt };

/** NumPy's result type of two arrays. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "bool") return b;
  if (b === "bool") return a;
  if (isFloat(a) && isFloat(b)) return "float64";
  if (isInt(a) && isInt(b)) return a === "int64" || b === "int64" ? "int64" : "int32";
  const [f, i] = isFloat(a) ? [a, b] : [b, a];
  if (f === "float64") return "float64";
  return i === "uint8" ? "float32" : "float64";
}

/** A JS number as an operand: a weak Python int or float. */
export function scalarKind(v: number | boolean): DType | "weak-int" | "weak-float" {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "weak-int" : "weak-float";
}

/** Result type of an array and a weak scalar. */
export function promoteWeak(a: DType, k: DType | "weak-int" | "weak-float"): DType {
  if (k === "weak-int") return a === "bool" ? "int64" : a;
  if (k === "weak-float") return isFloat(a) ? a : "float64";
  return promote(a, k);
}

/** Dtype of sqrt/exp/log... of `d` (NumPy gives float16 for bool/uint8; Shoal float32). */
export function floatOf(d: DType): DType {
  if (isFloat(d)) return d;
  return d === "bool" || d === "uint8" ? "float32" : "float64";
}

/** Dtype of sum/prod/cumsum of `d` (NumPy: integers widen to int64 on Linux). */
export function sumDtype(d: DType): DType {
  return isFloat(d) ? d : "int64";
}
