/**
 * Elementwise operations with NumPy broadcasting and dtype promotion. Each
 * builds a fused expression (inlining operands that are themselves
 * elementwise), so `x.mul(2).add(y).sqrt()` runs as one loop per chunk.
 *
 * @module
 */
import { floatOf, isFloat, promote, promoteWeak, scalarKind, type DType } from "./dtype.ts";
import { NDArray, broadcastShapes, unify } from "./array.ts";
import type { Expr } from "./ew.ts";

/** An operand: an array or a JS number (a weak scalar, as Python's in NumPy 2) or boolean. */
export type Operand = NDArray | number | boolean;

function relabel(e: Expr, map: number[]): Expr {
  if (e.k === "in") return { ...e, i: map[e.i]! };
  if (e.k === "c") return e;
  return { ...e, a: e.a.map((x) => relabel(x, map)) };
}

function retype(e: Expr, dt: DType): Expr {
  if (e.dt === dt) return e;
  if (e.k === "c") return { ...e, dt };
  return { k: "op", op: "cast", a: [e], dt };
}

/** Builds an elementwise array of `op` over operands, the node's dtype `dt` and operand dtype `cast` (inputs converted first). */
export function elementwise(op: string, ops: Operand[], dt: DType, cast?: DType): NDArray {
  const arrays = ops.filter((o): o is NDArray => o instanceof NDArray);
  let shape: number[] = [];
  for (const a of arrays) shape = broadcastShapes(shape, a.shape);
  const unified = unify(arrays, shape);
  const leaves: NDArray[] = [];
  const leafOf = (a: NDArray): Expr => {
    if (a.src.k === "ew") {
      const map = a.src.leaves.map((l) => {
        let i = leaves.indexOf(l);
        if (i < 0) i = leaves.push(l) - 1;
        return i;
      });
      return relabel(a.src.expr, map);
    }
    let i = leaves.indexOf(a);
    if (i < 0) i = leaves.push(a) - 1;
    return { k: "in", i, dt: a.dtype };
  };
  let ai = 0;
  const args: Expr[] = ops.map((o) => {
    const e: Expr = o instanceof NDArray ? leafOf(unified[ai++]!) : { k: "c", v: typeof o === "boolean" ? (o ? 1 : 0) : o, dt: cast ?? dt };
    return cast ? retype(e, cast) : e;
  });
  const expr: Expr = { k: "op", op, a: args, dt };
  const chunks = shape.map((n, d) => {
    for (const a of unified) {
      const off = shape.length - a.ndim;
      if (d >= off && (a.shape[d - off] !== 1 || n === 1)) return a.chunks[d - off]!;
    }
    return [n];
  });
  return new NDArray(shape, dt, chunks, { k: "ew", expr, leaves });
}

/** The dtype of combining operands (weak scalars take the array's kind). */
export function resultType(ops: Operand[]): DType {
  const arrs = ops.filter((o): o is NDArray => o instanceof NDArray);
  let dt: DType | null = null;
  for (const a of arrs) dt = dt ? promote(dt, a.dtype) : a.dtype;
  for (const o of ops) if (!(o instanceof NDArray)) dt = dt ? promoteWeak(dt, scalarKind(o)) : typeof o === "boolean" ? "bool" : Number.isInteger(o) ? "int64" : "float64";
  return dt ?? "float64";
}

const ARITH = ["add", "sub", "mul", "maximum", "minimum", "fmax", "fmin", "mod", "floordiv", "pow"] as const;
const CMP = ["eq", "ne", "lt", "le", "gt", "ge"] as const;
const LOGIC = ["and", "or", "xor"] as const;
const UNARY_FLOAT = ["sqrt", "exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "tanh", "arcsin", "arccos", "arctan", "reciprocal"] as const;
const UNARY_SAME = ["neg", "abs", "square", "sign", "floor", "ceil", "trunc", "rint"] as const;

/** Binary arithmetic (same dtype as NumPy's result type). */
export function arith(op: (typeof ARITH)[number], a: Operand, b: Operand): NDArray {
  const dt = resultType([a, b]);
  return elementwise(op, [a, b], dt, dt);
}

/** True division: integers give float64. */
export function divide(a: Operand, b: Operand): NDArray {
  const r = resultType([a, b]);
  const dt = isFloat(r) ? r : "float64";
  return elementwise("div", [a, b], dt, dt);
}

export function compare(op: (typeof CMP)[number], a: Operand, b: Operand): NDArray {
  const dt = resultType([a, b]);
  return elementwise(op, [a, b], "bool", dt);
}

export function logical(op: (typeof LOGIC)[number], a: Operand, b: Operand): NDArray {
  return elementwise(op, [a, b], "bool");
}

export function unary(op: string, a: NDArray): NDArray {
  if ((UNARY_FLOAT as readonly string[]).includes(op)) {
    const dt = floatOf(a.dtype);
    return elementwise(op, [a], dt, dt);
  }
  if (op === "floor" || op === "ceil" || op === "trunc" || op === "rint") {
    if (!isFloat(a.dtype)) return a;
  }
  return elementwise(op, [a], a.dtype === "bool" && op !== "abs" ? "int64" : a.dtype, a.dtype === "bool" && op !== "abs" ? "int64" : a.dtype);
}

export function predicate(op: "isnan" | "isfinite" | "isinf" | "not", a: NDArray): NDArray {
  return elementwise(op, [a], "bool");
}

/** `cond ? a : b` elementwise, broadcasting all three. */
export function where(cond: Operand, a: Operand, b: Operand): NDArray {
  const dt = resultType([a, b]);
  const c = cond instanceof NDArray ? cond : cond ? 1 : 0;
  const arrays = [c, a, b];
  const out = elementwise("where", arrays, dt);
  // The condition keeps its own dtype; a and b are cast to the result.
  const e = out.src.k === "ew" ? out.src.expr : null;
  if (e && e.k === "op") e.a = [e.a[0]!, retype(e.a[1]!, dt), retype(e.a[2]!, dt)];
  return out;
}

/** Limits values to [lo, hi] (NumPy's clip: minimum(maximum(x, lo), hi)). */
export function clip(x: NDArray, lo: Operand | null, hi: Operand | null): NDArray {
  let r = x;
  if (lo !== null) r = arith("maximum", r, lo);
  if (hi !== null) r = arith("minimum", r, hi);
  return r;
}

/** NaN to `nan`, +inf to `posinf`, -inf to `neginf` (NumPy's nan_to_num defaults: 0 and the dtype's extremes). */
export function nanToNum(x: NDArray, opts: { nan?: number; posinf?: number; neginf?: number } = {}): NDArray {
  if (!isFloat(x.dtype)) return x;
  const big = x.dtype === "float32" ? 3.4028234663852886e38 : Number.MAX_VALUE;
  const n = where(predicate("isnan", x), opts.nan ?? 0, x);
  const p = where(compare("eq", x, Infinity), opts.posinf ?? big, n);
  return where(compare("eq", x, -Infinity), opts.neginf ?? -big, p);
}

export function astype(x: NDArray, dt: DType): NDArray {
  if (x.dtype === dt) return x;
  return elementwise("cast", [x], dt);
}

export { ARITH, CMP, LOGIC, UNARY_FLOAT, UNARY_SAME };
