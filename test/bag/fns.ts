// Task callbacks for the Bag tests (exported, so workers import their bundle).
export function words(line: string): string[] {
  return line.split(/\s+/).filter((w) => w.length > 0);
}

export function isEven(x: number): boolean {
  return x % 2 === 0;
}

export function add(a: number, b: number): number {
  return a + b;
}

export function toPair(w: string): [string, number] {
  return [w, 1];
}

export function lengthOf(w: string): number {
  return w.length;
}

export function boom(x: number): number {
  if (x === 7) throw new RangeError("seven is not allowed");
  return x;
}
