// A small user module for bench/engine/first-call.ts: exported task functions
// and a local helper, importing `shoal` the way a user's script does (so a
// worker's first import of the module also loads `shoal`, unless its threads
// preloaded it).
import { isMain } from "shoal";

/** When this module finished evaluating in this thread (epoch ms), i.e. after `shoal` loaded. */
const evaluatedAt = performance.timeOrigin + performance.now();

function square(x: number): number {
  return x * x;
}

/** Task A. */
export function sumSquares(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += square(i);
  return s;
}

/** Task B, same module. */
export function label(x: number): string {
  return `item-${x}`;
}

/** For the breakdown: when this thread started, when this module was evaluated, when this call ran (epoch ms). */
export function probe(): { threadStart: number; evaluatedAt: number; calledAt: number } {
  return { threadStart: performance.timeOrigin, evaluatedAt, calledAt: performance.timeOrigin + performance.now() };
}

if (isMain(import.meta)) console.log(sumSquares(10), label(1));
