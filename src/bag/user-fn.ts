/**
 * User functions inside builtin Bag and MapReduce tasks. The client turns a
 * callback into a serializable {@link FnRef} with {@link shipUser} (which also
 * remembers the function itself, so that tasks run in this process call it
 * directly); tasks on workers resolve the reference with {@link resolveUser}
 * from the thread's code cache.
 *
 * @module
 */
import { isMainThread, workerData } from "node:worker_threads";
import type { FnRef } from "../code/fnref.ts";
import { resolveFn } from "../code/resolve.ts";
import { shipFunction } from "../code/ship.ts";

/** A user function as it travels inside task arguments. */
export type UserFn = FnRef;

const local = new Map<string, (...args: never[]) => unknown>();

function refKey(ref: FnRef): string {
  return ref.kind === "source" ? `s:${ref.source}` : ref.kind === "module" ? `m:${ref.hash}:${ref.name}` : `b:${ref.path}:${ref.name}`;
}

/**
 * Describes how workers get `fn` (see `shipFunction`); throws
 * `FunctionShippingError` for closures. Also registers `fn` for in-process runs.
 *
 * @example
 * ```ts
 * const { ref, code } = shipUser(parseLine);
 * ```
 */
export function shipUser(fn: (...args: never[]) => unknown): { ref: FnRef; code: string[] } {
  const shipped = shipFunction(fn);
  local.set(refKey(shipped.ref), fn);
  return shipped;
}

/**
 * Registers a value (e.g. a job class) under a reference built by hand, for in-process runs.
 *
 * @example
 * ```ts
 * registerLocal({ kind: "module", hash, name: "default" }, WordCount);
 * ```
 */
export function registerLocal(ref: FnRef, fn: (...args: never[]) => unknown): void {
  local.set(refKey(ref), fn);
}

/**
 * The function a reference names: the original when it was shipped from this
 * thread, else imported from the worker thread's code cache.
 *
 * @example
 * ```ts
 * const f = await resolveUser(ref);
 * ```
 */
export async function resolveUser<F = (...args: unknown[]) => unknown>(ref: FnRef): Promise<F> {
  const hit = local.get(refKey(ref));
  if (hit) return hit as F;
  const codeDir = !isMainThread ? ((workerData as { codeDir?: string } | null)?.codeDir ?? "") : "";
  return (await resolveFn(ref, codeDir)) as F;
}
