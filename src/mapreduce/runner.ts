/**
 * Runs MapReduce jobs. One task graph serves all runners:
 *
 * - `inline`: this process, one task at a time (debugging; like mrjob's inline runner);
 * - `local`: a LocalCluster on all cores, started for the job;
 * - `cluster`: a Shoal scheduler at an address (or `SHOAL_SCHEDULER_ADDRESS`).
 *
 * Per step, one map task per input split (or per output partition of the
 * previous step) runs the mapper and the combiner and splits its output into
 * R hash shards; a tiny shard task per (map, reducer) hands each shard over
 * as bytes; one reduce task per partition sorts and reduces. The last step
 * writes `part-NNNNN` files plus `_SUCCESS` into the output directory,
 * through the output commit of storage/commit.ts: parts go to
 * `_temporary/<job>/` and are moved to their names only when every task
 * succeeded; a failed job leaves the directory as it was.
 *
 * @module
 */
import os from "node:os";
import { Client, type ClientOptions } from "../client/client.ts";
import type { LocalClusterOptions } from "../client/local-cluster.ts";
import type { FnRef } from "../code/fnref.ts";
import { bundleModule } from "../code/ship.ts";
import { delayed, type Delayed } from "../graph/delayed.ts";
import { computeAll } from "../bag/execute.ts";
import { registerLocal, shipUser } from "../bag/user-fn.ts";
import { splitBlocks } from "../storage/blocks.ts";
import { abortOutput, commitOutput, newOutputJob, type OutputPlan } from "../storage/commit.ts";
import type { StorageOptions } from "../storage/types.ts";
import { TaskError } from "../client/errors.ts";
import { JobDefinitionError, MapReduceTaskError } from "./errors.ts";
import { mergeCounters, type Counters, type JobClass } from "./job.ts";
import { mrCounters, mrMapTask, mrReduceTask, mrShard, type FinalSpec, type JobRef, type MapInput, type TaskOutput } from "./tasks.ts";
import { streamMapTask, streamReduceTask, type StreamingSpec } from "./streaming.ts";

/** Which runner executes the job. */
export type RunnerName = "inline" | "local" | "cluster";

/** Options of {@link runJob}. */
export interface RunJobOptions {
  /** Default `"inline"`. */
  runner?: RunnerName;
  /** Input files: URLs, globs or directories. */
  inputs: readonly string[];
  /** Output directory URL; when absent the output lines are returned in `JobResult.output`. */
  output?: string;
  /** Reduce tasks per step (default: the number of map tasks of the first step, at most the number of cores). */
  reducers?: number;
  /** Bytes per input split (default 64 MiB); `.gz` files are one split each. */
  blocksize?: number;
  /** Passthrough option values for the job. */
  options?: Record<string, unknown>;
  /** Scheduler address for the cluster runner (default `SHOAL_SCHEDULER_ADDRESS`). */
  scheduler?: string;
  /** A client to use instead of connecting one (local and cluster runners). */
  client?: Client;
  /** LocalCluster options for the local runner. */
  cluster?: LocalClusterOptions;
  /** Extra client options (token, TLS) for the cluster runner. */
  clientOptions?: Omit<ClientOptions, "address">;
  /** Storage options (S3 endpoint...) for inputs and output. */
  storage?: Omit<StorageOptions, "signal">;
  /** How the job's class is named for workers; default: shipped as an export of its module. */
  jobRef?: FnRef;
  /**
   * Wraps the job's computation on the local and cluster runners, e.g. to draw
   * progress bars: `watch: (client, run) => progress(run, { client })` is what
   * `shoal mr --progress` passes. Not called by the inline runner.
   */
  watch?: <T>(client: Client, run: () => Promise<T>) => Promise<T>;
}

/** What a finished job reports. */
export interface JobResult {
  runner: RunnerName;
  steps: number;
  mapTasks: number;
  reduceTasks: number;
  counters: Counters;
  /** Part files written (with `output`). */
  parts: string[];
  /** Output lines (without `output`), in part order. */
  output: string | null;
  /** Records read by the first step and written by the last. */
  records: { in: number; out: number };
  seconds: number;
}

/**
 * The reference workers use to load a job class: its module's bundle, named
 * by the export (`exportName`, default the class name).
 *
 * @example
 * ```ts
 * const ref = jobClassRef(WordCount, "/abs/job.ts", "default");
 * ```
 */
export function jobClassRef(cls: JobClass, modulePath?: string, exportName?: string): FnRef {
  if (modulePath && exportName) {
    const b = bundleModule(modulePath);
    if (!b.exports.has(exportName)) throw new JobDefinitionError(`${modulePath} does not export '${exportName}'`);
    const ref: FnRef = { kind: "module", hash: b.hash, name: exportName };
    registerLocal(ref, cls as never);
    return ref;
  }
  try {
    return shipUser(cls as never).ref;
  } catch (err) {
    throw new JobDefinitionError(`the job class '${cls.name}' must be exported by name from its module (export class ${cls.name} extends MRJob ...) so that workers can load it`, { cause: err });
  }
}

function codeOf(ref: FnRef): string[] {
  return ref.kind === "module" ? [ref.hash] : [];
}

/** Where the last step writes: the output directory and the commit's job id (storage/commit.ts). */
function finalSpec(opts: Pick<RunJobOptions, "output" | "storage">, job: string): FinalSpec {
  return { output: opts.output ?? null, ...(opts.output ? { job } : {}), ...(opts.storage ? { storage: opts.storage } : {}) };
}

/**
 * The output commit of `nparts` parts: `part-NNNNN` under the output
 * directory, then `_SUCCESS`. Earlier `part-*` files that this job does not
 * write again are removed at commit (on every storage; until issue 25 item
 * 9.1 they were removed from local directories when the job started, so a
 * failed job lost the old output).
 */
function outputPlan(output: string | undefined, job: string, nparts: number): OutputPlan | null {
  if (!output) return null;
  const dir = `${output.replace(/\/+$/, "")}/`;
  const finals = Array.from({ length: nparts }, (_, i) => `${dir}part-${String(i).padStart(5, "0")}`);
  return { job, finals, marker: dir, stale: /^part-\d+$/ };
}

/**
 * Runs a job class over its inputs and returns counters, part files and
 * (without an output directory) the output lines.
 *
 * @example
 * ```ts
 * const r = await runJob(MRWordFreqCount, { runner: "local", inputs: ["books/*.txt"], output: "out/" });
 * console.log(r.counters);
 * ```
 */
export async function runJob(cls: JobClass, opts: RunJobOptions): Promise<JobResult> {
  const t0 = performance.now();
  const runner = opts.runner ?? "inline";
  const ref = opts.jobRef ?? jobClassRef(cls);
  const job: JobRef = { ref, options: opts.options ?? {} };
  const code = codeOf(ref);
  const steps = new cls({ options: job.options }).steps();
  if (steps.length === 0) throw new JobDefinitionError(`${cls.name}.steps() returned no steps`);
  if (opts.reducers !== undefined && (!Number.isInteger(opts.reducers) || opts.reducers < 1)) throw new JobDefinitionError(`reducers must be a positive integer, got ${opts.reducers}`);
  const storage = opts.storage;
  const blocks = await splitBlocks(opts.inputs, opts.blocksize ?? 64 * 1024 * 1024, storage ?? {});
  const splits: MapInput[] = blocks.map((b, part) => ({ k: "split", url: b.url, start: b.start, end: b.end, compression: b.compression, ...(storage ? { storage } : {}), part }));
  const R = opts.reducers ?? Math.max(1, Math.min(splits.length, runner === "inline" ? 1 : os.availableParallelism()));
  const commitJob = newOutputJob();

  const mapTask = delayed(mrMapTask, { name: "mr-map", code });
  const reduceTask = delayed(mrReduceTask, { name: "mr-reduce", code });
  const shardTask = delayed(mrShard, { name: "mr-shard" });
  const countersTask = delayed(mrCounters, { name: "mr-counters" });
  let prev: Delayed<TaskOutput>[] = [];
  const side: Delayed<unknown>[] = [];
  let mapTasks = 0;
  let reduceTasks = 0;
  steps.forEach((st, si) => {
    const last = si === steps.length - 1;
    const final: FinalSpec | null = last ? finalSpec(opts, commitJob) : null;
    const inputs: MapInput[] = si === 0 ? splits : prev.map((d, part) => ({ k: "prev", data: d, part }));
    if (st.hasReducer) {
      const maps = inputs.map((inp) => mapTask(job, si, inp, R, null));
      const reds = Array.from({ length: R }, (_, j) => reduceTask(job, si, maps.map((m) => shardTask(m, j)), j, final));
      side.push(...maps.map((m) => countersTask(m)));
      if (!last) side.push(...reds.map((r) => countersTask(r)));
      mapTasks += maps.length;
      reduceTasks += reds.length;
      prev = reds;
    } else {
      const maps = inputs.map((inp) => mapTask(job, si, inp, 0, final));
      if (!last) side.push(...maps.map((m) => countersTask(m)));
      mapTasks += maps.length;
      prev = maps;
    }
  });

  return execute(prev, side, splits.length, { runner, steps: steps.length, mapTasks, reduceTasks, t0, firstStepCounted: steps.length > 1 || steps[0]!.hasReducer, out: outputPlan(opts.output, commitJob, prev.length) }, opts);
}

interface ExecMeta {
  runner: RunnerName;
  steps: number;
  mapTasks: number;
  reduceTasks: number;
  t0: number;
  /** Whether the first `nsplits` side results are the first step's map tasks. */
  firstStepCounted: boolean;
  /** The output commit, with an output directory. */
  out: OutputPlan | null;
}

async function execute(finalTasks: Delayed<TaskOutput>[], side: Delayed<unknown>[], nsplits: number, meta: ExecMeta, opts: RunJobOptions): Promise<JobResult> {
  const runner = meta.runner;
  const storage = opts.storage;
  let client: Client | null = opts.client ?? null;
  let own = false;
  if (runner !== "inline" && !client) {
    client =
      runner === "local"
        ? await Client.connect({ ...(opts.clientOptions ?? {}), cluster: opts.cluster ?? {} })
        : await Client.connect({ ...(opts.clientOptions ?? {}), ...(opts.scheduler ? { address: opts.scheduler } : {}) });
    own = true;
    if (runner === "cluster" && client.localCluster) {
      await client.close();
      throw new JobDefinitionError("the cluster runner needs a scheduler address (--scheduler or SHOAL_SCHEDULER_ADDRESS)");
    }
  }
  try {
    let results: unknown[];
    try {
      const run = (): Promise<unknown[]> => computeAll<unknown>([...finalTasks, ...side], runner === "inline" ? "inline" : client!);
      results = runner !== "inline" && opts.watch ? await opts.watch(client!, run) : await run();
    } catch (err) {
      const e = localizeError(err);
      if (meta.out) await abortOutput(meta.out, e, { storage: storage ?? {} });
      throw e;
    }
    const finals = results.slice(0, finalTasks.length) as TaskOutput[];
    const others = results.slice(finalTasks.length) as Pick<TaskOutput, "counters" | "records">[];
    const counters: Counters = {};
    for (const r of [...others, ...finals]) mergeCounters(counters, r.counters);
    const firstStep = meta.firstStepCounted ? others.slice(0, nsplits) : finals;
    const parts = finals.map((f) => f.url).filter((u): u is string => u !== undefined);
    let output: string | null = null;
    if (meta.out) {
      await commitOutput(meta.out, finals.map((f) => f.temp ?? f.url!), { storage: storage ?? {} });
    } else {
      output = finals.map((f) => (f.lines ? Buffer.from(f.lines.buffer, f.lines.byteOffset, f.lines.byteLength).toString("utf8") : "")).join("");
    }
    return {
      runner,
      steps: meta.steps,
      mapTasks: meta.mapTasks,
      reduceTasks: meta.reduceTasks,
      counters,
      parts,
      output,
      records: { in: firstStep.reduce((a, r) => a + r.records.in, 0), out: finals.reduce((a, r) => a + r.records.out, 0) },
      seconds: (performance.now() - meta.t0) / 1000,
    };
  } finally {
    if (own) await client!.close();
  }
}

/** A task error from a worker that carries a MapReduceTaskError becomes one again (with the TaskError as its cause). */
function localizeError(err: unknown): unknown {
  if (!(err instanceof TaskError) || err.remoteName !== "MapReduceTaskError") return err;
  const d = err.data as { phase?: MapReduceTaskError["phase"]; step?: number; input?: string; stderrTail?: string };
  const marker = `${err.remoteName}: `;
  const at = err.message.indexOf(marker);
  const message = at >= 0 ? err.message.slice(at + marker.length) : err.message;
  return new MapReduceTaskError(`${message} (task ${err.key}${err.worker ? ` on worker ${err.worker}` : ""})`, d.phase ?? "mapper", d.step ?? 0, d.input ?? "", d.stderrTail ?? "", { cause: err });
}

/** Options of {@link runStreaming}: those of {@link runJob} without the job's own. */
export type RunStreamingOptions = Omit<RunJobOptions, "options" | "jobRef">;

/**
 * Runs a Hadoop Streaming job (external mapper/combiner/reducer commands); see `streaming.ts`.
 * `reducers: 0` makes a map-only job.
 *
 * @example
 * ```ts
 * await runStreaming({ mapper: "tr -s '[:space:]' '\\n'", reducer: "uniq -c", env: {} }, { inputs: ["a.txt"], output: "out/", reducers: 2 });
 * ```
 */
export async function runStreaming(spec: StreamingSpec, opts: RunStreamingOptions): Promise<JobResult> {
  const t0 = performance.now();
  const runner = opts.runner ?? "inline";
  if (opts.reducers !== undefined && (!Number.isInteger(opts.reducers) || opts.reducers < 0)) throw new JobDefinitionError(`reducers must be a non-negative integer, got ${opts.reducers}`);
  const storage = opts.storage;
  const blocks = await splitBlocks(opts.inputs, opts.blocksize ?? 64 * 1024 * 1024, storage ?? {});
  const splits: MapInput[] = blocks.map((b, part) => ({ k: "split", url: b.url, start: b.start, end: b.end, compression: b.compression, ...(storage ? { storage } : {}), part }));
  const R = opts.reducers ?? 1;
  const job = newOutputJob();
  const final = finalSpec(opts, job);
  const mapTask = delayed(streamMapTask, { name: "streaming-map" });
  const maps = splits.map((inp) => mapTask(spec, inp, R, R === 0 ? final : null));
  if (R === 0) return execute(maps, [], splits.length, { runner, steps: 1, mapTasks: maps.length, reduceTasks: 0, t0, firstStepCounted: false, out: outputPlan(opts.output, job, maps.length) }, opts);
  const shardTask = delayed(mrShard, { name: "mr-shard" });
  const reds = Array.from({ length: R }, (_, j) => delayed(streamReduceTask, { name: "streaming-reduce" })(spec, maps.map((m) => shardTask(m, j)), j, R, final));
  const side = maps.map((m) => delayed(mrCounters, { name: "mr-counters" })(m));
  return execute(reds, side, splits.length, { runner, steps: 1, mapTasks: maps.length, reduceTasks: R, t0, firstStepCounted: true, out: outputPlan(opts.output, job, R) }, opts);
}

/**
 * Formats a job summary with its counters, Hadoop-style.
 *
 * @example
 * ```ts
 * console.error(formatSummary(result));
 * ```
 */
export function formatSummary(r: Pick<JobResult, "runner" | "steps" | "mapTasks" | "reduceTasks" | "counters" | "records" | "seconds" | "parts">): string {
  const lines = [
    `Job succeeded (${r.runner} runner) in ${r.seconds.toFixed(2)} s: ${r.steps} step(s), ${r.mapTasks} map task(s), ${r.reduceTasks} reduce task(s)`,
    `  records in: ${r.records.in}, records out: ${r.records.out}${r.parts.length > 0 ? `, part files: ${r.parts.length}` : ""}`,
  ];
  const groups = Object.keys(r.counters).sort();
  if (groups.length > 0) {
    lines.push("Counters:");
    for (const g of groups) {
      lines.push(`  ${g}`);
      for (const [n, v] of Object.entries(r.counters[g]!).sort(([a], [b]) => (a < b ? -1 : 1))) lines.push(`    ${n}=${v}`);
    }
  }
  return lines.join("\n");
}
