// Task functions of the elastic tests (workers import this module from a bundle).
import { appendFileSync, existsSync, writeFileSync } from "node:fs";

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

/** Throws the first time it sees `x` (a marker file in `dir`), then returns x. */
export function flakyOnce(x: number, dir: string): number {
  const f = `${dir}/seen-${x}`;
  if (!existsSync(f)) {
    writeFileSync(f, "1");
    throw new Error(`first attempt at ${x}`);
  }
  return x;
}

export function sumAll(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** An object chunk's lines and text (executor object maps). */
export function chunkLines(obj: { data: Uint8Array; key: string }): { key: string; text: string; lines: number } {
  const text = Buffer.from(obj.data).toString("utf8");
  return { key: obj.key, text, lines: text.split("\n").filter((l) => l !== "").length };
}

export function joinTexts(parts: { text: string }[]): string {
  return parts.map((p) => p.text).join("");
}
