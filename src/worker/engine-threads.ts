/**
 * How many threads the columnar engine (polars) of one worker process may use.
 *
 * polars runs the inside of one operation (a CSV parse, a join, a group-by)
 * on its own thread pool, sized once per process from `POLARS_MAX_THREADS`
 * when the native module loads. Shoal's task threads (`nthreads`) decide how
 * many operations run at once; the pool decides how many cores one operation
 * may use. The default is every core of the machine: while all workers are
 * busy, their pools share the cores; when a worker is alone (the others idle,
 * finished or dead), its operations use the whole machine instead of
 * `cores / workers` of it. Measured on the StackLite job (2 workers × 1
 * thread, 2 cores): tasks 7 and 8, which run on the one surviving worker,
 * went from 4.4–5.6 s to 3.4–3.8 s (three alternating runs each), with
 * the two-worker phases unchanged. Idle pool threads sleep; with many
 * workers per machine that all stay busy, `cores / workers` (Dask's split)
 * avoids oversubscribing the cores.
 *
 * @module
 */
import os from "node:os";

/** Engine pool size: `explicit`, else `SHOAL_ENGINE_THREADS`, else the machine's cores. */
export function engineThreads(explicit?: number): number {
  if (explicit !== undefined) {
    if (!Number.isInteger(explicit) || explicit < 1) throw new RangeError(`engineThreads must be a positive integer, got ${explicit}`);
    return explicit;
  }
  const env = process.env["SHOAL_ENGINE_THREADS"];
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`SHOAL_ENGINE_THREADS must be a positive integer, got "${env}"`);
    return n;
  }
  return Math.max(1, os.availableParallelism());
}

/** The environment a worker process needs for an engine pool of `n` threads (set before polars loads). */
export function engineEnv(n: number): Record<string, string> {
  return { POLARS_MAX_THREADS: String(n) };
}
