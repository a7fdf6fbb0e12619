/**
 * The eight StackOverflow (StackLite) tasks of the seed assignment, on a
 * Shoal cluster: a local cluster by default, or the scheduler at
 * `SHOAL_SCHEDULER_ADDRESS`.
 *
 *     npm run demo -- [--data DIR] [--questions N] [--workers 4] [--threads 1]
 *                     [--blocksize BYTES] [--no-persist] [--json FILE]
 *
 * Generates the data first when DIR has no `questions*.csv` (default
 * ./data/stacklite, 1,000,000 questions). Tasks 7 and 8 kill half of the
 * workers for real (SIGKILL of local worker processes; on a remote cluster
 * the script asks you to stop them and waits until the scheduler has lost
 * them) and repeat tasks 5 and 6 on the survivors.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
// The compiled package (dist/, built by `npm ci` / `npm run build`), as a user's script
// imports it: its local cluster's workers then run JavaScript, not TypeScript through
// tsx (measured: ~20% faster and ~150 MiB less for the 5M job). `npm run demo` runs this
// script compiled too (dist/examples/), which starts ~0.2 s sooner than through tsx.
import { Client, compute, col, generateStacklite, isMain, readCsv, type DataFrame, type Frame } from "shoal";

/** Newest modification time under a folder (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

// the package root, from examples/ (through tsx) and from dist/examples/ (compiled) alike
const ROOT = dirname(createRequire(import.meta.url).resolve("shoal/package.json"));
if (existsSync(join(ROOT, "src")) && newest(join(ROOT, "src")) > statSync(join(ROOT, "dist", "index.js")).mtimeMs) {
  process.stderr.write("warning: src/ is newer than dist/ (this job runs the compiled package): run `npm run build`\n");
}

/** Command-line options. */
export interface JobOptions {
  data: string;
  questions: number;
  workers: number;
  threads: number;
  blocksize: number | null;
  persist: boolean;
  json: string | null;
  address: string | null;
  /** Seconds to wait for a remote cluster to lose half of its workers. */
  killWait: number;
  /** Bytes per local worker (spill past 60%, pause past 80% RSS, restart past 95%); null = the cluster default. */
  memoryLimit?: number | null;
  /** Write every task's group, worker, start and stop (ms) as JSON lines here (local cluster only). */
  trace?: string | null;
}

/** Answers in the issue's JSON shape. */
export type Answers = Record<string, unknown>;

/** A bad command-line argument. */
class ArgumentError extends Error {
  override name = "ArgumentError";
}

function parseArgs(argv: string[]): JobOptions {
  const o: JobOptions = {
    data: "./data/stacklite", questions: 1_000_000, workers: 4, threads: 1, blocksize: null, persist: true, json: null,
    address: process.env["SHOAL_SCHEDULER_ADDRESS"] || null, killWait: 300,
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(String(v).replaceAll("_", ""));
    if (v === undefined || !Number.isInteger(n) || n < min) throw new ArgumentError(`${flag} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string | undefined => argv[++i];
    switch (a) {
      case "--data": o.data = v() ?? o.data; break;
      case "--questions": o.questions = num(a, v(), 1); break;
      case "--workers": o.workers = num(a, v(), 1); break;
      case "--threads": o.threads = num(a, v(), 1); break;
      case "--blocksize": o.blocksize = num(a, v(), 1024); break;
      case "--no-persist": o.persist = false; break;
      case "--persist": o.persist = true; break;
      case "--json": o.json = v() ?? null; break;
      case "--address": o.address = v() ?? null; break;
      case "--kill-wait": o.killWait = num(a, v(), 1); break;
      case "--memory-limit": o.memoryLimit = num(a, v(), 0); break;
      case "--trace": o.trace = v() ?? null; break;
      case "-h": case "--help":
        process.stdout.write("usage: stackoverflow.ts [--data DIR] [--questions N] [--workers 4] [--threads 1] [--blocksize BYTES] [--no-persist] [--json FILE] [--address tcp://HOST:8786] [--memory-limit BYTES] [--trace FILE]\n");
        process.exit(0);
        break;
      default: throw new ArgumentError(`unknown argument '${a}' (try --help)`);
    }
  }
  return o;
}

const num = (x: unknown): number | null => {
  if (x === null || x === undefined) return null;
  const n = typeof x === "bigint" ? Number(x) : Number(x);
  return Number.isNaN(n) ? null : n;
};

function rows(f: Frame, fields: string[]): Record<string, unknown>[] {
  return f.toRecords().map((r) => Object.fromEntries(fields.map((k) => [k, typeof r[k] === "string" ? r[k] : num(r[k])])));
}

/** Task 5: owners grouped, top 5 by number of questions (ties: smaller OwnerUserId first). */
export async function task5(q: DataFrame, client: Client): Promise<unknown> {
  const owners = q.groupBy("OwnerUserId").agg({ AverageScore: ["Score", "mean"], NumQuestions: ["Id", "count"], NumAnswers: ["AnswerCount", "sum"] });
  const top = await owners.nlargest(5, "NumQuestions", { tieBreak: ["OwnerUserId"] }).collect(client);
  return { top: rows(top, ["OwnerUserId", "AverageScore", "NumQuestions", "NumAnswers"]) };
}

/** Task 6: questions ⋈ tags on Id, grouped by Tag; top 5 by questions and by answers. */
export async function task6(q: DataFrame, tags: DataFrame, client: Client): Promise<unknown> {
  const merged = q.select("Id", "Score", "AnswerCount", "OwnerUserId").merge(tags, { on: "Id", how: "inner" });
  // a few thousand tags: one output partition (each partition's partial aggregates meet in one task),
  // the shape of Dask's default `split_out=1`, instead of a hash shuffle into as many buckets as
  // partitions (StackLite 5M, three alternating runs: tasks 6 + 8 2.89–3.12 s → 2.15–2.51 s)
  const byTag = merged.groupBy("Tag", { splitOut: 1 }).agg({
    AverageScore: ["Score", "mean"], NumAnswers: ["AnswerCount", "sum"], NumQuestions: ["Id", "count"], NumOwners: ["OwnerUserId", "count"],
  });
  const [byQ, byA] = await compute([
    byTag.nlargest(5, "NumQuestions", { tieBreak: ["Tag"] }), byTag.nlargest(5, "NumAnswers", { tieBreak: ["Tag"] }),
  ], client);
  const fields = ["Tag", "AverageScore", "NumAnswers", "NumQuestions", "NumOwners"];
  return { top_by_questions: rows(byQ, fields), top_by_answers: rows(byA, fields) };
}

/** A remote cluster did not lose half of its workers within `--kill-wait` seconds: tasks 7 and 8 cannot run. */
export class WorkersNotStoppedError extends Error {
  override name = "WorkersNotStoppedError";
  constructor(readonly left: number, readonly expected: number, readonly waited: number) {
    super(`the cluster still has ${left} workers after ${waited} s (expected at most ${expected}): nobody stopped the workers this job asked to be stopped`);
  }
}

/** Kill half of the workers: SIGKILL for a local cluster; for a remote one, wait until half are gone. */
export async function killHalf(client: Client, opts: { killWait: number; log: (s: string) => void }): Promise<number> {
  const info = await client.schedulerInfo();
  const n = Object.keys(info.workers).length;
  const target = Math.max(1, n - Math.floor(n / 2));
  const cluster = client.localCluster;
  if (cluster) {
    const victims = cluster.workers.filter((w) => w.process.exitCode === null && w.process.signalCode === null).slice(-Math.floor(n / 2));
    for (const w of victims) {
      opts.log(`  killing worker ${w.name} (pid ${w.process.pid}) with SIGKILL`);
      w.process.kill("SIGKILL");
    }
  } else {
    opts.log(`  remote cluster with ${n} workers: stop ${n - target} of them now (Ctrl-C on their machine); waiting up to ${opts.killWait} s`);
  }
  const deadline = Date.now() + opts.killWait * 1000;
  for (;;) {
    const left = Object.keys((await client.schedulerInfo()).workers).length;
    if (left <= target) return left;
    if (Date.now() > deadline) throw new WorkersNotStoppedError(left, target, opts.killWait);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function hasData(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => /^questions.*\.csv$/.test(f)) && readdirSync(dir).some((f) => /^question_tags.*\.csv$/.test(f));
}

function autoBlocksize(dir: string, workers: number): number {
  // at least two partitions per worker on the larger table, at most 64 MiB each
  const sizes = readdirSync(dir).filter((f) => f.endsWith(".csv")).map((f) => statSync(join(dir, f)).size);
  const biggest = Math.max(1, ...sizes);
  return Math.max(1 << 20, Math.min(64 << 20, Math.ceil(biggest / (2 * workers))));
}

/** What each step answers, printed beside its result. */
const TITLES: Record<string, string> = {
  task1: "missing values, % of rows per column",
  task2: "Score: mean, standard deviation, median, min, max",
  task3: "the 5 most used tags",
  task4: "are there question_tags rows whose question is missing? (1 = yes)",
  task5: "the 5 users with the most questions (mean score, questions, answers)",
  task6: "questions joined with tags: the 5 tags with the most questions and the 5 with the most answers",
  kill: "half of the workers",
  task7: "task 5 again on the surviving workers (must equal task 5)",
  task8: "task 6 again on the surviving workers (must equal task 6)",
};

/** The job's result; `incomplete` names the tasks that did not run (and the process then exits non-zero). */
export interface JobResult {
  answers: Answers;
  timings_s: Record<string, number>;
  incomplete?: { tasks: string[]; reason: string };
}

/** Run the eight tasks; returns answers and timings (seconds). */
export async function runJob(o: JobOptions, log: (s: string) => void = (s) => process.stdout.write(s + "\n")): Promise<JobResult> {
  const dir = resolve(o.data);
  const t: Record<string, number> = {};
  const T0 = performance.now();
  let mark = T0;
  const lap = (name: string): number => { const now = performance.now(); t[name] = Number(((now - mark) / 1000).toFixed(4)); mark = now; return t[name]!; };
  if (!hasData(dir)) {
    log(`generating ${o.questions.toLocaleString("en-US")} questions into ${dir} ...`);
    mkdirSync(dir, { recursive: true });
    await generateStacklite({ out: dir, questions: o.questions, dangling: 3 });
    log(`generated in ${lap("generate").toFixed(2)} s`);
  }
  // glibc malloc in the workers. A fixed mmap threshold returns freed frame and shard buffers to
  // the OS at once (with the dynamic threshold, large buffers end up in arenas that keep the
  // pages): 400–700 MiB less peak RSS of the process tree at 5M questions, though ~15% slower,
  // as every large buffer is then fresh memory whose pages fault in one by one (a third of the
  // workers' CPU time was the kernel's). Transparent huge pages for those buffers
  // (glibc.malloc.hugetlb=1: madvise, one fault per 2 MiB) win back ~11% (three alternating
  // runs: 11.8–13.4 s against 13.6–14.4 s), same peak memory.
  const own = process.env["GLIBC_TUNABLES"] ?? "";
  const tunables = own.includes("glibc.malloc.hugetlb") ? own : [own, "glibc.malloc.hugetlb=1"].filter(Boolean).join(":");
  const env = { MALLOC_MMAP_THRESHOLD_: process.env["MALLOC_MMAP_THRESHOLD_"] ?? "131072", GLIBC_TUNABLES: tunables };
  const cluster = { nworkers: o.workers, nthreads: o.threads, env, ...(o.memoryLimit != null ? { memoryLimit: o.memoryLimit } : {}) };
  const client = await Client.connect(o.address ? { address: o.address } : { cluster });
  try {
    const events: string[] = [];
    if (o.trace && client.localCluster) {
      client.localCluster.scheduler.state.taskListeners.push((ev) => { events.push(JSON.stringify({ ...ev, phase: Object.keys(t).at(-1) ?? "" })); });
    }
    const nworkers = Object.keys((await client.schedulerInfo()).workers).length;
    log(`cluster: ${client.address} with ${nworkers} workers${client.localCluster ? ` (local, ${o.threads} thread(s) each)` : ""}`);
    const dashboard = client.dashboardLink ?? (await client.schedulerInfo()).services["dashboard"] ?? null;
    if (dashboard) log(`dashboard: ${dashboard}`);
    lap("cluster_start");
    const blocksize = o.blocksize ?? autoBlocksize(dir, nworkers);
    log(`loading questions*.csv and question_tags*.csv from ${dir} (blocks of ${(blocksize / 2 ** 20).toFixed(1)} MiB)${o.persist ? " into the workers' memory" : ""} ...`);
    let q = await readCsv(join(dir, "questions*.csv"), { naValues: ["NA"], blocksize });
    // Tag repeats a few thousand distinct values over millions of rows: store it as categorical (pandas "category")
    let tags = await readCsv(join(dir, "question_tags*.csv"), { naValues: ["NA"], blocksize, dtypes: { Tag: "category" } });
    log(`questions: ${q}\nquestion_tags: ${tags}`);
    if (o.persist) {
      // one table after the other: each table's partitions then spread evenly over the workers (every
      // later task on a table runs where its partitions are; persisted together, one worker can end up
      // with most of one table's partitions and the other with most of the other's)
      q = await q.persist(client);
      tags = await tags.persist(client);
    }
    log(`load${o.persist ? " (persist)" : " (lazy)"}: ${lap("load").toFixed(2)} s`);
    const a: Answers = {};
    const show = (task: string, what: string): void => { log(`${task} ${TITLES[task] ?? ""} (${lap(task).toFixed(2)} s): ${what}`); };

    const [qMiss, tMiss] = await compute([q.missingPercent(), tags.missingPercent()], client);
    a.task1 = { missing_pct: { questions: qMiss, question_tags: tMiss } };
    show("task1", `missing % questions ${JSON.stringify(qMiss)}; question_tags ${JSON.stringify(tMiss)}`);

    const [mean, std, median, min, max] = await compute([q.mean("Score"), q.std("Score"), q.median("Score"), q.min("Score"), q.max("Score")], client);
    a.task2 = { mean, std, median, min: num(min), max: num(max) };
    show("task2", JSON.stringify(a.task2));

    const vc = await tags.valueCounts("Tag", { n: 5 }).collect(client);
    a.task3 = { top: vc.toRecords().map((r) => ({ Tag: r["Tag"], NumQuestions: num(r["count"]) })) };
    show("task3", JSON.stringify(a.task3));

    const dangling = await tags.select("Id").merge(q.select("Id"), { on: "Id", how: "anti" }).len().compute(client);
    const task4 = { dangling: dangling > 0 ? 1 : 0 };
    a.task4 = task4;
    show("task4", `${task4.dangling} (${dangling} question_tags rows reference no question)`);

    a.task5 = await task5(q, client);
    show("task5", JSON.stringify(a.task5));
    a.task6 = await task6(q, tags, client);
    show("task6", JSON.stringify(a.task6));

    let left: number;
    try {
      left = await killHalf(client, { killWait: o.killWait, log });
    } catch (err) {
      if (!(err instanceof WorkersNotStoppedError)) throw err;
      const reason = `${err.message}; tasks 7 and 8 (tasks 5 and 6 after losing workers) were not run. Stop half of the workers within --kill-wait seconds (now ${o.killWait}) to run them.`;
      log(`NOT COMPLETE: ${reason}`);
      t.total = Number(((performance.now() - T0) / 1000).toFixed(4));
      return { answers: a, timings_s: t, incomplete: { tasks: ["task7", "task8"], reason } };
    }
    show("kill", `${left} workers left`);
    a.task7 = await task5(q, client);
    show("task7", JSON.stringify(a.task7));
    a.task8 = await task6(q, tags, client);
    show("task8", JSON.stringify(a.task8));
    const after = Object.keys((await client.schedulerInfo()).workers).length;
    log(`workers after task 8: ${after}; task7 = task5: ${JSON.stringify(a.task7) === JSON.stringify(a.task5)}; task8 = task6: ${JSON.stringify(a.task8) === JSON.stringify(a.task6)}`);
    t.total = Number(((performance.now() - T0) / 1000).toFixed(4));
    if (o.trace) writeFileSync(o.trace, events.join("\n") + "\n");
    return { answers: a, timings_s: t };
  } finally {
    await client.close();
  }
}

/** Entry point. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const o = parseArgs(argv);
  const res = await runJob(o);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(res, null, 1) + "\n");
    process.stdout.write(`wrote ${o.json}${res.incomplete ? " (incomplete: see its 'incomplete' field)" : ""}\n`);
  }
  process.stdout.write(`total ${res.timings_s["total"]!.toFixed(2)} s\n`);
  if (res.incomplete) process.exitCode = 2;
}

if (isMain(import.meta)) {
  try {
    await main();
  } catch (err) {
    // one line, not a stack, for what a user can act on (bad arguments, an unreachable cluster, a bad file)
    const e = err as Error & { code?: string };
    process.stderr.write(`stackoverflow: ${e.message}${e.code ? ` [${e.code}]` : ""}\n`);
    // an error without a stable code is unexpected: keep its stack for the bug report
    if (!e.code && !(err instanceof ArgumentError)) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  }
}
