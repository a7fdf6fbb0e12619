// Issue 3 benchmark: results totalling 4x the workers' combined memory limit.
// Runs the same computation twice on a 2-worker local cluster — with a memory
// limit (spilling) and without — and prints time and peak RSS per worker.
//   npx tsx bench/engine/spill.ts [--limit-mib 384] [--chunk-mib 32] [--factor 4]
import { parseArgs } from "node:util";
import { Client, isMain } from "shoal";

export function block([seed, n]: [number, number]): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (seed * 31 + i) % 1000;
  return a;
}

export function blockSum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

async function runOnce(limitBytes: number, chunks: number, n: number): Promise<{ seconds: number; peakRss: Record<string, number>; spilled: Record<string, number>; total: number }> {
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, memoryLimit: limitBytes, dashboard: false } as never });
  const sched = client.localCluster!.scheduler;
  const peakRss: Record<string, number> = {};
  const spilled: Record<string, number> = {};
  const timer = setInterval(() => {
    for (const w of sched.state.workers.values()) {
      peakRss[w.name] = Math.max(peakRss[w.name] ?? 0, w.metrics["rss"] ?? 0);
      spilled[w.name] = Math.max(spilled[w.name] ?? 0, w.metrics["spilled"] ?? 0);
    }
  }, 50);
  try {
    const t = performance.now();
    const blocks = client.map(block, Array.from({ length: chunks }, (_, i): [number, number] => [i, n]), { name: "block" });
    const sums = blocks.map((b) => client.submit(blockSum, b));
    const parts = await client.gather(sums);
    // every block is still held (futures alive): read two back to check spilled data returns intact
    const again = await client.gather([client.submit(blockSum, blocks[0]!), client.submit(blockSum, blocks[chunks - 1]!)]);
    if (again[0] !== parts[0] || again[1] !== parts[chunks - 1]) throw new Error("spilled data came back different");
    const seconds = (performance.now() - t) / 1000;
    return { seconds, peakRss, spilled, total: parts.reduce((a, b) => a + b, 0) };
  } finally {
    clearInterval(timer);
    await client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "limit-mib": { type: "string", default: "384" }, "chunk-mib": { type: "string", default: "32" }, factor: { type: "string", default: "4" } } });
  const limit = Number(values["limit-mib"]) * 2 ** 20;
  const chunkBytes = Number(values["chunk-mib"]) * 2 ** 20;
  const n = chunkBytes / 8;
  const chunks = Math.ceil((Number(values.factor) * 2 * limit) / chunkBytes);
  const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
  console.log(`results: ${chunks} x ${mib(chunkBytes)} MiB = ${mib(chunks * chunkBytes)} MiB; 2 workers x ${mib(limit)} MiB limit (combined ${mib(2 * limit)} MiB)`);
  const limited = await runOnce(limit, chunks, n);
  const free = await runOnce(0, chunks, n);
  if (limited.total !== free.total) throw new Error("answers differ");
  for (const [name, r] of [["with limit", limited], ["no limit", free]] as const) {
    const rss = Object.entries(r.peakRss).map(([w, v]) => `${w} ${mib(v)} MiB`).join(", ");
    const sp = Object.entries(r.spilled).map(([w, v]) => `${w} ${mib(v)} MiB`).join(", ");
    console.log(`${name.padEnd(11)} ${r.seconds.toFixed(1)} s; peak RSS ${rss}; spilled ${sp}`);
  }
  console.log(`time with spilling / without: ${(limited.seconds / free.seconds).toFixed(2)}x`);
}

if (isMain(import.meta)) await main();
