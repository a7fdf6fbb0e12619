// Scheduler at scale, Shoal side by side with Dask (issue 16): for each round
// and size, runs bench/engine/scale.ts (scheduler on the program's thread,
// then with --scheduler-thread) and bench/engine/dask_scale.py one after the
// other (alternating, so the machine's load drifts over both), each in a new
// process, then prints every run and the ratios Shoal tasks/s ÷ Dask tasks/s
// with the load averages.
//
//   node bench/engine/run-scale-compare.mjs [--rounds 2] [--sizes 10000,100000] [--workloads map,tree]
//       [--no-thread] [--python /usr/bin/python3] [--out FILE.jsonl]
//
// `npm run build` first (scale.ts imports the compiled `shoal`). Dask comes
// from Debian's python3-dask / python3-distributed (`/usr/bin/python3`).
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { appendFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "2" },
    sizes: { type: "string", default: "10000,100000" },
    workloads: { type: "string", default: "map,tree" },
    "no-thread": { type: "boolean", default: false },
    python: { type: "string", default: process.env.DASK_PYTHON ?? "/usr/bin/python3" },
    out: { type: "string" },
  },
});

const la = () => loadavg().map((x) => x.toFixed(2)).join(" ");

function run(engine, cmd, args, size) {
  const before = la();
  console.log(`\n## ${engine} ${size}  (load ${before})\n$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 2 ** 20, stdio: ["ignore", "pipe", "pipe"] });
  process.stdout.write(r.stdout);
  if (r.status !== 0) {
    process.stdout.write(r.stderr.slice(-4000));
    throw new Error(`${engine} exited ${r.status ?? r.signal}`);
  }
  const rows = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => ({ ...JSON.parse(l), engine, load_before: before }));
  return rows;
}

const all = [];
const modes = values["no-thread"] ? [false] : [false, true];
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const size of values.sizes.split(",")) {
    const got = [];
    for (const thread of modes) {
      const args = ["--import", "tsx", "bench/engine/scale.ts", "--sizes", size, "--workloads", values.workloads];
      if (thread) args.push("--scheduler-thread");
      got.push(...run(thread ? "shoal-thread" : "shoal", process.execPath, args, size));
    }
    got.push(...run("dask", values.python, ["bench/engine/dask_scale.py", "--sizes", size, "--workloads", values.workloads], size));
    for (const row of got) {
      row.round = round;
      all.push(row);
      if (values.out) appendFileSync(values.out, JSON.stringify(row) + "\n");
    }
  }
}

const fmt = (x) => Math.round(x).toLocaleString("en-US");
console.log("\nround  workload  tasks      engine        seconds  tasks/s  longest stall ms  scheduler stall ms (>100)  peak RSS MiB  load");
for (const r of all) {
  console.log(
    `${String(r.round).padEnd(6)} ${r.workload.padEnd(9)} ${String(r.tasks).padEnd(10)} ${r.engine.padEnd(13)} ${r.seconds.toFixed(2).padEnd(8)} ${fmt(r.tasks_per_s).padEnd(8)} ` +
      `${fmt(r.max_stall_ms).padEnd(17)} ${`${fmt(r.scheduler_stall_ms)} (${r.scheduler_stalls_over_100ms})`.padEnd(26)} ${fmt(r.peak_rss_mib).padEnd(13)} ${r.load.toFixed(2)}`,
  );
}
console.log("\nratios (Shoal tasks/s ÷ Dask tasks/s, same round and size)");
console.log("round  workload  tasks      shoal/dask  shoal-thread/dask  load (shoal, thread, dask)");
for (const d of all.filter((r) => r.engine === "dask")) {
  const same = (e) => all.find((r) => r.engine === e && r.round === d.round && r.workload === d.workload && r.tasks === d.tasks);
  const s = same("shoal");
  const t = same("shoal-thread");
  const ratio = (x) => (x ? `${(x.tasks_per_s / d.tasks_per_s).toFixed(1)}x` : "-");
  console.log(
    `${String(d.round).padEnd(6)} ${d.workload.padEnd(9)} ${String(d.tasks).padEnd(10)} ${ratio(s).padEnd(11)} ${ratio(t).padEnd(18)} ` +
      `${[s, t, d].map((x) => (x ? x.load.toFixed(2) : "-")).join(", ")}`,
  );
}
