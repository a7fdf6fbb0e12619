#!/usr/bin/env node
// Runs Shoal and Dask on the same engine workloads, one after the other in
// one run, and prints both and the ratios. Absolute times drift on a shared
// machine; the ratios are the result.
//   node bench/engine/run.mjs [--workers 2] [--tasks 10000,100000] [--chain 10000] [--rounds 1]
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { workers: { type: "string", default: "2" }, tasks: { type: "string", default: "10000,100000" }, chain: { type: "string", default: "10000" }, rounds: { type: "string", default: "1" } } });
const rows = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const shoal = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", join(here, "shoal_overhead.ts"), "--workers", values.workers, "--tasks", values.tasks, "--chain", values.chain], { encoding: "utf8", env: { ...process.env, SHOAL_QUIET: "1" } }).trim().split("\n").pop());
  const dask = JSON.parse(execFileSync("/usr/bin/python3", [join(here, "dask_overhead.py"), "--workers", values.workers, "--tasks", ...values.tasks.split(","), "--chain", values.chain], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n").pop());
  rows.push({ shoal, dask });
}
const fmt = (x) => (typeof x === "number" ? x.toFixed(x < 10 ? 3 : 0) : String(x));
console.log(`workload                 shoal            dask             ratio (shoal/dask throughput)`);
for (const { shoal, dask } of rows) {
  console.log(`startup (s)              ${fmt(shoal.startup_s).padEnd(16)} ${fmt(dask.startup_s).padEnd(16)} ${(dask.startup_s / shoal.startup_s).toFixed(2)}x faster`);
  for (const k of Object.keys(shoal).filter((k) => k !== "startup_s")) {
    const s = shoal[k].tasks_per_s, d = dask[k]?.tasks_per_s;
    console.log(`${(k + " tasks/s").padEnd(24)} ${fmt(s).padEnd(16)} ${fmt(d).padEnd(16)} ${d ? (s / d).toFixed(2) + "x" : "-"}`);
  }
}
