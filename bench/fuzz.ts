// Protocol fuzz of a real cluster: `shoal scheduler --token` and `shoal
// worker` as processes on loopback, and hostile connections at the
// scheduler's port (unregistered, as a client, as a worker) and at the
// worker's data port: random, truncated, mutated and mistyped frames, hostile
// length prefixes, wrong and missing tokens. Prints how connections ended,
// the processes' RSS before and after, and checks that the cluster still
// computes. Exits 1 when a process died or the cluster stopped answering.
//
//   npm run build && npx tsx bench/fuzz.ts [--n 5000] [--seed 1]
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Client } from "../src/client/client.ts";
import { fuzzPort } from "../test/support/wire-fuzz.ts";
import { startShoal, waitFor } from "../test/support/cli.ts";
import { inc, makeBytes } from "../test/fixtures/tasks.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "2000" }, seed: { type: "string", default: "1" } } });
const n = Number(values.n);
const seed = Number(values.seed);
const TOKEN = "fuzz-token";
const MiB = 2 ** 20;

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

const dir = mkdtempSync(join(tmpdir(), "shoal-fuzz-"));
const file = join(dir, "scheduler.json");
const sched = startShoal(["scheduler", "--port", "0", "--token", TOKEN, "--scheduler-file", file, "--no-dashboard"]);
await waitFor(() => existsSync(file) && readFileSync(file, "utf8").includes("address"), "the scheduler file");
const address = JSON.parse(readFileSync(file, "utf8")).address as string;
const worker = startShoal(["worker", address, "--token", TOKEN, "--no-nanny", "--nthreads", "1"]);
const client = await Client.connect({ address, token: TOKEN });
await client.waitForWorkers(1);
const info = await client.schedulerInfo();
const [workerAddress, w] = Object.entries(info.workers)[0]!;
const pids = { scheduler: sched.proc.pid!, worker: w.pid };
const before = { scheduler: rss(pids.scheduler), worker: rss(pids.worker) };
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}; ${n} hostile connections per target, seed ${seed}`);
console.log("| target | connections | closed by the peer | still open at the end | refused with a reason | seconds |");
console.log("|---|---:|---:|---:|---:|---:|");
const targets: [string, string, "none" | "client" | "worker"][] = [
  ["scheduler (unregistered)", address, "none"],
  ["scheduler (as a client)", address, "client"],
  ["scheduler (as a worker)", address, "worker"],
  ["worker data port", workerAddress, "none"],
];
let i = 0;
for (const [name, addr, register] of targets) {
  const t0 = performance.now();
  const r = await fuzzPort(addr, { seed: seed + i++, n, token: TOKEN, register, settleMs: 200, concurrency: 16 });
  console.log(`| ${name} | ${n} | ${r.closedByPeer} | ${r.stillOpen} | ${r.refusals} | ${((performance.now() - t0) / 1000).toFixed(1)} |`);
}
let ok = sched.proc.exitCode === null && worker.proc.exitCode === null;
try {
  ok &&= (await client.submit(inc, 41).result()) === 42;
  ok &&= ((await client.submit(makeBytes, 100_000).result()) as Float64Array).length === 100_000;
} catch (err) {
  console.log(`the cluster stopped answering: ${(err as Error).message}`);
  ok = false;
}
const after = { scheduler: rss(pids.scheduler), worker: rss(pids.worker) };
console.log(`RSS before → after: scheduler ${(before.scheduler / MiB).toFixed(0)} → ${(after.scheduler / MiB).toFixed(0)} MiB, worker ${(before.worker / MiB).toFixed(0)} → ${(after.worker / MiB).toFixed(0)} MiB`);
console.log(ok ? "both processes alive, the cluster computes" : "FAILED");
await client.close();
sched.proc.kill("SIGTERM");
worker.proc.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });
process.exit(ok ? 0 : 1);
