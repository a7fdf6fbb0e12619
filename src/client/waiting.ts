/**
 * Waiting on many futures: {@link asCompleted} (completion order) and
 * {@link wait} (concurrent.futures.wait), split out of the client, which
 * re-exports them.
 */
import type { Future } from "./future.ts";

export type ReturnWhen = "ALL_COMPLETED" | "FIRST_COMPLETED" | "FIRST_EXCEPTION";

/**
 * Yields futures in the order they complete (each future once, however often
 * it is passed). O(n) in all: one completion callback per future feeds a
 * queue that the generator drains, where racing every pending future at
 * each step was O(n²) in time and in promise reactions (5,000 futures ran
 * out of a 4 GiB heap).
 *
 * @example
 * ```ts
 * for await (const f of asCompleted(client.map(inc, [1, 2, 3]))) console.log(await f.result());
 * ```
 */
export async function* asCompleted<T>(futures: Iterable<Future<T>>): AsyncGenerator<Future<T>> {
  const all = new Set(futures);
  let queue: Future<T>[] = [];
  let wake: (() => void) | null = null;
  for (const f of all) {
    void f.state.done().then(() => {
      queue.push(f);
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
    });
  }
  for (let left = all.size; left > 0; ) {
    if (queue.length === 0) await new Promise<void>((r) => (wake = r));
    const ready = queue;
    queue = [];
    for (const f of ready) {
      left -= 1;
      yield f;
    }
  }
}

/** Waits for futures; returns `{done, notDone}` like concurrent.futures.wait. */
export async function wait<T>(
  futures: Iterable<Future<T>>,
  opts: { returnWhen?: ReturnWhen; timeout?: number } = {},
): Promise<{ done: Set<Future<T>>; notDone: Set<Future<T>> }> {
  const all = [...futures];
  const when = opts.returnWhen ?? "ALL_COMPLETED";
  const condition = new Promise<void>((resolve) => {
    let remaining = all.length;
    if (remaining === 0) resolve();
    for (const f of all) {
      void f.wait().then(() => {
        remaining -= 1;
        if (when === "FIRST_COMPLETED" || (when === "FIRST_EXCEPTION" && f.status !== "finished") || remaining === 0) resolve();
      });
    }
  });
  if (opts.timeout !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([condition, new Promise<void>((r) => (timer = setTimeout(r, opts.timeout)))]);
    if (timer) clearTimeout(timer);
  } else {
    await condition;
  }
  const done = new Set(all.filter((f) => f.done()));
  return { done, notDone: new Set(all.filter((f) => !f.done())) };
}
