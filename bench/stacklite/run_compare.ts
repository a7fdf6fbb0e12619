/**
 * Shoal vs Dask vs pandas (and one polars process) on the same StackLite
 * data, side by side in one run: answers compared with pandas, wall time,
 * per-task times and peak memory (RSS of the whole process tree, sampled
 * every 50 ms), with ratios.
 *
 *     node --import tsx bench/stacklite/run_compare.ts --data DIR [--questions N] [--engines shoal,dask,pandas,polars] [--out FILE]
 *
 * Shoal: examples/stackoverflow.ts compiled, as `npm run demo` runs it
 * (dist/examples/stackoverflow.js, from `npm run build`), with a local
 * cluster of 2 workers x 1 thread (persist on). Dask: bench/stacklite/dask_tasks.py, 2 workers x 1
 * thread, explicit dtypes, lazy reads. pandas: bench/stacklite/pandas_tasks.py
 * (tasks 7/8 repeat 5/6). polars: bench/stacklite/polars_tasks.ts.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareAnswers } from "./compare_answers.ts";
import { generateStacklite } from "../../src/datasets/stacklite.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const PY = "/usr/bin/python3";
const SHOAL_JOB = "dist/examples/stackoverflow.js";

interface RunResult { engine: string; wall: number; peakRssMiB: number; timings: Record<string, number>; answers: unknown; rc: number }

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

/** RSS (bytes) of a process and all its descendants, from /proc. */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      rss.set(Number(d), Number(fields[21]) * 4096);
      const l = children.get(ppid) ?? [];
      l.push(Number(d));
      children.set(ppid, l);
    } catch { /* gone */ }
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += rss.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

async function run(engine: string, cmd: string, args: string[], out: string): Promise<RunResult> {
  const t0 = performance.now();
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  let peak = 0;
  const timer = setInterval(() => { if (child.pid) peak = Math.max(peak, treeRss(child.pid)); }, 50);
  const rc = await new Promise<number>((r) => child.on("exit", (code) => r(code ?? 1)));
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;
  const res = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : { answers: null, timings_s: {} };
  return { engine, wall, peakRssMiB: peak / 2 ** 20, timings: res.timings_s, answers: res.answers, rc };
}

const f = (x: number | undefined, d = 2): string => (x === undefined ? "–" : x.toFixed(d));

async function main(): Promise<void> {
  const data = arg("data");
  if (!data) { process.stderr.write("usage: run_compare.ts --data DIR [--questions N] [--engines shoal,dask,pandas,polars] [--out FILE]\n"); process.exit(2); }
  if (!existsSync(data) || !readdirSync(data).some((x) => x.startsWith("questions"))) {
    mkdirSync(data, { recursive: true });
    await generateStacklite({ out: data, questions: Number(arg("questions", "1000000")), dangling: 3 });
  }
  const engines = (arg("engines", "shoal,dask,pandas,polars") ?? "").split(",");
  if (engines.includes("shoal") && !existsSync(join(ROOT, SHOAL_JOB))) { process.stderr.write(`${SHOAL_JOB} is missing: run \`npm run build\` first\n`); process.exit(2); }
  const tmp = join(data, ".bench");
  mkdirSync(tmp, { recursive: true });
  const results: RunResult[] = [];
  for (const e of engines) {
    const out = join(tmp, `${e}.json`);
    process.stderr.write(`running ${e} ...\n`);
    // the main job as `npm run demo` runs it: compiled (dist/examples/, written by `npm run build`)
    if (e === "shoal") results.push(await run(e, process.execPath, [SHOAL_JOB, "--data", data, "--workers", "2", "--threads", "1", "--json", out], out));
    else if (e === "dask") results.push(await run(e, PY, ["bench/stacklite/dask_tasks.py", "--data", data, "--workers", "2", "--threads", "1", "--out", out], out));
    else if (e === "pandas") results.push(await run(e, PY, ["bench/stacklite/pandas_tasks.py", "--data", data, "--out", out], out));
    else if (e === "polars") results.push(await run(e, process.execPath, ["--import", "tsx", "bench/stacklite/polars_tasks.ts", "--data", data, "--out", out], out));
    else throw new Error(`unknown engine ${e}`);
  }
  const ref = results.find((r) => r.engine === "pandas")?.answers;
  const phases = ["cluster_start", "load", "task1", "task2", "task3", "task4", "task5", "task6", "kill", "task7", "task8"];
  const lines: string[] = [];
  lines.push(`| phase (s) | ${results.map((r) => r.engine).join(" | ")} |`);
  lines.push(`|---|${results.map(() => "---:").join("|")}|`);
  for (const p of phases) lines.push(`| ${p} | ${results.map((r) => f(r.timings[p])).join(" | ")} |`);
  const t16 = (r: RunResult): number => ["task1", "task2", "task3", "task4", "task5", "task6"].reduce((a, k) => a + (r.timings[k] ?? 0), 0) + (r.timings["load"] ?? 0);
  lines.push(`| load + tasks 1–6 | ${results.map((r) => f(t16(r))).join(" | ")} |`);
  lines.push(`| process wall | ${results.map((r) => f(r.wall)).join(" | ")} |`);
  lines.push(`| peak RSS MiB (process tree) | ${results.map((r) => f(r.peakRssMiB, 0)).join(" | ")} |`);
  lines.push(`| answers = pandas | ${results.map((r) => (r.rc !== 0 ? `exit ${r.rc}` : ref ? (compareAnswers(ref, r.answers).length === 0 ? "yes" : "NO") : "?")).join(" | ")} |`);
  const shoal = results.find((r) => r.engine === "shoal");
  const dask = results.find((r) => r.engine === "dask");
  const polars = results.find((r) => r.engine === "polars");
  if (shoal && dask) lines.push(`\nDask / Shoal: wall ${f(dask.wall / shoal.wall)}x, all eight tasks ${f((dask.wall - (dask.timings["cluster_start"] ?? 0)) / (shoal.wall - (shoal.timings["cluster_start"] ?? 0)))}x (excluding cluster start), peak memory ${f(dask.peakRssMiB / shoal.peakRssMiB)}x`);
  if (shoal && polars) lines.push(`Shoal / polars, load + tasks 1–6: ${f(t16(shoal) / t16(polars))}x`);
  const pandas = results.find((r) => r.engine === "pandas");
  if (shoal && pandas) lines.push(`pandas / Shoal wall: ${f(pandas.wall / shoal.wall)}x`);
  const text = lines.join("\n");
  process.stdout.write(text + "\n");
  for (const r of results) if (ref && r.answers && r.engine !== "pandas") for (const d of compareAnswers(ref, r.answers)) process.stdout.write(`  ${r.engine}: ${d}\n`);
  const outFile = arg("out");
  if (outFile) writeFileSync(outFile, JSON.stringify({ results: results.map(({ answers: _a, ...r }) => r), table: text }, null, 1));
}

await main();
