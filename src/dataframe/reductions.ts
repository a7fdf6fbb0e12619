/**
 * Distributed reductions as map → combine → finalize triples.
 *
 * Each reduction has a partial that is small and serialisable (plain objects,
 * with exact integers as decimal strings, or a {@link Frame} for value-count
 * style partials — see `serializePartial` in `ipc.ts`):
 *
 *     const r = reductions.std("Score");
 *     const parts = partitions.map((df) => r.map(df));   // one task per partition
 *     const p = r.combine(parts);                         // tree-reduce, any fan-in, associative
 *     const std = r.finalize(p);                          // 422.50116559037317 on the 5M set
 *
 * Semantics follow pandas (documented in docs/dataframe.md): missing values
 * (null, and NaN in float columns) are skipped; `count` counts non-missing;
 * `sum` of nothing is 0; `mean`/`var`/`std`/`min`/`max`/`median` of nothing
 * is NaN (min/max: null for text); `var`/`std` use ddof = 1. Integer columns
 * are summed exactly (BigInt), so mean/var/std are correctly rounded; float
 * columns use Neumaier summation and Chan's parallel formula.
 *
 * @module
 */
import pl from "nodejs-polars";
import { engine, type Frame } from "./engine.ts";
import { DataFrameArgumentError, ExpressionTypeError } from "./errors.ts";
import { bigIntSums, chanCombine, floatMoments, intSums, neumaierSum, ratioToNumber, sqrtRatioToNumber } from "./exact.ts";
import { concat } from "./shuffle.ts";
import { requireNumericColumn } from "./text-notes.ts";
import { column, float64Values, int64Values, missingCount, naExpr, scalar, sortBy, typeOf, type Column } from "./frame-utils.ts";

/** A distributed reduction: `map` per partition, associative `combine`, `finalize` once. */
export interface Reduction<P, R> {
  readonly name: string;
  map(df: Frame): P;
  combine(parts: readonly P[]): P;
  finalize(partial: P): R;
}

/** Run a reduction over local partitions (what the engine does across tasks). */
export function reduceLocal<P, R>(r: Reduction<P, R>, parts: readonly Frame[]): R {
  return r.finalize(r.combine(parts.map((df) => r.map(df))));
}

// ---------------------------------------------------------------- moments

/**
 * Partial of count/sum/mean/var/std. `exact`: integer column, `sum`/`sumSq`
 * are exact BigInt decimals. Otherwise `fsum` (compensated), `mean`, `m2`.
 */
export interface MomentsPartial {
  n: number;
  exact: boolean;
  sum: string;
  sumSq: string;
  fsum: number;
  mean: number;
  m2: number;
}

const EMPTY_MOMENTS: MomentsPartial = { n: 0, exact: true, sum: "0", sumSq: "0", fsum: 0, mean: 0, m2: 0 };

/** Moments of one column of one partition. */
export function momentsOf(s: Column): MomentsPartial {
  const t = typeOf(s);
  if (t === "int64" || t === "bool") {
    const nn = s.len() - s.nullCount();
    if (nn === 0) return { ...EMPTY_MOMENTS };
    const mn = Number(s.min()), mx = Number(s.max());
    const safe = t === "bool" || (Math.abs(mn) < 2 ** 53 && Math.abs(mx) < 2 ** 53);
    const { sum, sumSq } = safe ? intSums(float64Values(s)) : bigIntSums(int64Values(s));
    return { n: nn, exact: true, sum: sum.toString(), sumSq: sumSq.toString(), fsum: 0, mean: 0, m2: 0 };
  }
  if (t === "float64") {
    const m = floatMoments(float64Values(s));
    return { n: m.n, exact: false, sum: "0", sumSq: "0", fsum: m.sum, mean: m.mean, m2: m.m2 };
  }
  if (t === "null") return { ...EMPTY_MOMENTS };
  throw new ExpressionTypeError(`moments: column '${s.name}' is ${t}, not numeric`, s.name, { from: t, to: "numeric", op: "moments" });
}

function toFloatMoments(p: MomentsPartial): { n: number; mean: number; m2: number; fsum: number } {
  if (!p.exact) return p;
  if (p.n === 0) return { n: 0, mean: 0, m2: 0, fsum: 0 };
  const s1 = BigInt(p.sum), s2 = BigInt(p.sumSq), n = BigInt(p.n);
  return { n: p.n, mean: ratioToNumber(s1, n), m2: ratioToNumber(n * s2 - s1 * s1, n), fsum: Number(s1) };
}

/** Combine moments partials (exact while every input is exact). */
export function combineMoments(parts: readonly MomentsPartial[]): MomentsPartial {
  const live = parts.filter((p) => p.n > 0);
  if (live.length === 0) return { ...EMPTY_MOMENTS, exact: parts.every((p) => p.exact) };
  if (live.every((p) => p.exact)) {
    let s1 = 0n, s2 = 0n, n = 0;
    for (const p of live) { s1 += BigInt(p.sum); s2 += BigInt(p.sumSq); n += p.n; }
    return { n, exact: true, sum: s1.toString(), sumSq: s2.toString(), fsum: 0, mean: 0, m2: 0 };
  }
  let acc = { n: 0, mean: 0, m2: 0 };
  const sums = new Float64Array(live.length);
  live.forEach((p, i) => { const f = toFloatMoments(p); acc = chanCombine(acc, f); sums[i] = f.fsum; });
  return { n: acc.n, exact: false, sum: "0", sumSq: "0", fsum: neumaierSum(sums)[0], mean: acc.mean, m2: acc.m2 };
}

/** Sum from moments (0 for no values, as pandas). */
export function momentsSum(p: MomentsPartial): number {
  return p.exact ? Number(BigInt(p.sum)) : p.fsum;
}
/** Mean from moments (NaN for no values). */
export function momentsMean(p: MomentsPartial): number {
  if (p.n === 0) return NaN;
  return p.exact ? ratioToNumber(BigInt(p.sum), BigInt(p.n)) : p.mean;
}
/** Variance with `ddof` (NaN when n - ddof <= 0), correctly rounded for integer columns. */
export function momentsVar(p: MomentsPartial, ddof = 1): number {
  if (p.n - ddof <= 0) return NaN;
  if (!p.exact) return p.m2 / (p.n - ddof);
  const s1 = BigInt(p.sum), s2 = BigInt(p.sumSq), n = BigInt(p.n);
  return ratioToNumber(n * s2 - s1 * s1, n * (n - BigInt(ddof)));
}
/** Standard deviation with `ddof`, correctly rounded for integer columns. */
export function momentsStd(p: MomentsPartial, ddof = 1): number {
  if (p.n - ddof <= 0) return NaN;
  if (!p.exact) return Math.sqrt(p.m2 / (p.n - ddof));
  const s1 = BigInt(p.sum), s2 = BigInt(p.sumSq), n = BigInt(p.n);
  return sqrtRatioToNumber(n * s2 - s1 * s1, n * (n - BigInt(ddof)));
}

/**
 * One partition's value of `f(df, col)`, computed once per frame: reductions
 * computed together (`compute([q.mean("Score"), q.std("Score"), q.min("Score"),
 * q.max("Score")])`) map the same partition in one task, and mean and std need
 * the same moments, min and max the same extrema (task 2 of the StackLite job:
 * ~30 ms less per block). Partials are never mutated, so sharing is safe.
 */
function perFrame<P>(f: (df: Frame, col: string) => P): (df: Frame, col: string) => P {
  const memo = new WeakMap<Frame, Map<string, P>>();
  return (df, col) => {
    let m = memo.get(df);
    if (!m) { m = new Map(); memo.set(df, m); }
    if (!m.has(col)) m.set(col, f(df, col));
    return m.get(col)!;
  };
}

const momentsOfColumn = perFrame((df, col) => momentsOf(column(df, col, "moments")));

function momentsReduction<R>(name: string, col: string, fin: (p: MomentsPartial) => R): Reduction<MomentsPartial, R> {
  return { name, map: (df) => { requireNumericColumn(df, col, name); return momentsOfColumn(df, col); }, combine: combineMoments, finalize: fin };
}

// ---------------------------------------------------------------- count, min, max

/** Partial of min/max: the extreme non-missing values seen (null if none). */
export interface ExtremaPartial { min: number | string | bigint | boolean | null; max: number | string | bigint | boolean | null; text: boolean }

const extremaOf = perFrame(extremaOfColumn);

function extremaOfColumn(df: Frame, col: string): ExtremaPartial {
  const s = column(df, col, "min/max");
  const text = typeOf(s) === "utf8";
  if (s.len() === 0) return { min: null, max: null, text };
  const r = df.select(naExpr(df, col).min().alias("mn"), naExpr(df, col).max().alias("mx"));
  const mn = scalar(r.select("mn")), mx = scalar(r.select("mx"));
  return { min: (mn ?? null) as ExtremaPartial["min"], max: (mx ?? null) as ExtremaPartial["max"], text };
}

function combineExtrema(parts: readonly ExtremaPartial[]): ExtremaPartial {
  let min: ExtremaPartial["min"] = null, max: ExtremaPartial["max"] = null;
  for (const p of parts) {
    if (p.min !== null && (min === null || p.min < min)) min = p.min;
    if (p.max !== null && (max === null || p.max > max)) max = p.max;
  }
  return { min, max, text: parts.some((p) => p.text) };
}

/** Count partial: non-missing values. */
export interface CountPartial { n: number }

// ---------------------------------------------------------------- value counts, nunique, quantiles

/**
 * Value counts of one column of one partition as a frame `[col, "count"]`
 * (missing values dropped unless `dropna` is false). Also the partial of
 * nunique, median and quantile.
 */
export function valueCountsOf(df: Frame, col: string, dropna = true): Frame {
  column(df, col, "valueCounts");
  let sel = df.select(naExpr(df, col));
  if (dropna) sel = sel.filter(pl.col(col).isNotNull());
  return sel.groupBy(col).agg(pl.len().cast(pl.Int64).alias("count"));
}

/** Combine value-count partials (sum counts per value). */
export function combineValueCounts(parts: readonly Frame[]): Frame {
  const nonEmpty = parts.filter((p) => p.height > 0);
  if (nonEmpty.length === 0) return parts[0] ?? pl.DataFrame({ value: [], count: [] });
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  const all = engine().concat(nonEmpty);
  const key = all.columns[0]!;
  return all.groupBy(key).agg(pl.col("count").sum().alias("count"));
}

/** Final value counts: count descending, then value ascending; optional top `n`. */
export function finalizeValueCounts(p: Frame, n?: number): Frame {
  const key = p.columns[0]!;
  const sorted = sortBy(p, [{ column: "count", descending: true }, { column: key }]);
  return n === undefined ? sorted : sorted.head(n);
}

/**
 * numpy's linear interpolation (`_lerp`, used by pandas `quantile`), exact
 * to the bit: a + (b-a)·t, or b - (b-a)·(1-t) when t ≥ 0.5.
 */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/** Quantiles from a combined value-count frame of a numeric column (pandas `linear`). */
export function quantilesFromCounts(p: Frame, qs: readonly number[]): number[] {
  const key = p.columns[0]!;
  const sorted = p.sort(key);
  const values = float64Values(sorted.getColumn(key));
  const counts = float64Values(sorted.getColumn("count"));
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return qs.map(() => NaN);
  // value at 0-based rank r (in sorted order)
  const cum = new Float64Array(counts.length);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) { acc += counts[i]!; cum[i] = acc; }
  const at = (r: number): number => {
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid]! > r) hi = mid; else lo = mid + 1; }
    return values[lo]!;
  };
  return qs.map((q) => {
    if (!(q >= 0 && q <= 1)) throw new DataFrameArgumentError(`quantile: q must be in [0, 1], got ${q}`);
    const h = (total - 1) * q;
    const lo = Math.floor(h);
    const a = at(lo);
    if (h === lo) return a;
    return lerp(a, at(lo + 1), h - lo);
  });
}

/** Median from value counts (pandas: mean of the two middle values when n is even). */
export function medianFromCounts(p: Frame): number {
  const key = p.columns[0]!;
  let total = 0;
  for (const c of float64Values(p.getColumn("count"))) total += c;
  if (total === 0) return NaN;
  if (total % 2 === 1) return quantilesFromCounts(p, [0.5])[0]!;
  const sorted = p.sort(key);
  const values = float64Values(sorted.getColumn(key));
  const counts = float64Values(sorted.getColumn("count"));
  const r1 = total / 2 - 1, r2 = total / 2;
  let acc = 0, a = NaN, b = NaN;
  for (let i = 0; i < counts.length; i++) {
    const next = acc + counts[i]!;
    if (Number.isNaN(a) && r1 < next) a = values[i]!;
    if (r2 < next) { b = values[i]!; break; }
    acc = next;
  }
  return (a + b) / 2;
}

// ---------------------------------------------------------------- null counts, top-k

/** Partial of per-column missing counts (task 1 of the StackLite set). */
export interface NullCountsPartial { rows: number; nulls: Record<string, number> }

/** Missing counts (null, and NaN in float columns) of every column. */
export function nullCountsOf(df: Frame): NullCountsPartial {
  const nulls: Record<string, number> = {};
  for (const s of df.getColumns()) nulls[s.name] = missingCount(s);
  return { rows: df.height, nulls };
}

/** Combine null-count partials (columns in first-seen order). */
export function combineNullCounts(parts: readonly NullCountsPartial[]): NullCountsPartial {
  const out: NullCountsPartial = { rows: 0, nulls: {} };
  for (const p of parts) {
    out.rows += p.rows;
    for (const [c, n] of Object.entries(p.nulls)) out.nulls[c] = (out.nulls[c] ?? 0) + n;
  }
  return out;
}

/** Percent missing per column, `100 * nulls / rows` (NaN for zero rows, as pandas). */
export function missingPercent(p: NullCountsPartial): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, n] of Object.entries(p.nulls)) out[c] = p.rows === 0 ? NaN : (n / p.rows) * 100;
  return out;
}

/** Options of {@link topK}. */
export interface TopKOptions {
  /** Columns to order by. */
  by: string | readonly string[];
  /** Largest first (nlargest) or smallest first (nsmallest). */
  largest: boolean;
  /** Tie-break columns, ascending (default: none; rows in partition order). */
  tieBreak?: readonly string[];
}

/**
 * Top-k rows of a frame: rows with a missing value in a `by` column are
 * dropped (as pandas nlargest); ties at the cut are kept until the final
 * sort, so a tie-break gives the same rows whatever the partitioning.
 */
export function topK(df: Frame, n: number, opts: TopKOptions): Frame {
  const by = typeof opts.by === "string" ? [opts.by] : [...opts.by];
  let d = df;
  for (const b of by) {
    column(d, b, "topK");
    if (missingCount(d.getColumn(b)) > 0) d = d.withColumns(naExpr(d, b)).filter(pl.col(b).isNotNull());
  }
  if (d.height > n && n > 0) {
    // cheap pre-filter on the first key: keep everything at least as good as the n-th value
    const first = by[0]!;
    const kth = d.getColumn(first).sort({ descending: opts.largest }).get(n - 1);
    d = d.filter(opts.largest ? pl.col(first).gtEq(pl.lit(kth)) : pl.col(first).ltEq(pl.lit(kth)));
  }
  const keys = [...by.map((c) => ({ column: c, descending: opts.largest })), ...(opts.tieBreak ?? []).map((c) => ({ column: c }))];
  return sortBy(d, keys).head(Math.max(0, n));
}

// ---------------------------------------------------------------- the catalogue

/** describe() output for one numeric column (pandas `describe`). */
export interface DescribeStats { count: number; mean: number; std: number; min: number; "25%": number; "50%": number; "75%": number; max: number }

/** Partial of describe(): per numeric column, moments and value counts. */
export interface DescribePartial { columns: Record<string, { moments: MomentsPartial; counts: Frame }> }

function numericColumns(df: Frame): string[] {
  return df.getColumns().filter((s) => { const t = typeOf(s); return t === "int64" || t === "float64"; }).map((s) => s.name);
}

/** The reductions, by name. Every factory takes the column it reduces. */
export const reductions = {
  /** Non-missing count. */
  count: (col: string): Reduction<CountPartial, number> => ({
    name: "count",
    map: (df) => { const s = column(df, col, "count"); return { n: s.len() - missingCount(s) }; },
    combine: (ps) => ({ n: ps.reduce((a, p) => a + p.n, 0) }),
    finalize: (p) => p.n,
  }),
  sum: (col: string) => momentsReduction("sum", col, momentsSum),
  mean: (col: string) => momentsReduction("mean", col, momentsMean),
  var: (col: string, ddof = 1) => momentsReduction("var", col, (p) => momentsVar(p, ddof)),
  std: (col: string, ddof = 1) => momentsReduction("std", col, (p) => momentsStd(p, ddof)),
  /** Minimum non-missing value (NaN for an all-missing numeric column, null for text). */
  min: (col: string): Reduction<ExtremaPartial, ExtremaPartial["min"]> => ({
    name: "min", map: (df) => extremaOf(df, col), combine: combineExtrema, finalize: (p) => p.min ?? (p.text ? null : NaN),
  }),
  max: (col: string): Reduction<ExtremaPartial, ExtremaPartial["max"]> => ({
    name: "max", map: (df) => extremaOf(df, col), combine: combineExtrema, finalize: (p) => p.max ?? (p.text ? null : NaN),
  }),
  /** Distinct non-missing values (partial: the distinct values with counts). */
  nunique: (col: string): Reduction<Frame, number> => ({
    name: "nunique", map: (df) => valueCountsOf(df, col), combine: combineValueCounts, finalize: (p) => p.height,
  }),
  /** Exact median (pandas). */
  median: (col: string): Reduction<Frame, number> => ({
    name: "median", map: (df) => { requireNumericColumn(df, col, "median"); return valueCountsOf(df, col); }, combine: combineValueCounts, finalize: medianFromCounts,
  }),
  /** Exact quantiles with linear interpolation (pandas default). */
  quantile: (col: string, qs: readonly number[]): Reduction<Frame, number[]> => ({
    name: "quantile", map: (df) => { requireNumericColumn(df, col, "quantile"); return valueCountsOf(df, col); }, combine: combineValueCounts, finalize: (p) => quantilesFromCounts(p, qs),
  }),
  /** Value counts, count descending then value ascending; `n` keeps the top n. */
  valueCounts: (col: string, opts: { n?: number; dropna?: boolean } = {}): Reduction<Frame, Frame> => ({
    name: "valueCounts", map: (df) => valueCountsOf(df, col, opts.dropna ?? true), combine: combineValueCounts,
    finalize: (p) => finalizeValueCounts(p, opts.n),
  }),
  /** Missing counts of every column (isNull().sum()). */
  nullCounts: (): Reduction<NullCountsPartial, NullCountsPartial> => ({
    name: "nullCounts", map: nullCountsOf, combine: combineNullCounts, finalize: (p) => p,
  }),
  /** Rows with the n largest values (ties broken by `tieBreak` ascending). */
  nlargest: (n: number, by: string | readonly string[], tieBreak?: readonly string[]): Reduction<Frame, Frame> => {
    const o: TopKOptions = { by, largest: true, tieBreak };
    return { name: "nlargest", map: (df) => topK(df, n, o), combine: (ps) => topK(concat(ps), n, o), finalize: (p) => p };
  },
  nsmallest: (n: number, by: string | readonly string[], tieBreak?: readonly string[]): Reduction<Frame, Frame> => {
    const o: TopKOptions = { by, largest: false, tieBreak };
    return { name: "nsmallest", map: (df) => topK(df, n, o), combine: (ps) => topK(concat(ps), n, o), finalize: (p) => p };
  },
  /** pandas describe() of every numeric column (of the first partition's schema). */
  describe: (): Reduction<DescribePartial, Record<string, DescribeStats>> => ({
    name: "describe",
    map: (df) => {
      const columns: DescribePartial["columns"] = {};
      for (const c of numericColumns(df)) columns[c] = { moments: momentsOf(df.getColumn(c)), counts: valueCountsOf(df, c) };
      return { columns };
    },
    combine: (ps) => {
      const names = [...new Set(ps.flatMap((p) => Object.keys(p.columns)))];
      const columns: DescribePartial["columns"] = {};
      for (const c of names) {
        const have = ps.map((p) => p.columns[c]).filter((x) => x !== undefined);
        columns[c] = { moments: combineMoments(have.map((x) => x.moments)), counts: combineValueCounts(have.map((x) => x.counts)) };
      }
      return { columns };
    },
    finalize: (p) => {
      const out: Record<string, DescribeStats> = {};
      for (const [c, { moments, counts }] of Object.entries(p.columns)) {
        const [q0, q25, q50, q75, q100] = quantilesFromCounts(counts, [0, 0.25, 0.5, 0.75, 1]) as [number, number, number, number, number];
        out[c] = { count: moments.n, mean: momentsMean(moments), std: momentsStd(moments), min: q0, "25%": q25, "50%": q50, "75%": q75, max: q100 };
      }
      return out;
    },
  }),
} as const;
