/**
 * The largest groups by count without grouping every row:
 * `groupBy(key).agg({..., n: [col, "count" | "size"]}).nlargest(k, "n")`.
 *
 * The plain plan groups every row (split, hash shuffle, bucket) although
 * only `k` groups are wanted. When the ranking column is a count (a sum of
 * non-negative per-partition counts), the threshold algorithm of Cao and
 * Wang (TPUT, "Efficient top-K query calculation in distributed networks",
 * PODC 2004) finds exactly the same `k` groups after counting each
 * partition's groups once, where the partition lives:
 *
 * 1. every partition counts its groups ({@link groupCounts}; the table stays
 *    on its worker) and reports its own top `k` ({@link topCounts});
 * 2. summing the reported counts per group gives lower bounds of the true
 *    counts; their `k`-th largest is `τ` ({@link countThreshold}). A group
 *    whose count is below `τ / m` in each of the `m` partitions has a total
 *    below `τ`, while at least `k` groups have a total of at least `τ`: it
 *    cannot be among the top `k`, not even tied. Every partition reports the
 *    groups with `count · m ≥ τ` ({@link countCandidates});
 * 3. the candidates' rows are aggregated exactly, with every output of the
 *    group-by, and ranked as `nlargest` ranks (ties by `tieBreak`).
 *
 * With fewer than `k` reported groups `τ` is 0 and every group is a
 * candidate: the answer is still exact, only not cheaper. Missing keys are
 * dropped (the group-by's default), as the plain plan drops them.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { concatFrames } from "./frame-plan.ts";
import { column, naExpr } from "./frame-utils.ts";
import type { AggName } from "./groupby.ts";
import { topK } from "./reductions.ts";
import { isCategorical, toPolarsType, type ColumnType } from "./schema.ts";

/** The count column of a count table (`[key, COUNT]`). */
export const COUNT = "__shoal_count";

/** Aggregations whose per-partition values add up to the total and are never negative. */
export const COUNTING_AGGS: readonly AggName[] = ["count", "size"];

/**
 * Phase 1, on one partition: each group's count as the group-by counts it
 * (`count`: rows with a non-missing `col`, NaN counted as missing; `size`:
 * rows), missing keys dropped. A group whose `col` is all missing is left
 * out (its count is 0; see {@link countThreshold}). Counted by sorting the
 * key column and counting its runs: a hash group-by over a million
 * near-unique keys costs ~4x more (118 against 33 ms for a StackLite block).
 */
export function groupCounts(df: Frame, key: string, col: string, agg: "count" | "size"): Frame {
  column(df, key, "nlargest");
  const counted = agg === "count" && col !== key;
  const d = df.select(pl.col(key), ...(counted ? [naExpr(df, col)] : []));
  let keys = d.filter(counted ? pl.col(key).isNotNull().and(pl.col(col).isNotNull()) : pl.col(key).isNotNull()).getColumn(key);
  // categorical codes differ between partitions: count tables meet as plain text
  if (isCategorical(keys.dtype)) keys = keys.cast(pl.Utf8);
  const counts = keys.sort().valueCounts();
  return counts.select(pl.col(key), pl.col(counts.columns[1]!).cast(pl.Int64).alias(COUNT));
}

/** Phase 1: the `k` largest counts of a count table (ties: smaller key first). */
export function topCounts(counts: Frame, key: string, k: number): Frame {
  return topK(counts, k, { by: COUNT, largest: true, tieBreak: [key] });
}

/**
 * Phase 2: `τ`, the `k`-th largest sum of the reported counts per group; 0
 * with fewer than `k` groups with a count above 0, and then every group,
 * counted or not, is a candidate ({@link rowsOfCandidates}).
 */
export function countThreshold(tops: readonly Frame[], key: string, k: number): number {
  const sums = concatFrames(tops).groupBy(key).agg(pl.col(COUNT).sum().alias(COUNT));
  if (sums.height < k || k < 1) return 0;
  return Number(sums.getColumn(COUNT).sort({ descending: true }).get(k - 1));
}

/** Phase 2, on one partition: the keys whose count could still reach `τ` (`count · m ≥ τ`). */
export function countCandidates(counts: Frame, key: string, tau: number, m: number): Frame {
  return counts.filter(pl.col(COUNT).cast(pl.Float64).mul(pl.lit(m)).gtEq(pl.lit(tau))).select(key);
}

/** Phase 3, on one partition: its rows whose key is a candidate of any partition (row order kept; all rows when `τ` is 0). */
export function rowsOfCandidates(df: Frame, key: string, type: ColumnType, tau: number, candidates: readonly Frame[]): Frame {
  column(df, key, "nlargest");
  if (!(tau > 0)) return df;
  const dtype = toPolarsType(type);
  const values = concatFrames(candidates).getColumn(key).cast(dtype).unique();
  return df.filter(pl.col(key).cast(dtype).isIn(values.implode()));
}
