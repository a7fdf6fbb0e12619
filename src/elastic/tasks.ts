/**
 * Builtin task functions of the elastic layer: they run on workers and call
 * the user's function (which arrives as a function argument, resolved by the
 * worker's code cache). Imports nothing heavy: workers import this module.
 *
 * @module
 */

/** Runs `fn(item, ...extra)` for each item of a chunk, in order; returns the results. */
export async function runChunk(fn: (...a: unknown[]) => unknown, items: unknown[], extra: unknown[]): Promise<unknown[]> {
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = await fn(items[i], ...extra);
  return out;
}

/** `fn(...args, ...extra)` for each argument tuple of a chunk (`Pool.starmap`). */
export async function runStarChunk(fn: (...a: unknown[]) => unknown, tuples: unknown[][], extra: unknown[]): Promise<unknown[]> {
  const out = new Array<unknown>(tuples.length);
  for (let i = 0; i < tuples.length; i++) out[i] = await fn(...tuples[i]!, ...extra);
  return out;
}

/** One executor call with its timing: `[value, startMs, endMs]` (wall clock of the worker). */
export async function timedCall(fn: (...a: unknown[]) => unknown, arg: unknown, extra: unknown[], star: boolean): Promise<[unknown, number, number]> {
  const start = Date.now();
  const v = await (star && Array.isArray(arg) ? fn(...(arg as unknown[]), ...extra) : fn(arg, ...extra));
  return [v, start, Date.now()];
}

/** A reducer over the results of map calls (executor `mapReduce`), timed. */
export async function timedReduce(fn: (...a: unknown[]) => unknown, results: unknown[], extra: unknown[]): Promise<[unknown, number, number]> {
  const start = Date.now();
  const values = results.map((r) => (r as [unknown, number, number])[0]);
  const v = await fn(values, ...extra);
  return [v, start, Date.now()];
}
