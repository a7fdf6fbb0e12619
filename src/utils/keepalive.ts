/**
 * Holds the process's event loop open while the user awaits something the
 * engine computes. Sockets, servers and timers of an embedded cluster are
 * unref'd so that a script which forgot `await client.close()` still exits
 * once its work is done (Dask closes its client at interpreter exit); but a
 * pending `await future.result()` must keep the process alive, and an
 * unref'd socket alone would not. Each waiter takes a hold; while any hold
 * is out, one ref'd timer keeps the loop alive.
 */
let holds = 0;
let timer: NodeJS.Timeout | null = null;

/** Takes a hold; the returned function gives it back (idempotent). */
export function holdEventLoop(): () => void {
  holds++;
  if (timer === null) timer = setInterval(noop, 1 << 30);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds--;
    if (holds === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** Holds out now (for tests). */
export function eventLoopHolds(): number {
  return holds;
}

function noop(): void {}
