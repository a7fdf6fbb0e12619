// First call of a user module's function on a fresh LocalCluster (issue 25,
// item 11): how long the first `client.map` of an exported function takes once
// the cluster's 2 workers are registered, the second map of it, and the first
// map of another function of the same module; with where the first call's
// time goes. Each measurement is a new program, run as a user runs one: under
// `npx tsx` (the module is TypeScript) and compiled (`node` on JavaScript that
// esbuild transpiled into bench/engine/dist/), each with a cold bundle cache (a
// new SHOAL_CODE_CACHE_DIR) and then a warm one (the same folder again).
//
//   npm run build && npx tsx bench/engine/first-call.ts [--rounds 3]
//
// Prints a table (medians, and every round's values) and the load averages.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Client, isMain } from "shoal";
import * as mod from "./first-call-module.ts";

interface Probe {
  threadStart: number;
  evaluatedAt: number;
  calledAt: number;
}

/** What one child program measures (ms; times of day are epoch ms). */
interface Sample {
  connect: number;
  locate: number;
  bundle: number;
  bundleHow: string;
  a1: number;
  a2: number;
  b1: number;
  /** First call, per task (the two workers): graph sent → task sent to the worker → module evaluated in the thread → function called → result at the scheduler. */
  tasks: { toScheduler: number; toWorker: number; importing: number; getCode: number; importOnly: number; call: number; toResult: number; threadAge: number }[];
}

const here = dirname(fileURLToPath(import.meta.url));

async function child(): Promise<void> {
  // internals of the same `shoal` instance, for the client-side split
  const dist = import.meta.resolve("shoal");
  const { locateFunction } = (await import(new URL("./code/locate.js", dist).href)) as { locateFunction: (f: unknown) => string | null };
  const ship = (await import(new URL("./code/ship.js", dist).href)) as { bundleModule: (p: string) => unknown; bundleStats?: { builds: number; diskHits: number }; prepareShipping?: () => Promise<void> };

  const stats = (): { builds: number; diskHits: number } => ({ ...(ship.bundleStats ?? { builds: 0, diskHits: 0 }) });
  const s0 = stats();
  let t = performance.now();
  const client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  const connect = performance.now() - t;

  t = performance.now();
  const url = locateFunction(mod.probe);
  const locate = performance.now() - t;
  const s1 = stats();
  t = performance.now();
  const { hash } = ship.bundleModule(fileURLToPath(url!)) as { hash: string };
  const bundle = performance.now() - t;
  const s2 = stats();
  const bundleHow = !ship.bundleStats ? "built" : s2.builds > s1.builds ? "built" : s2.diskHits > s1.diskHits ? "disk cache" : s1.builds > s0.builds ? "built during connect" : s1.diskHits > s0.diskHits ? "disk cache during connect" : "?";

  t = performance.now();
  const sentAt = performance.timeOrigin + t;
  const fs = client.map(mod.probe, [0, 1]);
  const probes = (await client.gather(fs)) as Probe[];
  const a1 = locate + bundle + (performance.now() - t);
  const story = await client.story(...fs);
  // when each worker had the bundle: the mtime of <local-directory>/code/<hash>.mjs
  const dir = client.localCluster!.directory;
  const written = readdirSync(dir).map((w) => join(dir, w, "code", `${hash}.mjs`)).filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs).sort((a, b) => a - b);
  const byArrival = fs.map((f, i) => ({ f, p: probes[i]! })).map(({ f, p }) => {
    const at = (to: string): number => 1000 * (story.find((e) => e[0] === f.key && e[2] === to)?.[4] ?? NaN);
    return { p, waiting: at("waiting"), processing: at("processing"), memory: at("memory") };
  }).sort((a, b) => a.processing - b.processing);
  const tasks = byArrival.map(({ p, waiting, processing, memory }, i) => {
    const file = written[i] ?? NaN; // paired by order: the worker that got its task first wrote first
    return {
      toScheduler: waiting - sentAt, toWorker: processing - waiting, importing: p.evaluatedAt - processing,
      getCode: file - processing, importOnly: p.evaluatedAt - file,
      call: p.calledAt - p.evaluatedAt, toResult: memory - p.calledAt, threadAge: processing - p.threadStart,
    };
  });

  t = performance.now();
  await client.gather(client.map(mod.probe, [0, 1]));
  const a2 = performance.now() - t;
  t = performance.now();
  const sums = await client.gather(client.map(mod.sumSquares, [10, 20]));
  const b1 = performance.now() - t;
  if (sums[0] !== 285) throw new Error(`sumSquares(10) gave ${sums[0]}`);
  await client.close();
  const out: Sample = { connect, locate, bundle, bundleHow, a1, a2, b1, tasks };
  console.log(JSON.stringify(out));
}

/** Transpiles the driver and the module to JavaScript (bench/engine/dist/, ignored by git), as a user's build would. */
async function compile(): Promise<string> {
  const { transformSync } = await import("esbuild");
  const out = join(here, "dist");
  mkdirSync(out, { recursive: true });
  for (const name of ["first-call", "first-call-module"]) {
    const ts = readFileSync(join(here, `${name}.ts`), "utf8").replace('"./first-call-module.ts"', '"./first-call-module.js"');
    const js = transformSync(ts, { loader: "ts", format: "esm", target: "node20" }).code;
    writeFileSync(join(out, `${name}.js`), js);
  }
  return join(out, "first-call.js");
}

function runChild(cmd: string, args: string[], cacheDir: string): Sample {
  const r = spawnSync(cmd, [...args, "--child"], { env: { ...process.env, SHOAL_CODE_CACHE_DIR: cacheDir }, encoding: "utf8", timeout: 120_000 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Sample;
  } catch {
    throw new Error(`${cmd} ${args.join(" ")} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : "?");

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" }, child: { type: "boolean", default: false } } });
  if (values.child) return child();
  const rounds = Number(values.rounds);
  const compiled = await compile();
  const variants = [
    { name: "npx tsx, cold cache", cmd: "npx", args: ["tsx", join(here, "first-call.ts")], warm: false },
    { name: "npx tsx, warm cache", cmd: "npx", args: ["tsx", join(here, "first-call.ts")], warm: true },
    { name: "node (compiled), cold cache", cmd: process.execPath, args: [compiled], warm: false },
    { name: "node (compiled), warm cache", cmd: process.execPath, args: [compiled], warm: true },
  ];
  const results = new Map<string, Sample[]>(variants.map((v) => [v.name, []]));
  const loads: string[] = [];
  const tmp = mkdtempSync(join(os.tmpdir(), "shoal-first-call-"));
  try {
    for (let r = 0; r < rounds; r++) {
      let cacheDir = "";
      for (const v of variants) {
        if (!v.warm) cacheDir = mkdtempSync(join(tmp, "cache-"));
        loads.push(os.loadavg().map((x) => x.toFixed(2)).join(" "));
        results.get(v.name)!.push(runChild(v.cmd, v.args, cacheDir));
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const row = (label: string, pick: (s: Sample) => number): string =>
    `| ${label} | ${variants.map((v) => { const xs = results.get(v.name)!.map(pick); return `${ms(median(xs))} (${xs.map(ms).join(", ")})`; }).join(" | ")} |`;
  const task = (pick: (t: Sample["tasks"][number]) => number) => (s: Sample): number => Math.max(...s.tasks.map(pick));
  console.log(`first call of a user module's function, 2 workers x 1 thread, ${rounds} rounds; ms, median (each round)\n`);
  console.log(`| | ${variants.map((v) => v.name).join(" | ")} |`);
  console.log(`|---|${variants.map(() => "---:").join("|")}|`);
  console.log(row("Client.connect (2 workers registered)", (s) => s.connect));
  console.log(row("**first map of fn A**", (s) => s.a1));
  console.log(row("second map of A", (s) => s.a2));
  console.log(row("first map of fn B, same module", (s) => s.b1));
  console.log(row("connect + first map", (s) => s.connect + s.a1));
  console.log(row("A1: client locate (inspector)", (s) => s.locate));
  console.log(row("A1: client bundle", (s) => s.bundle));
  console.log(row("A1: graph sent → at scheduler", task((t) => t.toScheduler)));
  console.log(row("A1: scheduler → sent to worker", task((t) => t.toWorker)));
  console.log(row("A1: at worker → module evaluated (get-code, import)", task((t) => t.importing)));
  console.log(row("A1: … of which get-code (bundle file written)", task((t) => t.getCode)));
  console.log(row("A1: … of which the thread's import", task((t) => t.importOnly)));
  console.log(row("A1: evaluated → called", task((t) => t.call)));
  console.log(row("A1: called → result at scheduler", task((t) => t.toResult)));
  console.log(row("A1: thread age when the task arrived", task((t) => t.threadAge)));
  console.log(`\nbundle: ${variants.map((v) => `${v.name}: ${results.get(v.name)!.map((s) => s.bundleHow).join(", ")}`).join("; ")}`);
  console.log(`load averages before each run: ${loads.join(" | ")}; after: ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}; ${os.availableParallelism()} cores`);
}

if (isMain(import.meta)) await main();
