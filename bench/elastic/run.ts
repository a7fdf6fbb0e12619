/**
 * bench/elastic: the executor from zero workers, scale-up reaction and
 * scale-down without recomputation.
 *
 *   npx tsx bench/elastic/run.ts [--trivial 1000] [--cpu-calls 100] [--cpu-ms 1000] [--workers CORES]
 *
 * Prints one JSON line per measurement. Lithops localhost is the peer of the
 * first two (not run here: see docs/elastic.md).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Client, isMain, LocalCluster } from "../../src/index.ts";
import { executor } from "../../src/elastic/executor.ts";
import { retireStats } from "../../src/elastic/retire.ts";
import { counted, cpu, startedAt, trivial } from "./tasks.ts";

async function until(ok: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { trivial: { type: "string", default: "1000" }, "cpu-calls": { type: "string", default: "100" }, "cpu-ms": { type: "string", default: "1000" }, workers: { type: "string" } } });
  const cores = Number(values.workers ?? os.availableParallelism());
  const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(" ");

  // scale-up reaction: first queued task → a new worker running it (adapt interval 0.1 s)
  {
    const cluster = await LocalCluster.start({ nworkers: 0, nthreads: 1, dashboard: false });
    cluster.adapt({ minimum: 0, maximum: 1, interval: 0.1 });
    const client = await Client.connect(cluster);
    const t0 = Date.now();
    const started = await client.submit(startedAt).result();
    console.log(JSON.stringify({ bench: "scale-up reaction", seconds: (started - t0) / 1000, note: "submit to a cluster of 0 workers until the new worker starts the task (includes process start)", load: load() }));
    await client.close();
    await cluster.close();
  }

  // the executor from zero: trivial calls
  {
    const n = Number(values.trivial);
    const ex = await executor({ maxWorkers: cores });
    const t0 = performance.now();
    const r = await ex.getResult(ex.map(trivial, Array.from({ length: n }, (_, i) => i)));
    const s = (performance.now() - t0) / 1000;
    if (r[n - 1] !== n) throw new Error("wrong result");
    console.log(JSON.stringify({ bench: `executor map of ${n} trivial calls from 0 workers`, seconds: s, workers: cores, load: load() }));
    await ex.close();
  }

  // the executor from zero: CPU calls, vs the ideal (total CPU / cores + worker start)
  {
    const n = Number(values["cpu-calls"]);
    const ms = Number(values["cpu-ms"]);
    const ex = await executor({ maxWorkers: cores });
    const t0 = performance.now();
    await ex.getResult(ex.map(cpu, Array.from({ length: n }, (_, i) => i), { extraArgs: [ms] }));
    const s = (performance.now() - t0) / 1000;
    const sum = await ex.summary();
    console.log(JSON.stringify({ bench: `executor map of ${n} calls of ${ms} ms CPU from 0 workers`, seconds: s, idealWithoutStart: (n * ms) / 1000 / cores, workers: cores, callSecondsMean: sum.callSeconds.mean, load: load() }));
    await ex.close();
  }

  // scale-down without recomputation
  {
    const dir = mkdtempSync(join(os.tmpdir(), "shoal-bench-elastic-"));
    const log = join(dir, "runs");
    const cluster = await LocalCluster.start({ nworkers: 2, nthreads: 1, dashboard: false });
    await cluster.waitForWorkers(2);
    const client = await Client.connect(cluster);
    const fs = Array.from({ length: 40 }, (_, i) => client.submit(counted, i, log));
    await Promise.all(fs.map((f) => f.wait()));
    const t0 = performance.now();
    cluster.adapt({ minimum: 1, maximum: 2, interval: 0.1, waitCount: 3 });
    await until(() => cluster.scheduler.state.workers.size === 1);
    const s = (performance.now() - t0) / 1000;
    const st = retireStats.get(cluster.scheduler)!;
    const again = await client.gather(fs);
    const runs = readFileSync(log, "utf8").trim().split("\n").length;
    console.log(JSON.stringify({ bench: "scale-down 2 → 1 worker holding results", seconds: s, moved: st.moved, bytes: st.bytes, executions: runs, tasks: fs.length, recomputed: runs - fs.length, fetched: again.length, load: load() }));
    await client.close();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta)) await main();
