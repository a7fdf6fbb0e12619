// Shoal side of bench/engine: startup time, no-op task throughput and a
// dependency chain through a 2-worker local cluster. Prints one JSON object.
import { Client, isMain } from "shoal";
import { parseArgs } from "node:util";

export function noop(): null {
  return null;
}

export function inc(x: number): number {
  return x + 1;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { workers: { type: "string", default: "2" }, tasks: { type: "string", default: "10000,100000" }, chain: { type: "string", default: "10000" } } });
  const nworkers = Number(values.workers);
  const t0 = performance.now();
  const client = await Client.connect({ cluster: { nworkers, nthreads: 1 } });
  const out: Record<string, unknown> = { startup_s: (performance.now() - t0) / 1000 };
  await client.gather(client.map(noop, Array.from({ length: 100 }, (_, i) => i)));
  for (const n of values.tasks!.split(",").map(Number)) {
    const t = performance.now();
    const fs = client.map(noop, Array.from({ length: n }, (_, i) => i));
    await client.gather(fs);
    const el = (performance.now() - t) / 1000;
    out[`noop_${n}`] = { seconds: el, tasks_per_s: n / el };
    for (const f of fs) f.release();
  }
  const chain = Number(values.chain);
  const t = performance.now();
  let f = client.submit(inc, 0);
  for (let i = 1; i < chain; i++) f = client.submit(inc, f);
  const v = await f.result();
  if (v !== chain) throw new Error(`chain gave ${v}`);
  const el = (performance.now() - t) / 1000;
  out[`chain_${chain}`] = { seconds: el, tasks_per_s: chain / el };
  await client.close();
  console.log(JSON.stringify(out));
}

if (isMain(import.meta)) await main();
