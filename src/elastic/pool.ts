/**
 * `pool(n)`: the shape of Python's `multiprocessing.Pool` on a Shoal cluster.
 * `map` keeps the order of the items, sends them in chunks (`chunksize`,
 * default as Python computes it: `ceil(len / (4 × processes))`), and re-raises
 * the first failure as a `TaskError` that carries the remote name and stack.
 *
 * @example
 * ```ts
 * import { pool } from "shoal";
 * import { isPrime } from "./tasks.ts";
 * await using p = pool(4);                      // 4 worker processes on this machine
 * const flags = await p.map(isPrime, numbers, { chunksize: 1000 });
 * ```
 *
 * @module
 */
import os from "node:os";
import { Client } from "../client/client.ts";
import type { Future } from "../client/future.ts";
import { check } from "./errors.ts";
import { runChunk, runStarChunk } from "./tasks.ts";

export interface PoolOptions {
  /** Run on this client's cluster instead of starting a local one (the pool does not close it). */
  client?: Client;
  /** Draw terminal progress bars while a map runs (default false). */
  progress?: boolean;
}

export interface PoolMapOptions {
  /** Items per task (default: `ceil(items / (4 × processes))`, as multiprocessing does). */
  chunksize?: number;
  /** Extra arguments appended to every call. */
  extraArgs?: unknown[];
}

/** The default chunk size of `multiprocessing.Pool.map`. */
export function defaultChunksize(nitems: number, processes: number): number {
  if (nitems === 0) return 1;
  return Math.max(1, Math.ceil(nitems / (processes * 4)));
}

/** Splits `items` into consecutive chunks of `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class Pool {
  private client: Promise<Client> | null = null;
  private closed = false;

  constructor(readonly processes: number, private readonly opts: PoolOptions = {}) {
    check(Number.isInteger(processes) && processes >= 1, "processes", "a positive integer", processes);
  }

  /** The client the pool runs on (a local cluster of `processes` one-thread workers unless one was given). */
  connection(): Promise<Client> {
    if (this.closed) throw new Error("pool is closed");
    if (this.opts.client) return Promise.resolve(this.opts.client);
    this.client ??= Client.connect({ cluster: { nworkers: this.processes, nthreads: 1, dashboard: false } });
    return this.client;
  }

  /** `fn(item, ...extraArgs)` for every item, results in item order. */
  async map<T, R>(fn: (item: T, ...extra: never[]) => R | Promise<R>, items: Iterable<T>, opts: PoolMapOptions = {}): Promise<Awaited<R>[]> {
    return (await this.run(runChunk, fn as never, [...items], opts)) as Awaited<R>[];
  }

  /** `fn(...args, ...extraArgs)` for every argument tuple (`Pool.starmap`). */
  async starmap<A extends unknown[], R>(fn: (...args: A) => R | Promise<R>, tuples: Iterable<A>, opts: PoolMapOptions = {}): Promise<Awaited<R>[]> {
    return (await this.run(runStarChunk, fn as never, [...tuples] as unknown[][], opts)) as Awaited<R>[];
  }

  private async run(runner: typeof runChunk | typeof runStarChunk, fn: (...a: unknown[]) => unknown, items: unknown[], opts: PoolMapOptions): Promise<unknown[]> {
    const size = opts.chunksize ?? defaultChunksize(items.length, this.processes);
    check(Number.isInteger(size) && size >= 1, "chunksize", "a positive integer", size);
    if (items.length === 0) return [];
    const client = await this.connection();
    const extra = opts.extraArgs ?? [];
    const name = fn.name || "pool-map";
    const futures = chunks(items as never[], size).map((c) => client.submitWith({ name }, runner as never, fn as never, c as never, extra as never) as Future<unknown[]>);
    if (this.opts.progress) {
      const { progress } = await import("../dashboard/progress.ts");
      void progress(futures).catch(() => undefined);
    }
    try {
      // fail fast: the first chunk to fail (in completion order) is raised, the rest cancelled
      const parts = await Promise.all(futures.map((f) => f.result()));
      return parts.flat(1);
    } catch (err) {
      await client.cancel(futures).catch(() => undefined);
      throw err;
    } finally {
      for (const f of futures) f.release();
    }
  }

  /** Stops the pool's own cluster (a client given in the options stays open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.client;
    this.client = null;
    if (c) await (await c).close();
  }

  /** `multiprocessing.Pool.terminate`: the same as {@link close} here (workers are killed if they do not stop). */
  terminate(): Promise<void> {
    return this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * A pool of `processes` worker processes (default: the cores of this
 * machine), started on the first `map`.
 */
export function pool(processes: number = Math.max(1, os.availableParallelism()), opts: PoolOptions = {}): Pool {
  return new Pool(processes, opts);
}
