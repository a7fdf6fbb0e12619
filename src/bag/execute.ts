/**
 * Where collection graphs run. An explicit client, else the most recently
 * connected one (`Client.current()`), else this process: a small in-process
 * executor that runs the same task graph without serialization, like dask's
 * synchronous scheduler (good for debugging and small data; connect a client
 * to use all cores or a cluster).
 *
 * @module
 */
import { Client } from "../client/client.ts";
import { resolveFn } from "../code/resolve.ts";
import { collectGraph, type Delayed } from "../graph/delayed.ts";
import type { TaskDef } from "../graph/task.ts";
import { TaskRef } from "../protocol/serialize.ts";
import { resolveUser } from "./user-fn.ts";

/** Where to compute: a client, `"inline"` for this process, or undefined for the default. */
export type ComputeTarget = Client | "inline" | undefined;

/** Options accepted by every collection action. */
export interface ComputeOptions {
  /** Client to compute with; default `Client.current()`, else in this process. Pass `"inline"` to force in-process. */
  client?: Client | "inline";
}

/**
 * The client an action would use by default: the most recently connected open
 * client, or null (compute in this process).
 *
 * @example
 * ```ts
 * const c = defaultClient(); // null until Client.connect() is called
 * ```
 */
export function defaultClient(): Client | null {
  return Client.current();
}

/**
 * Computes Delayed values on the target and returns their results in order.
 *
 * @example
 * ```ts
 * const [a, b] = await computeAll([d1, d2]);
 * ```
 */
export async function computeAll<T = unknown>(values: readonly Delayed[], target?: ComputeTarget): Promise<T[]> {
  if (values.length === 0) return [];
  const client = target === "inline" ? null : (target ?? defaultClient());
  if (client) return (await client.compute(...(values as Delayed[]))) as unknown as T[];
  return (await computeInProcess(values)) as T[];
}

/**
 * Runs a Delayed graph in this process: independent tasks overlap their I/O;
 * intermediate results are dropped as soon as their last dependent is done.
 *
 * @example
 * ```ts
 * const [x] = await computeInProcess([delayed(inc)(1)]);
 * ```
 */
export async function computeInProcess(values: readonly Delayed[]): Promise<unknown[]> {
  const { tasks, futureKeys } = collectGraph(values);
  if (futureKeys.size > 0) throw new Error("a graph that depends on Futures needs a client; pass { client }");
  const roots = new Set(values.map((v) => v.key));
  const remaining = new Map<string, number>();
  for (const t of tasks.values()) for (const d of t.deps) remaining.set(d, (remaining.get(d) ?? 0) + 1);
  const results = new Map<string, Promise<unknown>>();
  const run = (key: string): Promise<unknown> => {
    let p = results.get(key);
    if (p) return p;
    const t = tasks.get(key);
    if (!t) throw new Error(`task ${key} is missing from the graph`);
    p = runTask(t, run, (dep) => {
      const n = (remaining.get(dep) ?? 1) - 1;
      remaining.set(dep, n);
      if (n <= 0 && !roots.has(dep)) results.set(dep, Promise.resolve(RELEASED));
    });
    results.set(key, p);
    return p;
  };
  // Wait for every task before reporting the first failure, as a cluster's
  // gather does: a writer cleaning up after a failed task must not race the others.
  const settled = await Promise.allSettled(values.map((v) => run(v.key)));
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value);
}

const RELEASED = Symbol("released");

async function runTask(t: TaskDef, run: (key: string) => Promise<unknown>, done: (dep: string) => void): Promise<unknown> {
  const deps = new Map<string, unknown>();
  await Promise.all(
    t.deps.map(async (d) => {
      const v = await run(d);
      if (v === RELEASED) throw new Error(`internal: result of ${d} was released before ${t.key} ran`);
      deps.set(d, v);
    }),
  );
  const fn = t.fn.kind === "builtin" ? await resolveFn(t.fn, "") : await resolveUser(t.fn);
  const args = substitute(t.args, deps) as unknown[];
  const value = await fn(...args);
  for (const d of t.deps) done(d);
  return value;
}

function substitute(v: unknown, deps: Map<string, unknown>): unknown {
  if (v === null || typeof v !== "object") return v;
  if (v instanceof TaskRef) return deps.get(v.key);
  if (Array.isArray(v)) return v.map((x) => substitute(x, deps));
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, substitute(x, deps)]));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = substitute(x, deps);
  return out;
}
