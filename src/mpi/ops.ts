/** Reduction operations of `shoal/mpi`, for JS values and element-wise for typed arrays. */
import { MpiArgumentError } from "./errors.ts";

export type OpName = "sum" | "prod" | "min" | "max" | "land" | "lor" | "band" | "bor" | "maxloc" | "minloc";
/** A user operation: `fn(a, b)` where `a` comes from the lower ranks; `commute` false keeps rank order. */
export interface UserOp {
  readonly fn: (a: any, b: any) => any;
  readonly commute: boolean;
}
export type Op = OpName | UserOp | ((a: any, b: any) => any);

export const SUM = "sum";
export const PROD = "prod";
export const MIN = "min";
export const MAX = "max";
export const LAND = "land";
export const LOR = "lor";
export const BAND = "band";
export const BOR = "bor";
export const MAXLOC = "maxloc";
export const MINLOC = "minloc";

/** mpi4py's `MPI.Op.Create(fn, commute)`. */
export function createOp(fn: (a: any, b: any) => any, commute = false): UserOp {
  return { fn, commute };
}

export function isCommutative(op: Op): boolean {
  return typeof op === "string" || (typeof op === "object" && op.commute);
}

type Scalar = (a: any, b: any) => any;
const SCALAR: Record<OpName, Scalar> = {
  sum: (a, b) => a + b,
  prod: (a, b) => a * b,
  min: (a, b) => (b < a ? b : a),
  max: (a, b) => (b > a ? b : a),
  land: (a, b) => Boolean(a) && Boolean(b),
  lor: (a, b) => Boolean(a) || Boolean(b),
  band: (a, b) => a & b,
  bor: (a, b) => a | b,
  maxloc: (a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] < a[1]) ? b : a),
  minloc: (a, b) => (b[0] < a[0] || (b[0] === a[0] && b[1] < a[1]) ? b : a),
};

function scalarFn(op: Op, call: string): Scalar {
  if (typeof op === "function") return op;
  if (typeof op === "object") return op.fn;
  const f = SCALAR[op];
  if (f === undefined) throw new MpiArgumentError(`${call}: unknown op '${String(op)}' (sum, prod, min, max, land, lor, band, bor, maxloc, minloc or a function)`);
  return f;
}

/** Combines two values: numbers and bigints directly, typed arrays and arrays element-wise (like NumPy arrays). */
export function applyOp(op: Op, a: unknown, b: unknown, call: string): unknown {
  const f = scalarFn(op, call);
  if (typeof op !== "string") return f(a, b);
  if (op === "maxloc" || op === "minloc") return f(a, b);
  if (ArrayBuffer.isView(a) && !(a instanceof DataView)) {
    const x = a as unknown as Float64Array;
    const y = b as unknown as Float64Array;
    if (!ArrayBuffer.isView(b) || y.length !== x.length) throw new MpiArgumentError(`${call}: typed arrays of different lengths (${x.length} and ${ArrayBuffer.isView(b) ? y.length : typeof b})`);
    const out = x.slice();
    if (op === "land" || op === "lor") for (let i = 0; i < out.length; i++) out[i] = f(x[i], y[i]) ? 1 : 0;
    else for (let i = 0; i < out.length; i++) out[i] = f(x[i], y[i]);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) throw new MpiArgumentError(`${call}: arrays of different lengths (${a.length} and ${b.length})`);
    return a.map((v, i) => applyOp(op, v, b[i], call));
  }
  return f(a, b);
}

/** out[i] = op(lo[i], hi[i]) for typed arrays (out may be lo or hi). */
export function combineInto(op: Op, lo: ArrayLike<any>, hi: ArrayLike<any>, out: { [i: number]: any; length: number }, call: string): void {
  const f = scalarFn(op, call);
  if (op === "maxloc" || op === "minloc") {
    // pairs laid out as [value, index, value, index, ...]
    for (let i = 0; i + 1 < out.length; i += 2) {
      const r = f([lo[i], lo[i + 1]], [hi[i], hi[i + 1]]);
      out[i] = r[0];
      out[i + 1] = r[1];
    }
    return;
  }
  const logical = op === "land" || op === "lor";
  const isBig = typeof lo[0] === "bigint";
  for (let i = 0; i < out.length; i++) {
    const v = f(lo[i], hi[i]);
    out[i] = logical ? (isBig ? BigInt(v ? 1 : 0) : v ? 1 : 0) : v;
  }
}
