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

/** How one executor call went: `[value, startMs, endMs, attempts]` (the worker's wall clock). */
export type CallRecord = [value: unknown, start: number, end: number, attempts: number];

/** Executor call options as they travel to the worker. */
export interface CallSpec {
  extra: unknown[];
  /** Reruns after the function throws. */
  retries: number;
  /** Milliseconds before an async call is abandoned with a timeout error (0 = none). */
  timeoutMs: number;
}

class CallTimeoutError extends Error {
  override name = "CallTimeoutError";
}

async function once(fn: () => unknown, timeoutMs: number): Promise<unknown> {
  if (timeoutMs <= 0) return await fn();
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_, fail) => (t = setTimeout(() => fail(new CallTimeoutError(`the call did not finish within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(t);
  }
}

/** One call with retries and a timeout; the last error is thrown with the attempt count in its message. */
export async function attempt(f: () => unknown, spec: CallSpec): Promise<[unknown, number]> {
  for (let i = 0; ; i++) {
    try {
      return [await once(f, spec.timeoutMs), i + 1];
    } catch (err) {
      if (i >= spec.retries) {
        if (spec.retries > 0 && err instanceof Error) err.message += ` (after ${i + 1} attempts)`;
        throw err;
      }
    }
  }
}

/** Executor calls over a chunk of items: one record per item. */
export async function execChunk(fn: (...a: unknown[]) => unknown, items: unknown[], spec: CallSpec): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  for (const item of items) {
    const start = Date.now();
    const [v, n] = await attempt(() => fn(item, ...spec.extra), spec);
    out.push([v, start, Date.now(), n]);
  }
  return out;
}

/** A reducer over the values of map calls (executor `mapReduce`); `chunks` are map tasks' record lists. */
export async function execReduce(fn: (...a: unknown[]) => unknown, chunks: CallRecord[][], spec: CallSpec): Promise<CallRecord[]> {
  const values = chunks.flatMap((c) => c.map((r) => r[0]));
  const start = Date.now();
  const [v, n] = await attempt(() => fn(values, ...spec.extra), spec);
  return [[v, start, Date.now(), n]];
}
