/**
 * The DataFrame writers' client side: which objects a write makes, and the
 * commit protocol around the write tasks (storage/commit.ts). One object per
 * partition goes to `_temporary/<job>/` first and is moved to its final name
 * only when every partition is written; a directory output then gets
 * `_SUCCESS`. A failed write leaves no final part and no marker. A single
 * file is one storage write, atomic by itself.
 *
 * @module
 */
import type { Client } from "../client/client.ts";
import { delayed } from "../graph/delayed.ts";
import { newOutputJob, writeCommitted, type OutputPlan } from "../storage/commit.ts";
import type { PartitionPlan } from "./frame-plan.ts";
import { materialize, partitionBytes, writeConcat, writeParquetSingle, writePartition, type WriteFormat, type WriteTaskOptions } from "./frame-tasks.ts";

/** Options of the DataFrame writers (`toCsv`, `toJsonLines`, `toParquet`). */
export interface FrameWriteOptions extends WriteTaskOptions {
  /** Write one object (default: one per partition, unless the path has no `*` and ends with the format's extension). */
  singleFile?: boolean;
}

/** The final URLs and the commit plan of a write of `n` partitions to `path` (a directory, or a pattern with `*`). */
export function partPlan(path: string, n: number, ext: string): OutputPlan {
  const width = Math.max(5, String(n - 1).length);
  const pattern = path.includes("*");
  const dir = `${path.replace(/\/+$/, "")}/`;
  const finals = Array.from({ length: n }, (_, i) => {
    const id = String(i).padStart(width, "0");
    return pattern ? path.replace("*", id) : `${dir}part-${id}${ext}`;
  });
  const escaped = ext.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return { job: newOutputJob(), finals, marker: pattern ? null : dir, stale: new RegExp(`^part-\\d+${escaped}$`) };
}

/** Writes the partitions `plans` to `path` in `format`; returns the URLs written. */
export async function writeFrame(plans: readonly PartitionPlan[], path: string, format: WriteFormat, opts: FrameWriteOptions, c: Client): Promise<string[]> {
  const ext = format === "jsonl" ? ".jsonl" : `.${format}`;
  const single = opts.singleFile ?? (!path.includes("*") && path.endsWith(ext));
  if (single) {
    const task = format === "parquet"
      ? delayed(writeParquetSingle)(path, plans.map((p) => delayed(materialize)(p)), opts)
      : delayed(writeConcat)(path, plans.map((p, i) => delayed(partitionBytes)(p, format, { ...opts, header: (opts.header ?? true) && i === 0 })));
    await c.compute(task);
    return [path];
  }
  const plan = partPlan(path, plans.length, ext);
  const { singleFile: _, ...taskOpts } = opts;
  await writeCommitted(plan, async () => {
    const written = await c.compute(...plans.map((p, i) => delayed(writePartition)(p, plan.finals[i]!, format, taskOpts, plan.job)));
    return written.map((w) => w.temp);
  });
  return [...plan.finals];
}
