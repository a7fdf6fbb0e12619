/**
 * Seed 004's parallel example: count the primes in [100,000,000, 101,000,000)
 * once in this thread and once with `client.map` over chunks on a local
 * cluster, and print both times, the speedup and the answer (54,208).
 *
 *   npx tsx examples/primes.ts [--workers 2] [--chunks 64] [--from 100000000] [--to 101000000]
 */
import { parseArgs } from "node:util";
import { Client, isMain } from "shoal";

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  if (n % 3 === 0) return n === 3;
  for (let i = 5; i * i <= n; i += 6) {
    if (n % i === 0 || n % (i + 2) === 0) return false;
  }
  return true;
}

/** Number of primes in [lo, hi). A task: exported, so workers import this module. */
export function countPrimes(lo: number, hi: number): number {
  let c = 0;
  for (let n = lo; n < hi; n++) if (isPrime(n)) c++;
  return c;
}

export function countRange([lo, hi]: [number, number]): number {
  return countPrimes(lo, hi);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: "string", default: "2" },
      chunks: { type: "string", default: "64" },
      from: { type: "string", default: "100000000" },
      to: { type: "string", default: "101000000" },
    },
  });
  const lo = Number(values.from);
  const hi = Number(values.to);
  const nchunks = Number(values.chunks);

  let t = performance.now();
  const serial = countPrimes(lo, hi);
  const serialS = (performance.now() - t) / 1000;
  console.log(`one thread:   ${serial} primes in ${serialS.toFixed(2)} s`);

  const client = await Client.connect({ cluster: { nworkers: Number(values.workers), nthreads: 1 } });
  try {
    const step = Math.ceil((hi - lo) / nchunks);
    const ranges: [number, number][] = [];
    for (let a = lo; a < hi; a += step) ranges.push([a, Math.min(hi, a + step)]);
    // Warm every worker: the first task of a module on a worker fetches and
    // imports its bundle (a few ms; the threads preloaded `shoal` before the
    // worker registered) and runs cold code, which is not what this measures.
    const nw = Number(values.workers);
    await client.gather(client.map(countRange, Array.from({ length: 4 * nw }, (): [number, number] => [lo, lo + 20_000])));
    t = performance.now();
    const counts = await client.gather(client.map(countRange, ranges));
    const parallelS = (performance.now() - t) / 1000;
    const total = counts.reduce((a, b) => a + b, 0);
    console.log(`${values.workers} workers:    ${total} primes in ${parallelS.toFixed(2)} s (${ranges.length} chunks)`);
    console.log(`speedup:      ${(serialS / parallelS).toFixed(2)}x`);
    if (total !== serial) throw new Error(`parallel count ${total} differs from serial ${serial}`);
  } finally {
    await client.close();
  }
}

if (isMain(import.meta)) await main();
