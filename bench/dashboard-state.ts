// Dashboard cost on the scheduler's own loop, without sockets or worker
// processes (so the numbers do not depend on other load on the machine as
// much as bench/dashboard-overhead.ts does): the sans-I/O SchedulerState is
// driven with N no-op tasks on 2 simulated workers, and finished-task events
// are fed back at once. Variants: no dashboard; the dashboard's listener with
// its fold every 500 ms of wall time; and, in addition, a full live-update
// snapshot (JSON, as /events sends) every 500 ms plus a /metrics render.
//
//   node --import tsx bench/dashboard-state.ts [--tasks 20000] [--rounds 7]
import { parseArgs } from "node:util";
import { SchedulerServer } from "../src/scheduler/server.ts";
import { Op, type TaskFinishedMsg, type TaskMsg } from "../src/protocol/messages.ts";
import { DashboardModel } from "../src/dashboard/model.ts";
import { renderMetrics } from "../src/dashboard/metrics.ts";
import { isMain } from "../src/utils/is-main.ts";

const EMPTY = { header: new Uint8Array(1), frames: [] };

function runBatch(server: SchedulerServer, n: number, batch: number, onTick: (() => void) | null): number {
  const s = server.state;
  const tasks: TaskMsg[] = [];
  for (let i = 0; i < n; i++) tasks.push({ key: `noop-${batch}x${i}`, spec: EMPTY, deps: [], order: i });
  const t0 = performance.now();
  let nextTick = t0 + 500;
  s.updateGraph("c1", tasks, tasks.map((t) => t.key));
  let done = 0;
  while (done < n) {
    const out = s.drain();
    let progressed = false;
    for (const o of out) {
      if (o.to !== "worker" || o.msg.op !== Op.computeTask) continue;
      const now = Date.now() / 1000;
      const m: TaskFinishedMsg = { op: Op.taskFinished, key: o.msg["key"] as string, runId: o.msg["runId"] as number, nbytes: 8, type: "null", start: now, stop: now + 1e-5, inline: EMPTY };
      s.taskFinished(o.address, m);
      done++;
      progressed = true;
    }
    if (onTick && performance.now() >= nextTick) {
      onTick();
      nextTick += 500;
    }
    if (!progressed && out.length === 0) throw new Error(`stalled at ${done}/${n}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  s.clientReleasesKeys("c1", tasks.map((t) => t.key));
  s.drain();
  return n / seconds;
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  return a[Math.floor(a.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tasks: { type: "string", default: "20000" }, rounds: { type: "string", default: "7" } } });
  const n = Number(values.tasks);
  const rounds = Number(values.rounds);
  const server = new SchedulerServer({ logEvents: false, config: { validate: false } });
  for (const a of ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"]) {
    server.state.addWorker({ address: a, name: a.slice(-1), nthreads: 1, memoryLimit: 2 ** 30, host: "h", pid: 1, keys: [] });
    server.state.heartbeat(a, { rss: 1e8, managed: 1e6, heap: 5e7, cpu: 50, executing: 1, paused: 0 });
  }
  server.state.drain();
  let batch = 0;
  for (let i = 0; i < 3; i++) runBatch(server, n, batch++, null); // warm up

  const results: Record<string, number[]> = { none: [], listener: [], live: [] };
  let snapshots = 0;
  let snapshotMs = 0;
  const variants: Record<string, () => number> = {
    none: () => runBatch(server, n, batch++, null),
    listener: () => {
      const model = new DashboardModel(server);
      try {
        return runBatch(server, n, batch++, () => model.fold());
      } finally {
        model.detach();
      }
    },
    live: () => {
      const model = new DashboardModel(server);
      let cursor = 0;
      try {
        return runBatch(server, n, batch++, () => {
          const t = performance.now();
          const snap = model.status(cursor);
          cursor = snap.stream.head;
          JSON.stringify(snap);
          renderMetrics(model);
          snapshotMs += performance.now() - t;
          snapshots++;
        });
      } finally {
        model.detach();
      }
    },
  };
  const names = Object.keys(variants);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const k = names[(i + r) % names.length]!;
      results[k]!.push(variants[k]!());
    }
  }
  const base = median(results["none"]!);
  console.log(`SchedulerState alone: ${n} no-op tasks on 2 simulated workers, ${rounds} rounds (median tasks/s)`);
  for (const [k, xs] of Object.entries(results)) {
    console.log(`  ${k.padEnd(9)} ${String(Math.round(median(xs))).padStart(8)} tasks/s   ratio ${(median(xs) / base).toFixed(3)}   (${xs.map(Math.round).join(", ")})`);
  }
  console.log(`  one live snapshot (status JSON with 1000 stream entries + /metrics): ${(snapshotMs / Math.max(1, snapshots)).toFixed(2)} ms, ${snapshots} taken`);
  console.log(JSON.stringify({ tasks: n, rounds, results: Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, { median_tasks_per_s: Math.round(median(xs)), ratio_to_none: Number((median(xs) / base).toFixed(3)) }])), snapshot_ms: snapshotMs / Math.max(1, snapshots) }));
}

if (isMain(import.meta)) await main();
