/**
 * Small helpers over nodejs-polars frames that the kernels share (typed value
 * extraction, NaN→null normalisation, mixed-direction sorts).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError } from "./errors.ts";
import { fromPolarsType, type ColumnType } from "./schema.ts";

/** A polars Series (the engine's column type). */
export type Column = pl.Series;

/** Column by name, with a clear error when absent. */
export function column(df: Frame, name: string, op: string): Column {
  if (!df.columns.includes(name)) {
    throw new DataFrameArgumentError(`${op}: no column '${name}' (columns: ${df.columns.join(", ")})`);
  }
  return df.getColumn(name);
}

/** Logical type of a column. */
export function typeOf(s: Column): ColumnType {
  return fromPolarsType(s.dtype);
}

/** Expression for a column with NaN turned into null for float columns (pandas treats NaN as missing). */
export function naExpr(df: Frame, name: string): pl.Expr {
  const t = typeOf(df.getColumn(name));
  return t === "float64" ? pl.col(name).fillNan(null).alias(name) : pl.col(name);
}

/** Non-missing values of a numeric or bool column as doubles (NaN dropped later by the loops). */
export function float64Values(s: Column): Float64Array {
  const nn = s.nullCount() > 0 ? s.dropNulls() : s;
  const f = typeOf(nn) === "float64" && String(nn.dtype) === "DataType(Float64)" ? nn : nn.cast(pl.Float64);
  return f.toTypedArray() as Float64Array;
}

/** Non-missing values of an integer column as int64. */
export function int64Values(s: Column): BigInt64Array {
  const nn = s.nullCount() > 0 ? s.dropNulls() : s;
  const i = String(nn.dtype) === "DataType(Int64)" ? nn : nn.cast(pl.Int64);
  return i.toTypedArray() as BigInt64Array;
}

/** Number of missing values (null, or NaN in a float column). */
export function missingCount(s: Column): number {
  let n = s.nullCount();
  if (typeOf(s) === "float64" && s.len() > n) {
    n += Number(scalar(pl.DataFrame([s]).select(pl.col(s.name).isNan().sum())) ?? 0);
  }
  return n;
}

/** One sort key. */
export interface SortKey { column: string; descending?: boolean }

/**
 * Sort by several keys with their own directions (nodejs-polars takes one
 * direction for all keys): stable sorts from the last key to the first.
 * Nulls go last.
 */
export function sortBy(df: Frame, keys: readonly SortKey[]): Frame {
  if (keys.length === 0 || df.height < 2) return df;
  const same = keys.every((k) => Boolean(k.descending) === Boolean(keys[0]!.descending));
  if (same) return df.sort(keys.map((k) => k.column), Boolean(keys[0]!.descending), true, true);
  let out = df;
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i]!;
    out = out.sort(k.column, Boolean(k.descending), true, true);
  }
  return out;
}

/** A JS value of a one-row, one-column frame. */
export function scalar(df: Frame): unknown {
  const s = df.getColumns()[0];
  return s === undefined || s.len() === 0 ? null : s.get(0);
}

/** Below this many rows a join or group-by is cheap either way: no sortedness check. */
const SORTED_MIN_ROWS = 10_000;
/** Positions probed before the full check (a cheap way to reject unsorted columns). */
const SORTED_PROBES = 64;

/**
 * `df` with polars' "sorted ascending" flag set on the numeric column `name`
 * when its values (no missing ones) already are in ascending order; else
 * `df` unchanged. polars joins two flagged keys by merging instead of
 * hashing (measured on a StackLite block, one thread: inner join 367 →
 * 106 ms, left join 63 ms) and groups a flagged key by slicing runs. The
 * flag comes from sorting the column, which is cheap on sorted data, and is
 * kept only when the sorted column equals the original (so no row moves).
 * A strided probe of 64 values rejects most unsorted columns first.
 */
export function flagSorted(df: Frame, name: string): Frame {
  if (df.height < SORTED_MIN_ROWS || !df.columns.includes(name)) return df;
  const s = df.getColumn(name);
  const t = typeOf(s);
  if ((t !== "int64" && t !== "float64") || s.nullCount() > 0) return df;
  const step = Math.floor((s.len() - 1) / (SORTED_PROBES - 1));
  const probe = s.gather(Array.from({ length: SORTED_PROBES }, (_, i) => i * step)).toArray() as (number | bigint)[];
  for (let i = 1; i < probe.length; i++) if (!(probe[i - 1]! <= probe[i]!)) return df;
  const sorted = s.sort();
  return sorted.seriesEqual(s) ? df.withColumns(sorted) : df;
}
