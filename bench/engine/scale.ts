// Scheduler at scale (issue 16): a no-op `map` and a binary tree reduction of
// `delayed` adds at growing sizes, through a local cluster (scheduler in this
// process, workers as child processes). For each run: wall time, tasks per
// second, the longest event-loop stall of this process (client + scheduler),
// its peak RSS, and the scheduler's own longest event-loop stall (its 20 ms
// tick, read with `schedulerInfo({ resetLoopStats: true })`: the same loop as
// the program's unless `--scheduler-thread` puts the scheduler on its own
// thread). Tasks per second end when the results are gathered; the stall
// columns run on until the scheduler has forgotten the graph's tasks.
// Prints a table and one JSON line per run.
//
//   node --import tsx bench/engine/scale.ts [--sizes 10000,100000,1000000] [--workloads map,tree] [--workers 2] [--scheduler-thread]
//   node --import tsx bench/engine/scale.ts --sim 1000x8 [--sizes ...]   (the sans-I/O state machine alone,
//       with fake workers that finish at once: transitions per second and the longest call)
//
// Sizes are task counts (a tree of N tasks has N/2 leaves). `--cpu-prof`
// works as for any node process.
import { Client, delayed, isMain } from "shoal";
import { parseArgs } from "node:util";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { loadavg } from "node:os";
import { SimulatedCluster, simulate, mapGraph, treeGraph } from "../../src/scheduler/simulate.ts";
import { GRAPH_PART } from "../../src/client/client.ts";

export function noop(): null {
  return null;
}

export function leaf(_i: number): number {
  return 1;
}

export function add(a: number, b: number): number {
  return a + b;
}

/** Longest gap between timer ticks (a stall the histogram would smear): sampled every 5 ms. */
class StallMeter {
  private last = performance.now();
  max = 0;
  private timer: NodeJS.Timeout;
  private readonly hist = monitorEventLoopDelay({ resolution: 10 });
  constructor() {
    this.hist.enable();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.max = Math.max(this.max, now - this.last);
      this.last = now;
    }, 5);
  }
  stop(): { maxGapMs: number; histMaxMs: number; p99Ms: number } {
    clearInterval(this.timer);
    this.hist.disable();
    const now = performance.now();
    this.max = Math.max(this.max, now - this.last);
    return { maxGapMs: this.max, histMaxMs: this.hist.max / 1e6, p99Ms: this.hist.percentile(99) / 1e6 };
  }
}

class RssMeter {
  peak = process.memoryUsage.rss();
  private timer = setInterval(() => {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }, 100);
  stop(): number {
    clearInterval(this.timer);
    return Math.max(this.peak, process.memoryUsage.rss());
  }
}

async function runMap(client: Client, n: number): Promise<void> {
  const fs = client.map(noop, Array.from({ length: n }, (_, i) => i));
  await client.gather(fs);
  for (const f of fs) f.release();
}

async function runTree(client: Client, n: number): Promise<void> {
  const leaves = Math.max(1, Math.floor((n + 1) / 2));
  const mk = delayed(leaf);
  const plus = delayed(add);
  let level = Array.from({ length: leaves }, (_, i) => mk(i));
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(plus(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  const [total] = await client.compute(level[0]!);
  if (total !== leaves) throw new Error(`tree of ${leaves} leaves gave ${String(total)}`);
}

interface Row {
  workload: string;
  tasks: number;
  seconds: number;
  tasks_per_s: number;
  max_stall_ms: number;
  scheduler_stall_ms: number;
  scheduler_stalls_over_100ms: number;
  p99_delay_ms: number;
  peak_rss_mib: number;
  load: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "10000,100000,1000000" },
      workloads: { type: "string", default: "map,tree" },
      workers: { type: "string", default: "2" },
      sim: { type: "string" },
      "scheduler-thread": { type: "boolean", default: false },
    },
  });
  if (values.sim !== undefined) {
    const [w, t] = values.sim.split("x").map(Number);
    console.log("workload  tasks       workers  seconds   transitions/s  longest call ms (which)  load");
    for (const n of values.sizes!.split(",").map(Number)) {
      for (const kind of values.workloads!.split(",")) {
        const c = new SimulatedCluster(w!, t!, { transitionLogSize: 100_000 });
        const tasks = kind === "map" ? mapGraph(n) : treeGraph(Math.ceil(n / 2));
        const wanted = kind === "map" ? tasks.map((x) => x.key) : [tasks[tasks.length - 1]!.key];
        const r = simulate(c, tasks, wanted, GRAPH_PART);
        console.log(`${kind.padEnd(9)} ${String(r.tasks).padEnd(11)} ${`${w}x${t}`.padEnd(8)} ${r.seconds.toFixed(2).padEnd(9)} ${r.transitionsPerSecond.toFixed(0).padEnd(14)} ${`${r.longestCallMs.toFixed(0)} (${r.longestCall})`.padEnd(24)} ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    return;
  }
  const client = await Client.connect({ cluster: { nworkers: Number(values.workers), nthreads: 1, dashboard: false, schedulerThread: values["scheduler-thread"] === true } });
  await client.gather(client.map(noop, Array.from({ length: 100 }, (_, i) => i)));
  const rows: Row[] = [];
  for (const n of values.sizes!.split(",").map(Number)) {
    for (const w of values.workloads!.split(",")) {
      if (global.gc) global.gc();
      await client.schedulerInfo({ resetLoopStats: true });
      const stall = new StallMeter();
      const rss = new RssMeter();
      const t = performance.now();
      if (w === "map") await runMap(client, n);
      else if (w === "tree") await runTree(client, n);
      else throw new Error(`unknown workload ${w}`);
      const seconds = (performance.now() - t) / 1000;
      // the stall columns include the release of the graph (the futures are dropped and the
      // scheduler forgets every task): wait for it before reading them
      while ((await client.schedulerInfo()).tasks > 0) await new Promise((r) => setTimeout(r, 20));
      const s = stall.stop();
      const { loop } = await client.schedulerInfo({ resetLoopStats: true });
      const row: Row = {
        workload: w,
        tasks: w === "tree" ? 2 * Math.max(1, Math.floor((n + 1) / 2)) - 1 : n,
        seconds,
        tasks_per_s: 0,
        max_stall_ms: Math.max(s.maxGapMs, s.histMaxMs),
        scheduler_stall_ms: loop.maxStallMs,
        scheduler_stalls_over_100ms: loop.stallsOver100ms,
        p99_delay_ms: s.p99Ms,
        peak_rss_mib: rss.stop() / 2 ** 20,
        load: loadavg()[0]!,
      };
      row.tasks_per_s = row.tasks / seconds;
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  await client.close();
  console.log(`\nscheduler: ${values["scheduler-thread"] ? "its own thread" : "this thread (the program's)"}`);
  console.log("workload  tasks       seconds   tasks/s   longest stall ms  scheduler stall ms (>100 ms)  p99 delay ms  peak RSS MiB  load");
  for (const r of rows) {
    console.log(
      `${r.workload.padEnd(9)} ${String(r.tasks).padEnd(11)} ${r.seconds.toFixed(2).padEnd(9)} ${r.tasks_per_s.toFixed(0).padEnd(9)} ` +
        `${r.max_stall_ms.toFixed(0).padEnd(17)} ${`${r.scheduler_stall_ms} (${r.scheduler_stalls_over_100ms})`.padEnd(28)} ${r.p99_delay_ms.toFixed(1).padEnd(13)} ${r.peak_rss_mib.toFixed(0).padEnd(13)} ${r.load.toFixed(2)}`,
    );
  }
}

if (isMain(import.meta)) await main();
