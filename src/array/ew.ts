/**
 * Fused elementwise kernels. An expression tree (inputs, constants and
 * operations, each node with its NumPy dtype) compiles once per thread into
 * one JS loop over the output chunk with NumPy broadcasting (stride 0 on
 * broadcast axes): several operations per pass, as Dask's blockwise fusion.
 * Every node rounds to its dtype (float32 through Math.fround, int32 wraps),
 * so fused results equal NumPy's step-by-step ones.
 *
 * @module
 */
import { allocate, type DType } from "./dtype.ts";
import { size, strides, type Chunk } from "./chunk.ts";

/** A node of an elementwise expression. */
export type Expr =
  | { k: "in"; i: number; dt: DType }
  | { k: "c"; v: number; dt: DType }
  | { k: "op"; op: string; a: Expr[]; dt: DType };

const BIN: Record<string, (a: string, b: string, dt: DType) => string> = {
  add: (a, b) => `(${a}+${b})`,
  sub: (a, b) => `(${a}-${b})`,
  mul: (a, b, dt) => (dt === "int32" ? `Math.imul(${a},${b})` : `(${a}*${b})`),
  div: (a, b) => `(${a}/${b})`,
  floordiv: (a, b, dt) => (dt === "float32" || dt === "float64" ? `Math.floor(${a}/${b})` : `H.idiv(${a},${b})`),
  mod: (a, b, dt) => (dt === "float32" || dt === "float64" ? `H.fmod(${a},${b})` : `H.imod(${a},${b})`),
  pow: (a, b) => `Math.pow(${a},${b})`,
  maximum: (a, b) => `H.max(${a},${b})`,
  minimum: (a, b) => `H.min(${a},${b})`,
  fmax: (a, b) => `H.fmax(${a},${b})`,
  fmin: (a, b) => `H.fmin(${a},${b})`,
  eq: (a, b) => `(${a}===${b}?1:0)`,
  ne: (a, b) => `(${a}!==${b}?1:0)`,
  lt: (a, b) => `(${a}<${b}?1:0)`,
  le: (a, b) => `(${a}<=${b}?1:0)`,
  gt: (a, b) => `(${a}>${b}?1:0)`,
  ge: (a, b) => `(${a}>=${b}?1:0)`,
  and: (a, b) => `((${a}!==0&&${b}!==0)?1:0)`,
  or: (a, b) => `((${a}!==0||${b}!==0)?1:0)`,
  xor: (a, b) => `(((${a}!==0)!==(${b}!==0))?1:0)`,
  arctan2: (a, b) => `Math.atan2(${a},${b})`,
  hypot: (a, b) => `Math.hypot(${a},${b})`,
};

const UN: Record<string, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `Math.abs(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  exp: (a) => `Math.exp(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  log2: (a) => `Math.log2(${a})`,
  log10: (a) => `Math.log10(${a})`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tan: (a) => `Math.tan(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  arcsin: (a) => `Math.asin(${a})`,
  arccos: (a) => `Math.acos(${a})`,
  arctan: (a) => `Math.atan(${a})`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  trunc: (a) => `Math.trunc(${a})`,
  rint: (a) => `H.rint(${a})`,
  sign: (a) => `H.sign(${a})`,
  square: (a) => `(${a}*${a})`,
  reciprocal: (a) => `(1/${a})`,
  isnan: (a) => `(${a}!==${a}?1:0)`,
  isfinite: (a) => `(Number.isFinite(${a})?1:0)`,
  isinf: (a) => `((${a}===Infinity||${a}===-Infinity)?1:0)`,
  not: (a) => `(${a}===0?1:0)`,
  cast: (a) => a,
};

/** Helpers the generated code calls (NumPy's semantics for mod, floor division, rounding, NaN-aware max). */
const H = {
  fmod(a: number, b: number): number {
    const r = a % b;
    return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
  },
  imod(a: number, b: number): number {
    if (b === 0) return 0;
    const r = a % b;
    return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
  },
  idiv(a: number, b: number): number {
    return b === 0 ? 0 : Math.floor(a / b);
  },
  max: (a: number, b: number) => (a !== a || b !== b ? NaN : a > b ? a : b),
  min: (a: number, b: number) => (a !== a || b !== b ? NaN : a < b ? a : b),
  fmax: (a: number, b: number) => (a !== a ? b : b !== b ? a : a > b ? a : b),
  fmin: (a: number, b: number) => (a !== a ? b : b !== b ? a : a < b ? a : b),
  rint(a: number): number {
    const f = Math.floor(a);
    const d = a - f;
    return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  },
  sign: (a: number) => (a !== a ? NaN : a > 0 ? 1 : a < 0 ? -1 : 0),
};

function round(code: string, dt: DType): string {
  switch (dt) {
    case "float32":
      return `Math.fround(${code})`;
    case "int32":
      return `(${code}|0)`;
    case "uint8":
      return `(${code}&255)`;
    case "int64":
      return `H.trunc64(${code})`;
    default:
      return code;
  }
}

function gen(e: Expr): string {
  if (e.k === "in") return `x${e.i}`;
  if (e.k === "c") return Number.isNaN(e.v) ? "NaN" : e.v === Infinity ? "Infinity" : e.v === -Infinity ? "(-Infinity)" : `(${String(e.v)})`;
  if (e.op === "where") return `(${gen(e.a[0]!)}!==0?${gen(e.a[1]!)}:${gen(e.a[2]!)})`;
  if (e.op === "cast") {
    const a = gen(e.a[0]!);
    if (e.dt === "bool") return `(${a}!==0?1:0)`;
    if (e.dt === "int32" || e.dt === "uint8" || e.dt === "int64") return round(`Math.trunc(${a})`, e.dt);
    return round(a, e.dt);
  }
  const args = e.a.map(gen);
  const b = BIN[e.op];
  const code = b && args.length === 2 ? b(args[0]!, args[1]!, e.dt) : UN[e.op]?.(args[0]!);
  if (code === undefined) throw new Error(`unknown elementwise op '${e.op}'`);
  return e.dt === "bool" ? code : round(code, e.dt);
}

/** JS source of the expression (also the cache key). */
export function exprSource(e: Expr): string {
  return gen(e);
}

type Kernel = (ins: ArrayLike<number | bigint>[], st: number[][], shape: number[], out: ArrayLike<number | bigint>, h: unknown) => void;
const cache = new Map<string, Kernel>();

function compile(src: string, nin: number, int64In: boolean[], int64Out: boolean): Kernel {
  const key = `${src}|${nin}|${int64In.join()}|${int64Out}`;
  let k = cache.get(key);
  if (k) return k;
  const rd = (i: number, idx: string) => (int64In[i] ? `Number(a${i}[${idx}])` : `a${i}[${idx}]`);
  const decl = Array.from({ length: nin }, (_, i) => `const a${i}=ins[${i}], s${i}=st[${i}];`).join("");
  const base = Array.from({ length: nin }, (_, i) => `let b${i}=0;for(let d=0;d<nd-1;d++)b${i}+=idx[d]*s${i}[d];const t${i}=s${i}[nd-1];`).join("");
  const reads = Array.from({ length: nin }, (_, i) => `const x${i}=${rd(i, `b${i}+j*t${i}`)};`).join("");
  const store = int64Out ? `out[o++]=BigInt(${src});` : `out[o++]=${src};`;
  const body = `"use strict";${decl}const nd=shape.length;
if(nd===0){${Array.from({ length: nin }, (_, i) => `const x${i}=${rd(i, "0")};`).join("")}let o=0;${store}return;}
const last=shape[nd-1];let outer=1;for(let d=0;d<nd-1;d++)outer*=shape[d];
const idx=new Array(Math.max(0,nd-1)).fill(0);let o=0;
for(let r=0;r<outer;r++){${base}
for(let j=0;j<last;j++){${reads}${store}}
for(let d=nd-2;d>=0;d--){if(++idx[d]<shape[d])break;idx[d]=0;}}`;
  k = new Function("ins", "st", "shape", "out", "H", body) as Kernel;
  cache.set(key, k);
  return k;
}

const HELP = { ...H, trunc64: (v: number) => (Number.isFinite(v) ? Math.trunc(v) : 0) };

/**
 * Task: evaluates `expr` over input chunks broadcast to `shape`.
 *
 * @example
 * ```ts
 * const out = ewChunk({ k: "op", op: "add", a: [x, y], dt: "float64" }, [cx, cy], [2, 3]);
 * ```
 */
export function ewChunk(expr: Expr, inputs: Chunk[], shape: number[]): Chunk {
  const n = size(shape);
  const out = allocate(expr.dt, n);
  if (n === 0) return { dtype: expr.dt, shape, data: out };
  const nd = shape.length;
  const st = inputs.map((c) => {
    const s = strides(c.shape);
    const off = nd - c.shape.length;
    const full = new Array<number>(nd).fill(0);
    for (let d = 0; d < c.shape.length; d++) full[d + off] = c.shape[d] === 1 && shape[d + off] !== 1 ? 0 : s[d]!;
    return full;
  });
  const src = gen(expr);
  const k = compile(src, inputs.length, inputs.map((c) => c.dtype === "int64"), expr.dt === "int64");
  k(inputs.map((c) => c.data), st, shape, out, HELP);
  return { dtype: expr.dt, shape, data: out };
}
