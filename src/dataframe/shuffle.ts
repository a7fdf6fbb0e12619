/**
 * Hash partitioning for shuffles (group-by combine, hash joins) and concat.
 *
 * The row hash is polars' `hashRows` with fixed seeds over the key columns,
 * cast to their logical type (int → Int64, float → Float64 with NaN as null,
 * text → Utf8), modulo the number of output partitions. With the same polars
 * build (one npm package version, {@link HASH_VERSION}), the same key gives
 * the same partition in every process and on every machine; both sides of a
 * join must be partitioned with the same key types (see `keyTypes`). Missing
 * keys all hash alike, so null keys of both join sides meet in one partition.
 *
 * @module
 */
import pl from "nodejs-polars";
import { engine, type Frame } from "./engine.ts";
import { DataFrameArgumentError } from "./errors.ts";
import { column, typeOf } from "./frame-utils.ts";
import { isCategorical, toPolarsType, type ColumnType } from "./schema.ts";

/** Seeds of the shuffle hash (changing them changes every partition assignment). */
const SEEDS = [0x5eed_0001, 0x5eed_0002, 0x5eed_0003, 0x5eed_0004] as const;

/**
 * Identifies the hash function: workers exchanging shuffle outputs must agree
 * on it (polars' row hash is stable for one polars build).
 */
export const HASH_VERSION = "polars-0.24.1-hashRows-v1";

/** Options of {@link hashPartition}. */
export interface HashPartitionOptions {
  /** Logical types to hash the keys as (give the same to both sides of a join). Default: each key's own type. */
  keyTypes?: Readonly<Record<string, ColumnType>>;
}

/** The output partition (0..n-1) of every row, as a UInt32 column. */
export function partitionIds(df: Frame, keys: readonly string[], n: number, opts: HashPartitionOptions = {}): pl.Series {
  if (!Number.isInteger(n) || n < 1) throw new DataFrameArgumentError(`hashPartition: n must be a positive integer, got ${n}`);
  if (keys.length === 0) throw new DataFrameArgumentError("hashPartition: keys must name at least one column");
  const exprs = keys.map((k) => {
    const own = typeOf(column(df, k, "hashPartition"));
    const t = opts.keyTypes?.[k] ?? own;
    let e = pl.col(k);
    if (own === "float64") e = e.fillNan(null);
    // categorical codes differ between processes: hash the text
    const cat = isCategorical(df.getColumn(k).dtype);
    return (t === own && t !== "int64" && !cat ? e : e.cast(toPolarsType(t === "null" ? "utf8" : t))).alias(k);
  });
  const h = df.select(...exprs).hashRows(SEEDS[0], SEEDS[1], SEEDS[2], SEEDS[3]).rename("__h");
  return pl.DataFrame([h]).select(pl.col("__h").modulo(pl.lit(n).cast(pl.UInt64)).cast(pl.UInt32).alias("__part")).getColumn("__part");
}

/**
 * Split a frame into `n` frames by key hash (some may be empty). Row order
 * inside each output follows the input.
 *
 * @example
 * ```ts
 * const outs = hashPartition(tags, ["Id"], 4, { keyTypes: { Id: "int64" } });
 * ```
 */
export function hashPartition(df: Frame, keys: readonly string[], n: number, opts: HashPartitionOptions = {}): Frame[] {
  const ids = partitionIds(df, keys, n, opts);
  if (n === 1) return [df];
  const out: Frame[] = new Array<Frame>(n);
  if (df.height > 0) {
    const parts = df.withColumn(ids).partitionBy("__part", true, true);
    for (const part of parts) {
      const id = Number(part.getColumn("__part").get(0));
      out[id] = part.drop("__part");
    }
  }
  for (let i = 0; i < n; i++) if (out[i] === undefined) out[i] = df.head(0);
  return out;
}

/** Concatenate partitions vertically (numeric types are relaxed to a common type). */
export function concat(parts: readonly Frame[]): Frame {
  if (parts.length === 0) throw new DataFrameArgumentError("concat: no frames");
  const nonEmpty = parts.filter((p) => p.height > 0);
  if (nonEmpty.length === 0) return parts[0]!;
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  try {
    return engine().concat(nonEmpty);
  } catch {
    return pl.concat([...nonEmpty], { how: "verticalRelaxed" as "vertical", rechunk: false });
  }
}
