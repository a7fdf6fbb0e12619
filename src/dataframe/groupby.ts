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
import { column, sortBy, typeOf } from "./frame-utils.ts";

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

function valueExpr(df: Frame, col: string): pl.Expr {
  return typeOf(column(df, col, "groupBy")) === "float64" ? pl.col(col).fillNan(null) : pl.col(col);
}

/**
 * Phase 1, on one input partition: one row per group with the partial
 * columns of every output.
 */
export function groupByPartial(df: Frame, keys: readonly string[], spec: AggSpec, opts: GroupByOptions = {}): Frame {
  const outs = validate(keys, spec);
  for (const k of keys) column(df, k, "groupBy");
  let d = df;
  const floatKeys = keys.filter((k) => typeOf(df.getColumn(k)) === "float64");
  if (floatKeys.length > 0) d = d.withColumns(...floatKeys.map((k) => pl.col(k).fillNan(null)));
  if (opts.dropna ?? true) {
    let keep: pl.Expr | undefined;
    for (const k of keys) if (d.getColumn(k).nullCount() > 0) keep = keep ? keep.and(pl.col(k).isNotNull()) : pl.col(k).isNotNull();
    if (keep) d = d.filter(keep);
  }
  const exprs: pl.Expr[] = [];
  for (const [, col, agg, i] of outs) {
    const v = valueExpr(d, col);
    const nn = v.filter(v.isNotNull());
    switch (agg) {
      case "sum": exprs.push(v.sum().alias(p(i, "sum"))); break;
      case "count": exprs.push(v.count().cast(pl.Int64).alias(p(i, "cnt"))); break;
      case "size": exprs.push(pl.len().cast(pl.Int64).alias(p(i, "size"))); break;
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
