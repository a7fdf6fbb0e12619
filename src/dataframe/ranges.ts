/**
 * Key ranges of partitions ("divisions" in Dask): the smallest and largest
 * non-missing value of each numeric column of each partition, and how many
 * values are missing. They are known for persisted frames (measured once,
 * right after `persist`), carried through row-wise operations that keep a
 * column's values (filters, projections, renames), and let `merge` join two
 * frames without a shuffle when their partitions cover aligned key ranges —
 * the usual case for tables exported in primary-key order (both StackLite
 * tables are ordered by `Id`): each partition of the driving side is joined
 * with only the partitions of the other side whose ranges overlap its own,
 * and those are trimmed to its range first.
 *
 * The plan is correct for any ranges (overlapping, unsorted): every partition
 * of the other side that *could* hold a matching key takes part. It is used
 * only when it is cheap: at most about two partners per partition on
 * average; interleaved ranges fall back to the hash shuffle.
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { outputName } from "./frame-expr.ts";
import type { Op } from "./frame-plan.ts";
import { typeOf } from "./frame-utils.ts";

/** Range of one column in one partition (`min`/`max` null when the column has no non-missing value). */
export interface ColumnRange {
  min: number | null;
  max: number | null;
  /** Missing values (null, and NaN in float columns). */
  nulls: number;
}

/** Ranges of the numeric columns of one partition. */
export interface PartitionRanges {
  rows: number;
  columns: Record<string, ColumnRange>;
}

/** Ranges of every partition of a frame (index = partition). */
export type FrameRanges = readonly PartitionRanges[];

/** Measure the ranges of a partition's int64 and float64 columns (runs on a worker). */
export function measureRanges(df: Frame): PartitionRanges {
  const columns: Record<string, ColumnRange> = {};
  const numeric = df.getColumns().filter((s) => { const t = typeOf(s); return t === "int64" || t === "float64"; });
  if (numeric.length > 0) {
    const exprs = numeric.flatMap((s) => {
      const e = typeOf(s) === "float64" ? pl.col(s.name).fillNan(null) : pl.col(s.name);
      return [e.min().cast(pl.Float64).alias(`${s.name}\u0000min`), e.max().cast(pl.Float64).alias(`${s.name}\u0000max`), e.nullCount().cast(pl.Float64).alias(`${s.name}\u0000nulls`)];
    });
    const row = df.select(...exprs).row(0) as (number | null)[];
    numeric.forEach((s, i) => {
      // int64 beyond 2^53 is rounded by the cast: widen such bounds to infinity (still a valid bound)
      const lo = row[3 * i] ?? null, hi = row[3 * i + 1] ?? null;
      const min = lo !== null && Math.abs(lo) >= 2 ** 53 ? -Infinity : lo;
      const max = hi !== null && Math.abs(hi) >= 2 ** 53 ? Infinity : hi;
      columns[s.name] = { min, max, nulls: Number(row[3 * i + 2] ?? 0) };
    });
  }
  return { rows: df.height, columns };
}

/**
 * Ranges after a row-wise operation: rows may go (filter, head, dropNulls),
 * which keeps every range valid as a bound; a column keeps its range only
 * while its values are untouched.
 */
export function rangesAfter(ranges: FrameRanges | null, op: Op): FrameRanges | null {
  if (!ranges) return null;
  const map = (f: (cols: Record<string, ColumnRange>) => Record<string, ColumnRange>): FrameRanges => ranges.map((p) => ({ rows: p.rows, columns: f(p.columns) }));
  switch (op.op) {
    case "filter": case "head": case "dropNulls": case "sort": return ranges;
    case "drop": return map((c) => Object.fromEntries(Object.entries(c).filter(([k]) => !op.columns.includes(k))));
    case "rename": return map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [op.mapping[k] ?? k, v])));
    case "with": {
      const changed = new Set(op.exprs.map(outputName));
      return map((c) => Object.fromEntries(Object.entries(c).filter(([k]) => !changed.has(k))));
    }
    case "select": {
      const kept: [string, string][] = [];
      for (const e of op.exprs) {
        if (e.t === "col") kept.push([e.name, e.name]);
        else if (e.t === "alias" && e.e.t === "col") kept.push([e.e.name, e.name]);
      }
      return map((c) => Object.fromEntries(kept.filter(([from]) => c[from] !== undefined).map(([from, to]) => [to, c[from]!])));
    }
  }
}

/** For each partition of the driving side, the partitions of the other side that may hold its keys. */
export interface AlignedPairs {
  partners: number[][];
  /** The key range of each driving partition (null: no non-missing key). */
  bounds: ([number, number] | null)[];
}

/**
 * Pair partitions by overlapping key ranges, or null when the ranges are
 * unknown or interleaved (more than `maxPartnersPerPartition` partners per
 * driving partition on average). Missing keys: with `nullsEqual`, a driving
 * partition with missing keys also pairs with every partition of the other
 * side that has some.
 */
export function alignByRanges(driving: FrameRanges | null, other: FrameRanges | null, key: string,
  opts: { nullsEqual: boolean; maxPartnersPerPartition?: number }): AlignedPairs | null {
  if (!driving || !other || driving.length === 0 || other.length === 0) return null;
  const d = driving.map((p) => p.columns[key]);
  const o = other.map((p) => p.columns[key]);
  if (d.some((r) => r === undefined) || o.some((r) => r === undefined)) return null;
  const partners: number[][] = [];
  const bounds: ([number, number] | null)[] = [];
  let pairs = 0;
  for (const r of d as ColumnRange[]) {
    const mine: number[] = [];
    o.forEach((x, j) => {
      const overlap = r.min !== null && r.max !== null && x!.min !== null && x!.max !== null && x!.min <= r.max && x!.max >= r.min;
      if (overlap || (opts.nullsEqual && r.nulls > 0 && x!.nulls > 0)) mine.push(j);
    });
    partners.push(mine);
    bounds.push(r.min !== null && r.max !== null ? [r.min, r.max] : null);
    pairs += mine.length;
  }
  return pairs <= (opts.maxPartnersPerPartition ?? 2.5) * driving.length ? { partners, bounds } : null;
}
