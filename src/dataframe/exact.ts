/**
 * Exact and compensated arithmetic used by the reductions: integer sums and
 * sums of squares without rounding (BigInt, flushed from float accumulators),
 * Neumaier summation for floats, Chan's parallel combination of moments, and
 * a correctly rounded square root of a rational.
 *
 * @module
 */

const FLUSH = 2 ** 52;

/** Exact Σx and Σx² of integer-valued doubles (|x| < 2^53). */
export function intSums(values: Float64Array): { sum: bigint; sumSq: bigint } {
  let s1 = 0, s2 = 0;
  let S1 = 0n, S2 = 0n;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) { const a = Math.abs(values[i]!); if (a > maxAbs) maxAbs = a; }
  if (maxAbs < 2 ** 26) {
    // x*x < 2^52 is exact; flush the float accumulators before they can round.
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      s1 += x;
      s2 += x * x;
      if (s2 >= FLUSH || s1 >= FLUSH || s1 <= -FLUSH) { S1 += BigInt(s1); S2 += BigInt(s2); s1 = 0; s2 = 0; }
    }
    return { sum: S1 + BigInt(s1), sumSq: S2 + BigInt(s2) };
  }
  for (let i = 0; i < values.length; i++) {
    const x = BigInt(values[i]!);
    S1 += x;
    S2 += x * x;
  }
  return { sum: S1, sumSq: S2 };
}

/** Exact Σx and Σx² of int64 values. */
export function bigIntSums(values: BigInt64Array): { sum: bigint; sumSq: bigint } {
  let S1 = 0n, S2 = 0n;
  for (let i = 0; i < values.length; i++) { const x = values[i]!; S1 += x; S2 += x * x; }
  return { sum: S1, sumSq: S2 };
}

/** Neumaier-compensated sum of the non-NaN values; returns [sum, count]. */
export function neumaierSum(values: Float64Array): [number, number] {
  let s = 0, c = 0, n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x !== x) continue;
    const t = s + x;
    if (Math.abs(s) >= Math.abs(x)) c += (s - t) + x; else c += (x - t) + s;
    s = t;
    n++;
  }
  return [s + c, n];
}

/** Mean and M2 = Σ(x-mean)² of the non-NaN values (two compensated passes). */
export function floatMoments(values: Float64Array): { n: number; mean: number; m2: number; sum: number } {
  const [sum, n] = neumaierSum(values);
  if (n === 0) return { n: 0, mean: 0, m2: 0, sum: 0 };
  const mean = sum / n;
  let s = 0, c = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (x !== x) continue;
    const d = (x - mean) * (x - mean);
    const t = s + d;
    if (Math.abs(s) >= Math.abs(d)) c += (s - t) + d; else c += (d - t) + s;
    s = t;
  }
  return { n, mean, m2: s + c, sum };
}

/** Chan et al. parallel combination of (n, mean, M2). */
export function chanCombine(a: { n: number; mean: number; m2: number }, b: { n: number; mean: number; m2: number }): { n: number; mean: number; m2: number } {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  const mean = a.mean + delta * (b.n / n);
  const m2 = a.m2 + b.m2 + delta * delta * ((a.n * b.n) / n);
  return { n, mean, m2 };
}

/** The double nearest to num/den (both BigInt, den > 0). */
export function ratioToNumber(num: bigint, den: bigint): number {
  if (num === 0n) return 0;
  const neg = num < 0n;
  const a = neg ? -num : num;
  // scale so that the quotient has at least 64 significant bits, then round once
  const shift = Math.max(0, 64 - (a.toString(2).length - den.toString(2).length));
  const q = (a << BigInt(shift)) / den;
  const r = Number(q) / 2 ** shift; // Number(q) rounds to nearest; dividing by 2^k is exact
  return neg ? -r : r;
}

/** Integer square root (floor) of a non-negative BigInt. */
export function isqrt(v: bigint): bigint {
  if (v < 2n) return v;
  let x = BigInt(Math.floor(Math.sqrt(Number(v))));
  for (;;) {
    const y = (x + v / x) >> 1n;
    if (y >= x) {
      while (x * x > v) x--;
      while ((x + 1n) * (x + 1n) <= v) x++;
      return x;
    }
    x = y;
  }
}

/** The double nearest to sqrt(num/den), computed with ~64 extra bits (num ≥ 0, den > 0). */
export function sqrtRatioToNumber(num: bigint, den: bigint): number {
  if (num <= 0n) return 0;
  const bits = num.toString(2).length - den.toString(2).length;
  // want sqrt(num * 2^(2k) / den) to have >= 70 bits: 2k + bits >= 140
  const k = Math.max(0, Math.ceil((140 - bits) / 2));
  const root = isqrt((num << BigInt(2 * k)) / den);
  return Number(root) / 2 ** k;
}
