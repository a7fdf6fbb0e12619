/**
 * Reduction kernels: a per-chunk partial (one compiled loop over the chunk,
 * reduced axes at stride 0 in the output), an elementwise combine of
 * partials (the inner nodes of the tree reduction, `splitEvery` at a time),
 * and a finalize that turns the last partial into a chunk of NumPy's dtype.
 * Variances combine by Chan's parallel formula (count, mean, M2).
 *
 * @module
 */
import { allocate, floatOf, sumDtype, type DType } from "./dtype.ts";
import { size, strides, type Chunk } from "./chunk.ts";
import { ewChunk, type Expr } from "./ew.ts";

/** Names of the reductions. */
export type ReduceOp =
  | "sum" | "prod" | "nansum" | "nanprod" | "min" | "max" | "nanmin" | "nanmax"
  | "mean" | "nanmean" | "var" | "nanvar" | "any" | "all" | "argmin" | "argmax" | "nanargmin" | "nanargmax";

/** A partial result: fields of float64 over the output shape (reduced axes 1). */
export interface Partial {
  shape: number[];
  f: Float64Array[];
}

interface Spec {
  nf: number;
  init: number[];
  step: string;
}

const MINSTEP = "{const a=A0[o];if(v<a||(v!==v&&a===a))A0[o]=v;}";
const MAXSTEP = "{const a=A0[o];if(v>a||(v!==v&&a===a))A0[o]=v;}";
const SPECS: Record<string, Spec> = {
  sum: { nf: 1, init: [0], step: "A0[o]+=v;" },
  nansum: { nf: 1, init: [0], step: "if(v===v)A0[o]+=v;" },
  prod: { nf: 1, init: [1], step: "A0[o]*=v;" },
  nanprod: { nf: 1, init: [1], step: "if(v===v)A0[o]*=v;" },
  min: { nf: 1, init: [Infinity], step: MINSTEP },
  max: { nf: 1, init: [-Infinity], step: MAXSTEP },
  nanmin: { nf: 1, init: [NaN], step: "if(v===v&&!(v>=A0[o]))A0[o]=v;" },
  nanmax: { nf: 1, init: [NaN], step: "if(v===v&&!(v<=A0[o]))A0[o]=v;" },
  mean: { nf: 2, init: [0, 0], step: "A0[o]+=v;A1[o]++;" },
  nanmean: { nf: 2, init: [0, 0], step: "if(v===v){A0[o]+=v;A1[o]++;}" },
  m2: { nf: 1, init: [0], step: "{const d=v-P[o];A0[o]+=d*d;}" },
  nanm2: { nf: 1, init: [0], step: "if(v===v){const d=v-P[o];A0[o]+=d*d;}" },
  any: { nf: 1, init: [0], step: "if(v!==0)A0[o]=1;" },
  all: { nf: 1, init: [1], step: "if(v===0)A0[o]=0;" },
  argmin: { nf: 2, init: [NaN, -1], step: "{const a=A0[o];if(A1[o]<0||v<a||(v!==v&&a===a)){A0[o]=v;A1[o]=gi;}}" },
  argmax: { nf: 2, init: [NaN, -1], step: "{const a=A0[o];if(A1[o]<0||v>a||(v!==v&&a===a)){A0[o]=v;A1[o]=gi;}}" },
  nanargmin: { nf: 2, init: [NaN, -1], step: "if(v===v&&(A1[o]<0||v<A0[o])){A0[o]=v;A1[o]=gi;}" },
  nanargmax: { nf: 2, init: [NaN, -1], step: "if(v===v&&(A1[o]<0||v>A0[o])){A0[o]=v;A1[o]=gi;}" },
};

type Loop = (a: ArrayLike<number | bigint>, shape: number[], os: number[], A: Float64Array[], P: Float64Array | null, off: number[], G: number[]) => void;
const loops = new Map<string, Loop>();

function loop(op: string, int64: boolean): Loop {
  const key = `${op}|${int64}`;
  let f = loops.get(key);
  if (f) return f;
  const s = SPECS[op]!;
  const decl = Array.from({ length: s.nf }, (_, i) => `const A${i}=A[${i}];`).join("");
  const rd = int64 ? "Number(a[i])" : "a[i]";
  const body = `"use strict";${decl}const nd=shape.length;
if(nd===0){const i=0,o=0,gi=0;const v=${rd};${s.step}return;}
const last=shape[nd-1];let outer=1;for(let d=0;d<nd-1;d++)outer*=shape[d];
const idx=new Array(Math.max(0,nd-1)).fill(0);let i=0;const ol=os[nd-1],gl=G[nd-1];
for(let r=0;r<outer;r++){let ob=0,gb=off[nd-1]*gl;for(let d=0;d<nd-1;d++){ob+=idx[d]*os[d];gb+=(off[d]+idx[d])*G[d];}
for(let j=0;j<last;j++,i++){const o=ob+j*ol,gi=gb+j*gl;const v=${rd};${s.step}}
for(let d=nd-2;d>=0;d--){if(++idx[d]<shape[d])break;idx[d]=0;}}`;
  f = new Function("a", "shape", "os", "A", "P", "off", "G", body) as Loop;
  loops.set(key, f);
  return f;
}

function run(op: string, c: Chunk, axes: number[], fields: Float64Array[] | null, P: Float64Array | null, off: number[], G: number[]): Partial {
  const oshape = c.shape.map((n, d) => (axes.includes(d) ? 1 : n));
  const n = size(oshape);
  const s = SPECS[op]!;
  const f = fields ?? s.init.map((v) => new Float64Array(n).fill(v));
  const ost = strides(oshape).map((x, d) => (axes.includes(d) ? 0 : x));
  if (size(c.shape) > 0) loop(op, c.dtype === "int64")(c.data, c.shape, ost, f, P, off, G);
  return { shape: oshape, f };
}

/**
 * Task: the partial reduction of one chunk. `off` is the chunk's offset in
 * the array and `G` the global strides of the reduced axes (for arg-reductions).
 *
 * @example
 * ```ts
 * const p = reducePartial("sum", chunk, [0], [0, 0], [0, 0]);
 * ```
 */
export function reducePartial(op: ReduceOp, c: Chunk, axes: number[], off: number[], G: number[]): Partial {
  if (op === "var" || op === "nanvar") {
    const m = run(op === "var" ? "mean" : "nanmean", c, axes, null, null, off, G);
    const [sum, cnt] = m.f as [Float64Array, Float64Array];
    const mean = new Float64Array(sum.length);
    for (let i = 0; i < mean.length; i++) mean[i] = cnt[i]! > 0 ? sum[i]! / cnt[i]! : 0;
    const m2 = run(op === "var" ? "m2" : "nanm2", c, axes, null, mean, off, G);
    return { shape: m.shape, f: [cnt, mean, m2.f[0]!] };
  }
  return run(op, c, axes, null, null, off, G);
}

/**
 * Task: the partial reduction of an elementwise expression's chunk, evaluated
 * in the same task (elementwise fused into the reduction: no intermediate
 * chunk task, no transfer).
 *
 * @example
 * ```ts
 * const p = reduceEwPartial("sum", expr, [c0, c1], [100, 100], [0], [0, 0], [0, 0]);
 * ```
 */
export function reduceEwPartial(op: ReduceOp, expr: Expr, ins: Chunk[], shape: number[], axes: number[], off: number[], G: number[]): Partial {
  return reducePartial(op, ewChunk(expr, ins, shape), axes, off, G);
}

/**
 * Task: combines partials of the same output block (a node of the tree).
 *
 * @example
 * ```ts
 * const p = reduceCombine("sum", [p1, p2]);
 * ```
 */
export function reduceCombine(op: ReduceOp, parts: Partial[]): Partial {
  const first = parts[0]!;
  const f = first.f.map((a) => Float64Array.from(a));
  const n = first.f[0]!.length;
  for (let p = 1; p < parts.length; p++) {
    const g = parts[p]!.f;
    const [A0, A1, A2] = f as [Float64Array, Float64Array, Float64Array];
    const [B0, B1, B2] = g as [Float64Array, Float64Array, Float64Array];
    switch (op) {
      case "sum": case "nansum": case "mean": case "nanmean":
        for (let i = 0; i < n; i++) A0[i] = A0[i]! + B0[i]!;
        if (A1) for (let i = 0; i < n; i++) A1[i] = A1[i]! + B1[i]!;
        break;
      case "prod": case "nanprod":
        for (let i = 0; i < n; i++) A0[i] = A0[i]! * B0[i]!;
        break;
      case "min": for (let i = 0; i < n; i++) { const a = A0[i]!, v = B0[i]!; if (v < a || (v !== v && a === a)) A0[i] = v; } break;
      case "max": for (let i = 0; i < n; i++) { const a = A0[i]!, v = B0[i]!; if (v > a || (v !== v && a === a)) A0[i] = v; } break;
      case "nanmin": for (let i = 0; i < n; i++) { const v = B0[i]!; if (v === v && !(v >= A0[i]!)) A0[i] = v; } break;
      case "nanmax": for (let i = 0; i < n; i++) { const v = B0[i]!; if (v === v && !(v <= A0[i]!)) A0[i] = v; } break;
      case "any": for (let i = 0; i < n; i++) if (B0[i] !== 0) A0[i] = 1; break;
      case "all": for (let i = 0; i < n; i++) if (B0[i] === 0) A0[i] = 0; break;
      case "var": case "nanvar":
        for (let i = 0; i < n; i++) {
          const na = A0[i]!, nb = B0[i]!;
          if (nb === 0) continue;
          const nt = na + nb, d = B1[i]! - A1[i]!;
          A1[i] = A1[i]! + (d * nb) / nt;
          A2[i] = A2[i]! + B2[i]! + (d * d * na * nb) / nt;
          A0[i] = nt;
        }
        break;
      default: {
        const min = op === "argmin" || op === "nanargmin", nan = op.startsWith("nan");
        for (let i = 0; i < n; i++) {
          const bi = B1[i]!;
          if (bi < 0) continue;
          const a = A0[i]!, v = B0[i]!, ai = A1[i]!;
          let take = ai < 0;
          if (!take) {
            if (nan) take = min ? v < a : v > a;
            else if (a !== a) take = false;
            else if (v !== v) take = true;
            else take = min ? v < a : v > a;
            if (!take && (v === a) && bi < ai) take = true;
          }
          if (take) { A0[i] = v; A1[i] = bi; }
        }
      }
    }
  }
  return { shape: first.shape, f };
}

/** Output dtype of a reduction of `dt`. */
export function reduceDtype(op: ReduceOp, dt: DType): DType {
  if (op === "sum" || op === "prod" || op === "nansum" || op === "nanprod") return sumDtype(dt);
  if (op === "mean" || op === "nanmean" || op === "var" || op === "nanvar") return dt === "float32" ? "float32" : "float64";
  if (op === "any" || op === "all") return "bool";
  if (op.includes("arg")) return "int64";
  return dt;
}

/**
 * Task: the final chunk of a reduction (std is var with `sqrt`).
 *
 * @example
 * ```ts
 * const c = reduceFinal("mean", p, "float64", { ddof: 0, sqrt: false, keep: [1] });
 * ```
 */
export function reduceFinal(op: ReduceOp, p: Partial, dt: DType, o: { ddof: number; sqrt: boolean; shape: number[] }): Chunk {
  const odt = reduceDtype(op, dt);
  const n = p.f[0]!.length;
  let vals: Float64Array;
  if (op === "mean" || op === "nanmean") {
    vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = p.f[0]![i]! / p.f[1]![i]!;
  } else if (op === "var" || op === "nanvar") {
    vals = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = p.f[2]![i]! / Math.max(0, p.f[0]![i]! - o.ddof);
      vals[i] = o.sqrt ? Math.sqrt(v) : v;
    }
  } else vals = op.includes("arg") ? p.f[1]! : p.f[0]!;
  const out = allocate(odt === "float32" ? floatOf(odt) : odt, n);
  if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(Number.isFinite(vals[i]!) ? vals[i]! : 0));
  else out.set(vals as unknown as Float64Array);
  return { dtype: odt, shape: o.shape, data: out };
}
