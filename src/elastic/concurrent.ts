/**
 * `mapConcurrent(asyncFn, items, { concurrency })`: I/O-bound work on one
 * machine (HTTP calls, object reads), at most `concurrency` calls in flight,
 * results in item order. What Python does with a `ThreadPoolExecutor` for
 * I/O, done with promises on this event loop (no threads, no cluster).
 *
 * @example
 * ```ts
 * import { mapConcurrent } from "shoal";
 * const pages = await mapConcurrent((url: string) => fetch(url).then((r) => r.text()), urls, { concurrency: 50, progress: true });
 * ```
 *
 * @module
 */
import { check } from "./errors.ts";

export interface MapConcurrentOptions {
  /** Calls in flight at once (default 16). */
  concurrency?: number;
  /** Draw a terminal progress bar on stderr (default false), or a callback `(done, total)`. */
  progress?: boolean | ((done: number, total: number) => void);
  /** Stops starting new calls when aborted; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Runs `fn(item, index)` for every item with at most `concurrency` calls at
 * once and resolves with the results in item order. The first call that
 * throws stops new calls from starting; the calls in flight are awaited and
 * that first error is thrown (as `ThreadPoolExecutor.map` raises the first
 * failed result).
 */
export async function mapConcurrent<T, R>(fn: (item: T, index: number) => R | Promise<R>, items: Iterable<T>, opts: MapConcurrentOptions = {}): Promise<Awaited<R>[]> {
  const concurrency = opts.concurrency ?? 16;
  check(Number.isInteger(concurrency) && concurrency >= 1, "concurrency", "a positive integer", concurrency);
  const list = [...items];
  const out = new Array<Awaited<R>>(list.length);
  let next = 0;
  let done = 0;
  let failed: { err: unknown } | null = null;
  const bar = typeof opts.progress === "function" ? opts.progress : opts.progress ? await terminalBar(list.length) : null;
  const lane = async (): Promise<void> => {
    while (failed === null && next < list.length) {
      if (opts.signal?.aborted) {
        failed ??= { err: opts.signal.reason };
        return;
      }
      const i = next++;
      try {
        out[i] = await fn(list[i]!, i);
      } catch (err) {
        failed ??= { err };
        return;
      }
      done++;
      bar?.(done, list.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane));
  if (bar && "end" in bar) (bar as { end(): void }).end();
  if (failed !== null) throw (failed as { err: unknown }).err;
  return out;
}

/** A one-line bar on stderr in the dashboard's terminal format (redrawn on a TTY, a few plain lines elsewhere). */
async function terminalBar(total: number): Promise<((done: number, total: number) => void) & { end(): void }> {
  const { formatBar } = await import("../dashboard/progress.ts");
  const stream = process.stderr;
  const tty = stream.isTTY === true;
  const started = performance.now();
  let last = 0;
  let current = 0;
  const draw = (final: boolean): void => {
    const line = formatBar({ group: "mapConcurrent", done: current, erred: 0, total }, 14, 30, (performance.now() - started) / 1000);
    if (tty) stream.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
    else if (final) stream.write(line + "\n");
  };
  const f = (done: number): void => {
    current = done;
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      draw(false);
    }
  };
  return Object.assign(f, { end: () => draw(true) });
}
