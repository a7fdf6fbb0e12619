/**
 * Distributed sort by range partitioning (Dask `sort_values`, Spark
 * `orderBy`): sample the first sort key of every partition, pick n − 1
 * boundaries from the sorted samples, send each row to the output partition
 * of its key range, sort each output partition locally. Output partitions
 * are in order, so their concatenation is the sorted frame; no partition
 * holds more than its range.
 *
 *     samples    = sortSample(plan_i, key, k)            // per input partition
 *     boundaries = sortBoundaries(samples, key, n)        // one task
 *     shards_i   = sortSplit(plan_i, keys, boundaries)    // per input partition
 *     out_j      = sortBy(concat(shard_j of every i))     // per output partition
 *
 * Comparisons happen in polars (its text order), so boundaries and row
 * placement agree. Rows whose first key is missing go to the last partition
 * (missing sorts last, as pandas' default `na_position="last"`). Rows with
 * equal first keys always meet in one partition, so ties on later keys are
 * ordered there. A very frequent first-key value makes its partition large
 * (as in Dask).
 *
 * Every export runs on a worker (builtin reference).
 *
 * @module
 */
import pl from "nodejs-polars";
import type { Frame } from "./engine.ts";
import { DataFrameArgumentError } from "./errors.ts";
import { concatFrames, evalPlan, type PartitionPlan } from "./frame-plan.ts";
import { column, typeOf } from "./frame-utils.ts";
import { fromIpc, residentFrames, toIpc } from "./ipc.ts";

/** Rows sampled per input partition (evenly spaced). */
export const SORT_SAMPLE_ROWS = 1000;

/** The key column as it is compared: NaN is missing (pandas), text stays text (categorical too). */
function keyExpr(df: Frame, key: string): pl.Expr {
  const t = typeOf(column(df, key, "sort"));
  if (t === "float64") return pl.col(key).fillNan(null);
  if (t === "int64" || t === "bool") return pl.col(key).cast(pl.Float64);
  return pl.col(key).cast(pl.Utf8);
}

/** Up to `k` evenly spaced non-missing values of the first sort key of a partition (Arrow IPC, one column `k`). */
export async function sortSample(plan: PartitionPlan, key: string, k: number): Promise<Buffer> {
  const df = await evalPlan(plan);
  const vals = df.select(keyExpr(df, key).alias("k")).filter(pl.col("k").isNotNull());
  const step = Math.max(1, Math.floor(vals.height / Math.max(1, k)));
  const picked = step === 1 ? vals : vals.select(pl.col("k").gatherEvery(step));
  return toIpc(picked);
}

/** n − 1 non-decreasing boundaries (JS numbers or strings) from the partitions' samples. */
export function sortBoundaries(samples: Uint8Array[], n: number): (number | string)[] {
  if (!Number.isInteger(n) || n < 1) throw new DataFrameArgumentError(`sort: npartitions must be a positive integer, got ${n}`);
  const frames = samples.map((s) => fromIpc(s)).filter((f) => f.height > 0);
  if (frames.length === 0 || n === 1) return [];
  const all = concatFrames(frames).sort("k");
  const out: (number | string)[] = [];
  for (let i = 1; i < n; i++) {
    const v = all.getColumn("k").get(Math.min(all.height - 1, Math.floor((i * all.height) / n)));
    out.push(typeof v === "bigint" ? Number(v) : (v as number | string));
  }
  return out;
}

/**
 * Output partition of every row: the number of boundaries below its first
 * key (ascending), mirrored for descending; missing keys last.
 */
export function rangeIds(df: Frame, key: string, boundaries: readonly (number | string)[], descending: boolean): pl.Series {
  const n = boundaries.length + 1;
  const k = keyExpr(df, key);
  let id: pl.Expr = pl.lit(0);
  for (const b of boundaries) id = id.add(k.gt(pl.lit(b)).cast(pl.UInt32));
  if (descending) id = pl.lit(n - 1).sub(id);
  const ids = pl.when(k.isNull()).then(pl.lit(n - 1)).otherwise(id).cast(pl.UInt32).alias("__part");
  return df.select(ids).getColumn("__part");
}

/**
 * Split a partition into `n` key ranges (lz4 Arrow IPC each, in output
 * order). Fewer than n − 1 boundaries (no sample had a key) leave the last
 * ranges empty.
 */
export async function sortSplit(plan: PartitionPlan, key: string, boundaries: (number | string)[], descending: boolean, n: number): Promise<Buffer[]> {
  const df = await evalPlan(plan);
  const out: Frame[] = Array.from({ length: n }, () => df.head(0));
  if (df.height > 0) {
    if (boundaries.length === 0) out[0] = df;
    else {
      for (const part of df.withColumn(rangeIds(df, key, boundaries, descending)).partitionBy("__part", true, true)) {
        out[Number(part.getColumn("__part").get(0))] = part.drop("__part");
      }
    }
  }
  return residentFrames(out, { compression: "lz4" });
}
