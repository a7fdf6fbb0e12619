/**
 * Two-phase group-by aggregation for distributed frames.
 *
 *     partial  = groupByPartial(partition, keys, spec)          // per input partition
 *     shuffled = hashPartition(partial, keys, n)                 // (shuffle.ts) route groups
 *     combined = groupByCombine([p1, p2, ...], keys, spec)       // per output partition; associative
 *     result   = groupByFinalize(combined, keys, spec)           // per output partition
 *
 * The partial of each output is a few columns per group: mean → sum + count,
 * var/std → n + mean + M2 (combined with Chan's formula), nunique → the list
 * of distinct values, first/last → the first/last non-missing value in
 * partition order (so partials must be combined in partition order).
 * `groupByCombine` accepts its own output, so it can run as a tree.
 *
 * Adaptive split: where keys hardly repeat inside a partition, its partial
 * is nearly as long as the partition and the combine groups the same rows a
 * second time. Such a partition ships its raw rows instead
 * ({@link groupByRows}, chosen by {@link preferRows}), and the output
 * partition aggregates them ({@link groupByMerge}):
 *
 *     shard  = preferRows(partition, ...) ? groupByRows(partition, ...) : groupByPartial(partition, ...)
 *     merged = groupByMerge([shard1, shard2, ...], keys, spec)   // any mix, in partition order
 *
 * pandas semantics: rows with a missing key are dropped (`dropna: false`
 * keeps them as a group); `count` counts non-missing values, `size` counts
 * rows; `sum` of an all-missing group is 0; `mean`/`min`/`max`/`first`/`last`
 * of an all-missing group are null; `std`/`var` (ddof 1) are null below two
 * values; NaN in float columns counts as missing. The result is sorted by the
 * keys (pandas `sort=True`) unless `sort: false`.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError, EngineError } from "./errors.ts";
import { requireNumericColumn } from "./text-notes.ts";
import { column, naExpr, sortBy, typeOf } from "./frame-utils.ts";

/** Aggregations of {@link groupByAgg}. */
export const AGG_NAMES = ["mean", "sum", "count", "min", "max", "size", "nunique", "std", "var", "first", "last"] as const;
/** One of {@link AGG_NAMES}. */
export type AggName = (typeof AGG_NAMES)[number];
/** Named outputs: `{ AverageScore: ["Score", "mean"], NumQuestions: ["Id", "count"] }`. */
export type AggSpec = Readonly<Record<string, readonly [column: string, agg: AggName]>>;

/** Options of the group-by phases. */
export interface GroupByOptions {
  /** Drop rows whose key is missing (default true, as pandas). */
  dropna?: boolean;
  /** Sort the final result by the keys (default true, as pandas). */
  sort?: boolean;
}

function validate(keys: readonly string[], spec: AggSpec): [string, string, AggName, number][] {
  if (keys.length === 0) throw new DataFrameArgumentError("groupBy: keys must name at least one column");
  const out: [string, string, AggName, number][] = [];
  let i = 0;
  for (const [name, [col, agg]] of Object.entries(spec)) {
    if (!(AGG_NAMES as readonly string[]).includes(agg)) {
      throw new DataFrameArgumentError(`groupBy: output '${name}' has unknown aggregation '${agg}' (known: ${AGG_NAMES.join(", ")})`);
    }
    if (keys.includes(name)) throw new DataFrameArgumentError(`groupBy: output '${name}' has the name of a key column`);
    out.push([name, col, agg, i++]);
  }
  return out;
}

const p = (i: number, what: string): string => `__agg${i}_${what}`;

/** Aggregations that need numbers: on a text column each is an ExpressionTypeError saying why the column is text. */
const NUMERIC_AGGS: ReadonlySet<AggName> = new Set(["sum", "mean", "var", "std"]);

function requireNumericAggs(df: Frame, outs: readonly [string, string, AggName, number][]): void {
  for (const [, col, agg] of outs) if (NUMERIC_AGGS.has(agg)) requireNumericColumn(df, col, `groupBy ${agg}`);
}

function valueExpr(df: Frame, col: string): pl.Expr {
  return typeOf(column(df, col, "groupBy")) === "float64" ? pl.col(col).fillNan(null) : pl.col(col);
}

/** NaN keys (float) become null, and rows with a missing key are dropped unless `dropna: false`. */
function normalizeKeys(df: Frame, keys: readonly string[], opts: GroupByOptions): Frame {
  let d = df;
  const floatKeys = keys.filter((k) => typeOf(df.getColumn(k)) === "float64");
  if (floatKeys.length > 0) d = d.withColumns(...floatKeys.map((k) => pl.col(k).fillNan(null)));
  if (opts.dropna ?? true) {
    let keep: pl.Expr | undefined;
    for (const k of keys) if (d.getColumn(k).nullCount() > 0) keep = keep ? keep.and(pl.col(k).isNotNull()) : pl.col(k).isNotNull();
    if (keep) d = d.filter(keep);
  }
  return d;
}

/**
 * Phase 1, on one input partition: one row per group with the partial
 * columns of every output.
 */
export function groupByPartial(df: Frame, keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {}): Frame {
  const outs = validate(keys, spec);
  for (const k of keys) column(df, k, "groupBy");
  requireNumericAggs(df, outs);
  const raw = isRawRows(df, keys);
  // raw rows come normalised from groupByRows; they are many groups per row by choice (preferRows): sort them
  const ordered = outs.some(([, , agg]) => agg === "first" || agg === "last");
  const d = raw ? presort(df.drop(RAW_ROWS), keys, ordered) : normalizeKeys(df, keys, opts);
  const exprs: pl.Expr[] = [];
  for (const [, col, agg, i] of outs) {
    // `size` reads no values: raw-row shards (see groupByRows) do not carry its column
    if (agg === "size") {
      if (!raw) column(df, col, "groupBy");
      exprs.push(pl.len().cast(pl.Int64).alias(p(i, "size")));
      continue;
    }
    const v = valueExpr(d, col);
    const nn = v.filter(v.isNotNull());
    switch (agg) {
      case "sum": exprs.push(v.sum().alias(p(i, "sum"))); break;
      case "count": exprs.push(v.count().cast(pl.Int64).alias(p(i, "cnt"))); break;
      case "mean":
        exprs.push(v.sum().cast(pl.Float64).alias(p(i, "sum")), v.count().cast(pl.Int64).alias(p(i, "cnt")));
        break;
      case "var": case "std":
        exprs.push(v.count().cast(pl.Int64).alias(p(i, "n")), v.mean().cast(pl.Float64).alias(p(i, "mean")),
          v.cast(pl.Float64).sub(v.cast(pl.Float64).mean()).pow(2).sum().alias(p(i, "m2")));
        break;
      case "min": exprs.push(v.min().alias(p(i, "min"))); break;
      case "max": exprs.push(v.max().alias(p(i, "max"))); break;
      case "nunique": exprs.push(nn.unique().alias(p(i, "u"))); break;
      case "first": exprs.push(nn.first().alias(p(i, "first"))); break;
      case "last": exprs.push(nn.last().alias(p(i, "last"))); break;
    }
  }
  try {
    return d.groupBy([...keys]).agg(...exprs);
  } catch (err) {
    throw new EngineError("groupByPartial", String((err as Error).message ?? err), { cause: err });
  }
}

/** Rows from which {@link presort} sorts (below, hashing is cheap anyway). */
const PRESORT_MIN_ROWS = 50_000;

/**
 * Rows sorted by their single numeric key, for a group-by with many groups
 * per row: polars groups a column it knows to be sorted by slicing runs
 * instead of hashing, and hashing into a million small groups is slow.
 * Measured on a StackLite block (1.26M rows, 0.82 groups per row, one
 * thread): hash group-by 284–347 ms; sort 83–112 ms + group-by 42–56 ms.
 * (Merging a bucket's chunks into one before sorting was measured too: no
 * faster end to end, and one more copy of the bucket in memory.)
 * The sort is stable when `stable` (first/last depend on row order); other
 * keys (several, text, with missing values) are left to hashing.
 */
function presort(df: Frame, keys: readonly string[], stable: boolean): Frame {
  if (keys.length !== 1 || df.height < PRESORT_MIN_ROWS) return df;
  const s = df.getColumn(keys[0]!);
  const t = typeOf(s);
  if ((t !== "int64" && t !== "float64") || s.nullCount() > 0) return df;
  return df.sort(keys[0]!, false, true, stable);
}

/**
 * Marker column of a raw-row shard (see {@link groupByRows}): dtype Null, so
 * it carries no data. A frame is raw rows when it has this column and no key
 * of this name; {@link groupByRows} refuses frames where a key or an
 * aggregated column has the name, so a partial never carries it.
 */
export const RAW_ROWS = "__shoal_groupby_rows";

/** True for raw rows written by {@link groupByRows} (else a partial). */
export function isRawRows(df: Frame, keys: readonly string[]): boolean {
  return df.columns.includes(RAW_ROWS) && !keys.includes(RAW_ROWS);
}

/** The columns raw rows carry besides the keys: every aggregated column but those only counted by `size`. */
function valueColumns(keys: readonly string[], outs: readonly [string, string, AggName, number][]): string[] {
  const cols = new Set<string>();
  for (const [, col, agg] of outs) if (agg !== "size" && !keys.includes(col)) cols.add(col);
  return [...cols];
}

/** Whether {@link groupByRows} can stand in for {@link groupByPartial} (no column named like the marker). */
export function rowsAllowed(keys: readonly string[], spec: AggSpec): boolean {
  return !keys.includes(RAW_ROWS) && !Object.values(spec).some(([col]) => col === RAW_ROWS);
}

/**
 * Phase 1 without aggregation, for keys that hardly repeat in a partition:
 * the rows themselves, restricted to the keys and the aggregated columns,
 * with the keys normalised as {@link groupByPartial} does (NaN → null, rows
 * with a missing key dropped unless `dropna: false`), plus the
 * {@link RAW_ROWS} marker. {@link groupByPartial} turns them into a partial
 * (after a shuffle, over the raw rows of every partition at once), so a
 * partial is computed once instead of twice (partial, then combine).
 */
export function groupByRows(df: Frame, keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {}): Frame {
  const outs = validate(keys, spec);
  if (!rowsAllowed(keys, spec)) throw new DataFrameArgumentError(`groupBy: column name '${RAW_ROWS}' is reserved`);
  for (const k of keys) column(df, k, "groupBy");
  for (const [, col] of outs) column(df, col, "groupBy");
  requireNumericAggs(df, outs);
  const d = normalizeKeys(df.select(...keys, ...valueColumns(keys, outs)), keys, opts);
  return d.withColumns(pl.lit(null).alias(RAW_ROWS));
}

/** Rows of the first estimate (distinct keys of a sample spread over the partition). */
const SAMPLE_ROWS = 20_000;
/** Rows of the second estimate (each row's key counted in the whole partition). */
const PROBE_ROWS = 2_000;

/**
 * `s` row indices out of `n` (> s), one in each of `s` equal strata, placed
 * pseudo-randomly but deterministically: an even sample, without the
 * aliasing of every k-th row on periodic data.
 */
function strata(n: number, s: number): number[] {
  const out = new Array<number>(s);
  for (let i = 0; i < s; i++) {
    let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    out[i] = Math.min(n - 1, Math.floor(((i + (h >>> 0) / 2 ** 32) * n) / s));
  }
  return out;
}

/**
 * Groups per row of a partition (G / N after key normalisation), estimated
 * cheaply, to choose between a partial and raw rows. Two steps:
 *
 * 1. the distinct-key ratio of ≤ 20,000 rows spread evenly (one drawn in
 *    each of 20,000 equal strata). Its expected value is not below G / N
 *    (the sample meets each group with probability at least s / N, its
 *    sampling fraction), but it can be far above it: a 1.6%
 *    sample of a partition with 2 rows per group looks all-distinct, and so
 *    does a table sorted by key. When it is at most `stopAt`, it is returned;
 * 2. else the mean of 1/c over 2,000 rows drawn the same way, where c counts
 *    the row's key in the whole partition (a semi join of the partition's
 *    keys with the probe's, then a count). Since G / N is the mean of 1/c
 *    over all rows, this is unbiased, with a standard error below
 *    0.5/√2000 ≈ 0.011.
 *
 * An empty partition gives 0; an estimate that fails (odd key types) gives 0,
 * which keeps the partial.
 */
export function estimateGroupRatio(df: Frame, keys: readonly string[], opts: GroupByOptions = {}, stopAt = 0): number {
  for (const k of keys) column(df, k, "groupBy");
  try {
    const dropna = opts.dropna ?? true;
    const single = keys.length === 1;
    let d = df.select(...keys.map((k) => naExpr(df, k)));
    const nulls = keys.some((k) => d.getColumn(k).nullCount() > 0) && dropna;
    // a single key is used as it is (no copy): missing keys never match in the joins below and are dropped from the samples
    if (nulls && !single) d = d.dropNulls();
    const n = d.height;
    const whole = n <= SAMPLE_ROWS;
    const at = whole ? [] : strata(n, SAMPLE_ROWS);
    let sample = whole ? d : d.select(...keys.map((k) => pl.col(k).gather(at)));
    if (nulls) sample = sample.dropNulls();
    if (sample.height === 0) return 0;
    const r1 = sample.unique().height / sample.height;
    if (r1 <= stopAt || whole) return r1;
    const ids: Frame = single && (dropna || d.getColumn(keys[0]!).nullCount() === 0)
      ? d.select(pl.col(keys[0]!).alias("__k"))
      : pl.DataFrame([d.hashRows(1, 2, 3, 4).rename("__k")]); // missing keys (kept) hash alike
    let probe = ids.select(pl.col("__k").gather(strata(n, PROBE_ROWS)));
    if (nulls) probe = probe.dropNulls();
    const counts = ids.join(probe.unique(), { on: "__k", how: "semi" }).groupBy("__k").agg(pl.len().alias("__c"));
    const r = probe.join(counts, { on: "__k", how: "left" }).select(pl.lit(1).div(pl.col("__c").cast(pl.Float64)).mean().alias("r"));
    const v = Number(r.getColumn("r").get(0));
    return Number.isFinite(v) ? v : 0;
  } catch {
    return 0;
  }
}

/**
 * Above this estimated number of groups per row ({@link estimateGroupRatio})
 * a split ships raw rows instead of a partial. Measured with
 * `bench/stacklite/kernel_profile.ts --sweep` (4 partitions of 1.26M rows
 * into 4 buckets, one polars thread, CPU time of all splits and buckets):
 * raw rows cost more below ~0.3 groups per row (+26–35% at 0.1, +9–18% at
 * 0.2, two runs), are a toss-up between 0.3 and 0.45 (+10% to −27%, noisy)
 * while shipping 2.3–3x the shard bytes, and save 21–35% from 0.5 up
 * (StackLite's OwnerUserId, 0.82 groups per row: −27%). 0.5 takes the
 * clear wins only.
 */
export const ROWS_ABOVE = 0.5;

/** Whether a split should ship raw rows ({@link groupByRows}) rather than a partial. */
export function preferRows(df: Frame, keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {}): boolean {
  return rowsAllowed(keys, spec) && estimateGroupRatio(df, keys, opts, ROWS_ABOVE) > ROWS_ABOVE;
}

/**
 * Phase 2: merge partials of the same groups (after a shuffle by key, or as a
 * tree). Partials must be given in partition order (first/last depend on it).
 * The result has the partial's shape, so combine can be applied again.
 */
export function groupByCombine(partials: readonly Frame[], keys: readonly string[], spec: AggSpec): Frame {
  const outs = validate(keys, spec);
  const parts = partials.filter((f) => f.height > 0);
  if (parts.length === 0) return partials[0] ?? pl.DataFrame({});
  const all = parts.length === 1 ? parts[0]! : pl.concat([...parts], { how: "verticalRelaxed" as "vertical", rechunk: false });
  const exprs: pl.Expr[] = [];
  for (const [, , agg, i] of outs) {
    const c = (w: string): pl.Expr => pl.col(p(i, w));
    switch (agg) {
      case "sum": exprs.push(c("sum").sum().alias(p(i, "sum"))); break;
      case "count": exprs.push(c("cnt").sum().alias(p(i, "cnt"))); break;
      case "size": exprs.push(c("size").sum().alias(p(i, "size"))); break;
      case "mean": exprs.push(c("sum").sum().alias(p(i, "sum")), c("cnt").sum().alias(p(i, "cnt"))); break;
      case "var": case "std": {
        // Chan: n = Σn_j, mean = Σ n_j·mean_j / n, M2 = Σ [M2_j + n_j (mean_j − mean)²]; empty parts have n_j = 0
        const live = c("n").gt(0);
        const n = c("n").sum();
        const mean = c("n").cast(pl.Float64).mul(c("mean").fillNull(0)).sum().div(n);
        const m2 = pl.when(live).then(c("m2").add(c("n").cast(pl.Float64).mul(c("mean").sub(mean).pow(2)))).otherwise(pl.lit(0)).sum();
        exprs.push(n.alias(p(i, "n")), mean.alias(p(i, "mean")), m2.alias(p(i, "m2")));
        break;
      }
      case "min": exprs.push(c("min").min().alias(p(i, "min"))); break;
      case "max": exprs.push(c("max").max().alias(p(i, "max"))); break;
      case "nunique": {
        // exploding an empty list yields one null: drop it
        const e = c("u").explode();
        exprs.push(e.filter(e.isNotNull()).unique().alias(p(i, "u")));
        break;
      }
      case "first": exprs.push(c("first").filter(c("first").isNotNull()).first().alias(p(i, "first"))); break;
      case "last": exprs.push(c("last").filter(c("last").isNotNull()).last().alias(p(i, "last"))); break;
    }
  }
  try {
    return all.groupBy([...keys]).agg(...exprs);
  } catch (err) {
    throw new EngineError("groupByCombine", String((err as Error).message ?? err), { cause: err });
  }
}

/**
 * Phase 2 over the shards of one output partition, raw rows
 * ({@link groupByRows}) and partials mixed, given in partition order (input
 * partitions choose their kind independently). The raw rows become one
 * partial (over all of them; over each run of consecutive raw shards when
 * the spec has `first`/`last`, which depend on the order), combined with the
 * partial shards in partition order; with a single non-empty partial left
 * there is nothing to combine (its groups are unique). `align` harmonises
 * column types across frames of one kind (partitions may disagree: int vs
 * float); it is applied to all raw shards, then to all partials.
 */
export function groupByMerge(shards: readonly Frame[], keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {},
  align: (frames: Frame[]) => Frame[] = (f) => f): Frame {
  const outs = validate(keys, spec);
  const ordered = outs.some(([, , agg]) => agg === "first" || agg === "last");
  const isRaw = shards.map((f) => isRawRows(f, keys));
  const raws = align(shards.filter((_, i) => isRaw[i]));
  const units: (Frame | Frame[])[] = [];
  let run: Frame[] | undefined;
  let r = 0;
  shards.forEach((f, i) => {
    if (!isRaw[i]) {
      units.push(f);
      if (ordered) run = undefined; // else all raw shards make one run
      return;
    }
    if (!run) { run = []; units.push(run); }
    run.push(raws[r++]!);
  });
  const partials = align(units.map((u) => {
    if (!Array.isArray(u)) return u;
    const live = u.filter((f) => f.height > 0);
    const rows = live.length === 0 ? u[0]! : live.length === 1 ? live[0]! : pl.concat(live, { how: "verticalRelaxed" as "vertical", rechunk: false });
    return groupByPartial(rows, keys, spec, opts);
  }));
  const live = partials.filter((f) => f.height > 0);
  if (live.length === 0) return partials[0] ?? pl.DataFrame({});
  return live.length === 1 ? live[0]! : groupByCombine(live, keys, spec);
}

/** Phase 3: turn combined partials into the named outputs (sorted by keys unless `sort: false`). */
export function groupByFinalize(combined: Frame, keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {}): Frame {
  const outs = validate(keys, spec);
  const exprs: pl.Expr[] = keys.map((k) => pl.col(k));
  for (const [name, , agg, i] of outs) {
    const c = (w: string): pl.Expr => pl.col(p(i, w));
    switch (agg) {
      case "sum": exprs.push(c("sum").alias(name)); break;
      case "count": exprs.push(c("cnt").alias(name)); break;
      case "size": exprs.push(c("size").alias(name)); break;
      case "mean": exprs.push(pl.when(c("cnt").gt(0)).then(c("sum").cast(pl.Float64).div(c("cnt"))).otherwise(pl.lit(null)).alias(name)); break;
      case "var": exprs.push(pl.when(c("n").gt(1)).then(c("m2").div(c("n").sub(1))).otherwise(pl.lit(null)).alias(name)); break;
      case "std": exprs.push(pl.when(c("n").gt(1)).then(c("m2").div(c("n").sub(1)).pow(0.5)).otherwise(pl.lit(null)).alias(name)); break;
      case "min": exprs.push(c("min").alias(name)); break;
      case "max": exprs.push(c("max").alias(name)); break;
      case "nunique": exprs.push(c("u").lst.lengths().cast(pl.Int64).alias(name)); break;
      case "first": exprs.push(c("first").alias(name)); break;
      case "last": exprs.push(c("last").alias(name)); break;
    }
  }
  if (combined.width === 0) return combined;
  const out = combined.select(...exprs);
  return opts.sort ?? true ? sortBy(out, keys.map((k) => ({ column: k }))) : out;
}

/**
 * One-partition group-by with named outputs (all three phases).
 *
 * @example
 * ```ts
 * groupByAgg(questions, ["OwnerUserId"], {
 *   AverageScore: ["Score", "mean"], NumQuestions: ["Id", "count"], NumAnswers: ["AnswerCount", "sum"],
 * });
 * ```
 */
export function groupByAgg(df: Frame, keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {}): Frame {
  return groupByFinalize(groupByCombine([groupByPartial(df, keys, spec, opts)], keys, spec), keys, spec, opts);
}
