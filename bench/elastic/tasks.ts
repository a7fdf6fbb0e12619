// Task functions of bench/elastic (workers import this module).
import { appendFileSync } from "node:fs";

export function trivial(x: number): number {
  return x + 1;
}

export function cpu(x: number, ms: number): number {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return x + (n > 0 ? 0 : 1);
}

/** Returns the worker's clock when it started (scale-up reaction). */
export function startedAt(): number {
  return Date.now();
}

export function counted(x: number, log: string): Uint8Array {
  appendFileSync(log, `${x}\n`);
  return new Uint8Array(100_000).fill(x & 255);
}
