// Task functions for the dashboard tests (shipped to workers as a bundle).
export function inc(x: number): number {
  return x + 1;
}

export function noop(): null {
  return null;
}

export function explode(message: string): never {
  throw new RangeError(message);
}

export async function sleepInc(x: number, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return x + 1;
}

export function makeBytes(n: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

export function totalBoth(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  for (const v of b) s += v;
  return s;
}

/** Sleeps 20 ms and returns x + 1. */
export async function nap(x: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 20));
  return x + 1;
}
