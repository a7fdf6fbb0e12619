// Task functions of the elastic tests (workers import this module from a bundle).
import { appendFileSync } from "node:fs";

export function square(x: number): number {
  return x * x;
}

export function addTo(x: number, y: number): number {
  return x + y;
}

export function failOn(x: number, bad: number): number {
  if (x === bad) throw new RangeError(`bad item ${x}`);
  return x;
}

/** Appends one line per execution to `log` (counts executions across processes). */
export function counted(x: number, log: string, bytes: number, ms = 0): Uint8Array {
  appendFileSync(log, `${x}\n`);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* spin */
  }
  const out = new Uint8Array(bytes);
  out[0] = x & 255;
  return out;
}

export function firstByte(a: Uint8Array, b: Uint8Array): number {
  return (a[0] ?? 0) + (b[0] ?? 0);
}

export function busyMs(x: number, ms: number): number {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* spin */
  }
  return x;
}

export async function sleepMs(x: number, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return x;
}
