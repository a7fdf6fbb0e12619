/**
 * A serverless-style executor (PyWren / Lithops `FunctionExecutor` shape) on
 * an adaptive cluster that starts with no workers: `callAsync`, `map`
 * (chunks, extra arguments, per-call timeout and retries), `mapReduce`,
 * `wait`, `getResult`, maps over storage objects in line-aligned chunks, a
 * job summary and an HTML timeline of the calls.
 *
 * @example
 * ```ts
 * import { executor } from "shoal/elastic";
 * import { double } from "./tasks.ts";
 * const ex = await executor();                       // local adaptive cluster, 0 workers to start
 * const futures = ex.map(double, [1, 2, 3]);
 * console.log(await ex.getResult(futures));          // [2, 4, 6]
 * await ex.plot("timeline.html");
 * await ex.close();
 * ```
 *
 * @module
 */
import os from "node:os";
import { Client } from "../client/client.ts";
import type { Future } from "../client/future.ts";
import { LocalCluster } from "../client/local-cluster.ts";
import { list, stat } from "../storage/index.ts";
import type { AdaptOptions } from "./adapt.ts";
import { check } from "./errors.ts";
import { execObjChunk, type ObjRange } from "./obj-tasks.ts";
import { chunks } from "./pool.ts";
import { execChunk, execReduce, type CallRecord, type CallSpec } from "./tasks.ts";
import { writeTimeline } from "./timeline.ts";

export interface ExecutorOptions {
  /** Run on this client's cluster (not closed by the executor). */
  client?: Client;
  /** The local adaptive cluster started otherwise: most workers (default: cores), threads each (1). */
  maxWorkers?: number;
  /** Adaptive settings of that cluster (default: minimum 0, interval 0.1 s, targetDuration 0.5 s, waitCount 20). */
  adapt?: AdaptOptions;
}

export interface MapOptions {
  /** Calls per task (default 1, as Lithops). */
  chunksize?: number;
  /** Arguments appended to every call. */
  extraArgs?: unknown[];
  /** Seconds an async call may run before it fails with `CallTimeoutError` (synchronous code is not interrupted). */
  timeout?: number;
  /** Reruns of a call that throws (default 0). */
  retries?: number;
  /** For a storage URL: bytes per call (default: one call per object). */
  objChunkSize?: number;
}

export interface MapReduceOptions extends MapOptions {
  /** With a storage URL: one reducer per object over its chunks' results (Lithops `obj_reduce_by_key`). */
  reducerPerKey?: boolean;
  /** Arguments appended to the reducer call. */
  reduceExtraArgs?: unknown[];
}

export type ReturnWhen = "ALL_COMPLETED" | "ANY_COMPLETED" | "ALWAYS";

/** One call's handle (Lithops `ResponseFuture`). */
export class CallFuture<T = unknown> {
  /** Milliseconds (this process's clock) when submitted. */
  readonly submitted = Date.now();
  constructor(
    /** `<job>/<call>` as Lithops numbers them: `M000/00003`. */
    readonly callId: string,
    /** The task that runs this call (shared by the calls of one chunk). */
    readonly future: Future<CallRecord[]>,
    readonly index: number,
    readonly job: string,
    readonly fn: string,
  ) {}

  /** True once the call's task finished or failed. */
  get done(): boolean {
    return this.future.done();
  }

  /** "pending" | "finished" | "error" | "cancelled" | "lost" (the task's). */
  get status(): string {
    return this.future.status;
  }

  /** Settles when the call is done (never throws). */
  async settled(): Promise<void> {
    await this.future.wait();
  }

  /** The call's record (value, start, end, attempts); throws the call's error. */
  async record(): Promise<CallRecord> {
    const recs = await this.future.result();
    return recs[this.index]!;
  }

  /** The call's value; throws a `TaskError` with the remote stack when it failed. */
  async result(): Promise<T> {
    return (await this.record())[0] as T;
  }
}

export interface JobSummary {
  calls: number;
  done: number;
  failed: number;
  /** Reruns after the function threw. */
  retries: number;
  /** Seconds from the first submit to the last result (of the calls done). */
  wallSeconds: number;
  /** Seconds inside the functions: total, mean, max. */
  callSeconds: { total: number; mean: number; max: number };
  /** Per job (`M000`, `A001`, ...): calls and function. */
  jobs: { job: string; fn: string; calls: number }[];
}

function spec(o: MapOptions): CallSpec {
  const retries = o.retries ?? 0;
  check(Number.isInteger(retries) && retries >= 0, "retries", "a non-negative integer", retries);
  check(o.timeout === undefined || o.timeout > 0, "timeout", "a positive number of seconds", o.timeout);
  return { extra: o.extraArgs ?? [], retries, timeoutMs: o.timeout !== undefined ? Math.round(o.timeout * 1000) : 0 };
}

export class Executor {
  /** Every call made through this executor, in submission order. */
  readonly calls: CallFuture[] = [];
  private jobCount = 0;
  private readonly jobs: { job: string; fn: string; calls: number }[] = [];

  constructor(readonly client: Client, private readonly ownCluster: LocalCluster | null) {}

  private nextJob(kind: "A" | "M" | "R", fn: string, calls: number): string {
    const job = `${kind}${String(this.jobCount++).padStart(3, "0")}`;
    this.jobs.push({ job, fn, calls });
    return job;
  }

  /** One call: `fn(data, ...extraArgs)`. */
  callAsync<T, R>(fn: (data: T, ...extra: never[]) => R | Promise<R>, data: T, opts: MapOptions = {}): CallFuture<Awaited<R>> {
    return this.mapItems("A", fn as never, [data], { ...opts, chunksize: 1 })[0] as CallFuture<Awaited<R>>;
  }

  /**
   * `fn(item, ...extraArgs)` for every item, one future per call in item
   * order. With a storage URL (`s3://bucket/prefix/`, a file, a glob) each
   * call gets an {@link ObjChunk}: an object, or with `objChunkSize` a
   * line-aligned range of one.
   */
  map<T, R>(fn: (item: T, ...extra: never[]) => R | Promise<R>, iterdata: Iterable<T>, opts?: MapOptions): CallFuture<Awaited<R>>[];
  map<R>(fn: (obj: import("./obj-tasks.ts").ObjChunk, ...extra: never[]) => R | Promise<R>, url: string, opts?: MapOptions): Promise<CallFuture<Awaited<R>>[]>;
  map(fn: (...a: never[]) => unknown, iterdata: Iterable<unknown> | string, opts: MapOptions = {}): CallFuture[] | Promise<CallFuture[]> {
    if (typeof iterdata === "string") return this.mapObjects(fn, iterdata, opts).then((r) => r.futures);
    return this.mapItems("M", fn, [...iterdata], opts);
  }

  private mapItems(kind: "A" | "M", fn: (...a: never[]) => unknown, items: unknown[], opts: MapOptions): CallFuture[] {
    const size = opts.chunksize ?? 1;
    check(Number.isInteger(size) && size >= 1, "chunksize", "a positive integer", size);
    const s = spec(opts);
    const name = fn.name || "call";
    const job = this.nextJob(kind, name, items.length);
    const out: CallFuture[] = [];
    let i = 0;
    for (const c of chunks(items, size)) {
      const f = this.client.submitWith({ name }, execChunk as never, fn as never, c as never, s as never) as Future<CallRecord[]>;
      for (let k = 0; k < c.length; k++) out.push(new CallFuture(`${job}/${String(i++).padStart(5, "0")}`, f, k, job, name));
    }
    this.calls.push(...out);
    return out;
  }

  /** The objects under a storage URL, split into ranges of `objChunkSize` bytes. */
  async objectRanges(url: string, objChunkSize?: number): Promise<ObjRange[]> {
    check(objChunkSize === undefined || (Number.isInteger(objChunkSize) && objChunkSize >= 1), "objChunkSize", "a positive integer", objChunkSize);
    let files: { url: string; size: number }[];
    if (url.endsWith("/")) {
      files = (await list(url, { recursive: true })).flatMap((e) => (e.type === "file" ? [{ url: e.url, size: e.size }] : []));
    } else {
      const info = await stat(url);
      files = [{ url: info.url ?? url, size: info.size }];
    }
    const ranges: ObjRange[] = [];
    for (const f of files) {
      const step = objChunkSize ?? Math.max(1, f.size);
      let part = 0;
      for (let start = 0; start < Math.max(1, f.size); start += step) ranges.push({ url: f.url, start, end: Math.min(f.size, start + step), part: part++, size: f.size });
    }
    return ranges;
  }

  private async mapObjects(fn: (...a: never[]) => unknown, url: string, opts: MapOptions): Promise<{ futures: CallFuture[]; ranges: ObjRange[] }> {
    const ranges = await this.objectRanges(url, opts.objChunkSize);
    const s = spec(opts);
    const name = fn.name || "call";
    const job = this.nextJob("M", name, ranges.length);
    const size = opts.chunksize ?? 1;
    const out: CallFuture[] = [];
    let i = 0;
    for (const c of chunks(ranges, size)) {
      const f = this.client.submitWith({ name }, execObjChunk as never, fn as never, c as never, s as never) as Future<CallRecord[]>;
      for (let k = 0; k < c.length; k++) out.push(new CallFuture(`${job}/${String(i++).padStart(5, "0")}`, f, k, job, name));
    }
    this.calls.push(...out);
    return { futures: out, ranges };
  }

  /**
   * Maps, then reduces: `reduceFn(values)` over every map result, in item
   * order (one future), or with `reducerPerKey` over a storage URL one
   * reducer per object, each over its chunks' results in order.
   */
  async mapReduce<T, M, R>(mapFn: (item: T, ...extra: never[]) => M | Promise<M>, iterdata: Iterable<T> | string, reduceFn: (values: Awaited<M>[], ...extra: never[]) => R | Promise<R>, opts: MapReduceOptions = {}): Promise<CallFuture<Awaited<R>>[]> {
    let groups: CallFuture[][];
    if (typeof iterdata === "string") {
      const { futures, ranges } = await this.mapObjects(mapFn as never, iterdata, opts);
      if (opts.reducerPerKey) {
        const byUrl = new Map<string, CallFuture[]>();
        futures.forEach((f, i) => {
          const u = ranges[i]!.url;
          byUrl.set(u, [...(byUrl.get(u) ?? []), f]);
        });
        groups = [...byUrl.values()];
      } else groups = [futures];
    } else {
      groups = [this.mapItems("M", mapFn as never, [...iterdata], opts)];
    }
    const s = spec({ ...opts, extraArgs: opts.reduceExtraArgs ?? [] });
    const name = reduceFn.name || "reduce";
    const job = this.nextJob("R", name, groups.length);
    const out: CallFuture<Awaited<R>>[] = [];
    groups.forEach((g, i) => {
      // the map tasks of a group, each once and in order (a chunk holds several calls)
      const tasks: Future<CallRecord[]>[] = [];
      for (const c of g) if (tasks[tasks.length - 1] !== c.future) tasks.push(c.future);
      const f = this.client.submitWith({ name }, execReduce as never, reduceFn as never, tasks as never, s as never) as Future<CallRecord[]>;
      out.push(new CallFuture(`${job}/${String(i).padStart(5, "0")}`, f, 0, job, name));
    });
    this.calls.push(...out);
    return out;
  }

  /**
   * Lithops `wait`: resolves with `[done, notDone]` once all are done
   * (`ALL_COMPLETED`, the default), once any is (`ANY_COMPLETED`), or at once
   * (`ALWAYS`); `timeout` (seconds) returns what is done by then.
   */
  async wait<F extends CallFuture>(futures: F | F[], opts: { returnWhen?: ReturnWhen; timeout?: number } = {}): Promise<[F[], F[]]> {
    const list = Array.isArray(futures) ? futures : [futures];
    const when = opts.returnWhen ?? "ALL_COMPLETED";
    const split = (): [F[], F[]] => [list.filter((f) => f.done), list.filter((f) => !f.done)];
    if (when === "ALWAYS" || list.length === 0) return split();
    const all = when === "ALL_COMPLETED" ? Promise.all(list.map((f) => f.settled())) : Promise.race(list.map((f) => f.settled()));
    let t: NodeJS.Timeout | undefined;
    const timeout = opts.timeout !== undefined ? new Promise<void>((r) => (t = setTimeout(r, opts.timeout! * 1000))) : null;
    await (timeout ? Promise.race([all, timeout]) : all);
    clearTimeout(t);
    return split();
  }

  /**
   * The values of the calls, in order (a single future gives its value).
   * The first failure is thrown (`TaskError`, remote name and stack) unless
   * `throwExcept: false`, which gives `undefined` for failed calls.
   */
  async getResult<T>(futures: CallFuture<T>, opts?: { throwExcept?: boolean; timeout?: number }): Promise<T>;
  async getResult<T>(futures: CallFuture<T>[], opts?: { throwExcept?: boolean; timeout?: number }): Promise<T[]>;
  async getResult<T>(futures: CallFuture<T> | CallFuture<T>[], opts: { throwExcept?: boolean; timeout?: number } = {}): Promise<T | T[]> {
    const list = Array.isArray(futures) ? futures : [futures];
    if (opts.timeout !== undefined) await this.wait(list, { timeout: opts.timeout });
    const throwExcept = opts.throwExcept ?? true;
    const values = await Promise.all(list.map((f) => f.result().catch((err: unknown) => {
      if (throwExcept) throw err;
      return undefined as T;
    })));
    return Array.isArray(futures) ? values : values[0]!;
  }

  /** Calls, failures, retries and durations of everything run so far (calls not done count as neither). */
  async summary(): Promise<JobSummary> {
    let done = 0;
    let failed = 0;
    let retries = 0;
    let total = 0;
    let max = 0;
    let first = Infinity;
    let last = 0;
    for (const c of this.calls) {
      if (!c.done) continue;
      first = Math.min(first, c.submitted);
      try {
        const [, s, e, n] = await c.record();
        done++;
        retries += n - 1;
        total += (e - s) / 1000;
        max = Math.max(max, (e - s) / 1000);
        last = Math.max(last, e);
      } catch {
        failed++;
      }
    }
    return {
      calls: this.calls.length, done, failed, retries,
      wallSeconds: done > 0 ? Math.max(0, (last - first) / 1000) : 0,
      callSeconds: { total, mean: done > 0 ? total / done : 0, max },
      jobs: this.jobs.map((j) => ({ ...j })),
    };
  }

  /** Writes an HTML timeline of the finished calls (Chart.js, inlined: the page works offline). */
  async plot(path: string, title = "Shoal executor calls"): Promise<void> {
    const rows: { id: string; job: string; submitted: number; start: number; end: number; ok: boolean }[] = [];
    for (const c of this.calls) {
      if (!c.done) continue;
      try {
        const [, s, e] = await c.record();
        rows.push({ id: c.callId, job: c.job, submitted: c.submitted, start: s, end: e, ok: true });
      } catch {
        rows.push({ id: c.callId, job: c.job, submitted: c.submitted, start: c.submitted, end: c.submitted, ok: false });
      }
    }
    await writeTimeline(path, title, rows);
  }

  /** Closes the client and the executor's own cluster (a client given in the options stays open). */
  async close(): Promise<void> {
    if (!this.ownCluster) return;
    await this.client.close();
    await this.ownCluster.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * An executor on `client`, or on a new local cluster that starts with no
 * workers and adapts (`maxWorkers`, default: cores).
 */
export async function executor(clientOrOptions: Client | ExecutorOptions = {}): Promise<Executor> {
  if (clientOrOptions instanceof Client) return new Executor(clientOrOptions, null);
  const o = clientOrOptions;
  if (o.client) return new Executor(o.client, null);
  const max = o.maxWorkers ?? Math.max(1, os.availableParallelism());
  const cluster = await LocalCluster.start({ nworkers: 0, nthreads: 1, dashboard: false });
  cluster.adapt({ minimum: 0, maximum: max, interval: 0.1, targetDuration: 0.5, waitCount: 20, ...(o.adapt ?? {}) });
  const client = await Client.connect(cluster);
  return new Executor(client, cluster);
}
