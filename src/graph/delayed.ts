/**
 * Lazy task graphs: `delayed(fn)(...args)` records a call without running
 * it; `compute(...)` runs many results at once, sharing common subgraphs
 * (keys are deterministic tokens of function and arguments).
 *
 * @example
 * ```ts
 * const a = delayed(inc)(1);
 * const b = delayed(add)(a, 10);
 * const [x] = await client.compute(b);   // 12
 * ```
 */
import { shipFunction } from "../code/ship.ts";
import type { FnRef } from "../code/fnref.ts";
import type { Wire } from "../protocol/serialize.ts";
import { TASK_KEY, replaceKeyed, type HasTaskKey } from "./refs.ts";
import { functionArgs, makeTask, taskName, tokenize, type TaskDef } from "./task.ts";

export class Delayed<T = unknown> implements HasTaskKey {
  /** Phantom field carrying the result type. */
  declare readonly __type?: T;
  constructor(
    readonly key: string,
    /** @internal the task computing this value */
    readonly task: TaskDef,
    /** @internal Delayed values this one depends on directly */
    readonly inputs: readonly Delayed[],
    /** @internal Futures this one depends on directly (keys already computed or running) */
    readonly futureKeys: readonly string[],
  ) {}

  get [TASK_KEY](): string {
    return this.key;
  }

  toString(): string {
    return `Delayed(${this.key})`;
  }
}

/** Something that computes to a T: a Delayed<T> or a Future<T>. */
export type Keyed<T> = HasTaskKey & { readonly __type?: T };
/**
 * Argument type accepted where a value of type T is expected: T itself,
 * something that computes to it, or (for arrays) an array of those.
 */
export type Lazy<T> = T | Keyed<T> | (T extends readonly (infer U)[] ? readonly Lazy<U>[] : never);
export type LazyArgs<A extends unknown[]> = { [K in keyof A]: Lazy<A[K]> };

export interface DelayedOptions {
  /** Group name shown in the dashboard and in keys (default: the function's name). */
  name?: string;
  /** Explicit key for the (single) call. */
  key?: string;
  /**
   * Extra code bundle hashes workers must fetch before running the task, for
   * builtin task functions that take user functions ({@link FnRef}s from
   * `shipFunction`) as arguments.
   */
  code?: readonly string[];
}

function build<R>(fn: FnRef, code: string[], name: string, args: unknown[], explicitKey?: string): Delayed<R> {
  const inputs: Delayed[] = [];
  const futures: string[] = [];
  const extraCode = new Set(code);
  const replaced = replaceKeyed(
    args,
    (obj) => {
      if (obj instanceof Delayed) inputs.push(obj);
      else futures.push(obj[TASK_KEY]);
    },
    functionArgs(extraCode, shipFunction),
  ) as unknown[];
  const key = explicitKey ?? `${name}-${tokenize(fn, replaced)}`;
  return new Delayed<R>(key, makeTask(key, fn, replaced, [...extraCode]), inputs, futures);
}

/** Wraps a function so that calls build a task graph instead of running. */
export function delayed<A extends unknown[], R>(fn: (...args: A) => R, opts: DelayedOptions = {}): (...args: LazyArgs<A>) => Delayed<Wire<Awaited<R>>> {
  const shipped = shipFunction(fn as (...args: never[]) => unknown);
  const name = taskName(opts.name ?? (fn.name || "delayed"));
  const code = opts.code && opts.code.length > 0 ? [...new Set([...shipped.code, ...opts.code])] : shipped.code;
  return (...args: LazyArgs<A>) => build<Wire<Awaited<R>>>(shipped.ref, code, name, args as unknown[], opts.key);
}

/** All tasks needed for `roots`, keyed, plus the Future keys they rely on. */
export function collectGraph(roots: readonly Delayed[]): { tasks: Map<string, TaskDef>; futureKeys: Set<string> } {
  const tasks = new Map<string, TaskDef>();
  const futureKeys = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (tasks.has(d.key)) continue;
    tasks.set(d.key, d.task);
    for (const k of d.futureKeys) futureKeys.add(k);
    for (const i of d.inputs) if (!tasks.has(i.key)) stack.push(i);
  }
  return { tasks, futureKeys };
}
