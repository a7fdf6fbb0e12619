/**
 * Where the time goes inside one partition: each kernel step of tasks 3–6
 * timed alone on one block of the StackLite CSVs (single polars thread, as
 * in a 2 x 1 local cluster).
 *
 *     POLARS_MAX_THREADS=1 node --expose-gc --import tsx bench/stacklite/kernel_profile.ts --data DIR [--parts 4] [--reps 3] [--sweep [--sweep-g 0.1,0.5,1]] [--groupby-only]
 *
 * The last section runs the whole distributed group-by of task 5 (every
 * block through `groupBySplit`, every bucket through `groupByBucket`, one
 * after the other) with partial shards, raw-row shards and the adaptive
 * choice; `--sweep` does the same on synthetic keys of chosen groups per row
 * (the measurement behind `ROWS_ABOVE` in src/dataframe/groupby.ts).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import pl from "nodejs-polars";
import { join } from "node:path";
import { readCsvPartition } from "../../src/dataframe/csv.ts";
import { fromIpc, toIpc, travelForm } from "../../src/dataframe/ipc.ts";
import { estimateGroupRatio, groupByCombine, groupByFinalize, groupByPartial, type AggSpec } from "../../src/dataframe/groupby.ts";
import { groupByBucket, groupBySplit, type GroupByShardKind } from "../../src/dataframe/frame-tasks.ts";
import { rememberDecoded } from "../../src/dataframe/ipc.ts";
import { schemaOf } from "../../src/dataframe/schema.ts";
import { hashPartition } from "../../src/dataframe/shuffle.ts";

const arg = (n: string, d: string): string => { const i = process.argv.indexOf(`--${n}`); return i >= 0 ? process.argv[i + 1]! : d; };
const dir = arg("data", "/tmp/sl5m");
const parts = Number(arg("parts", "4"));
const reps = Number(arg("reps", "3"));

function blocks(file: string): Buffer[] {
  const all = readFileSync(file);
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 1; i <= parts; i++) {
    let end = i === parts ? all.length : Math.floor((all.length * i) / parts);
    while (end < all.length && all[end - 1] !== 0x0a) end++;
    out.push(all.subarray(start, end));
    start = end;
  }
  return out;
}
const block = (file: string): Buffer => blocks(file)[0]!;
function time<T>(name: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  process.stdout.write(`${name.padEnd(44)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms\n`);
  return r;
}
const q = time("parse questions block (validated)", () => readCsvPartition(block(join(dir, "questions.csv")), { file: "q", header: null, naValues: ["NA"] }));
const spec5 = { AverageScore: ["Score", "mean"], NumQuestions: ["Id", "count"], NumAnswers: ["AnswerCount", "sum"] } as const;
if (!process.argv.includes("--groupby-only")) {
  const tb = block(join(dir, "question_tags.csv"));
  const t = time("parse tags block (validated)", () => readCsvPartition(tb, { file: "t", header: null, naValues: ["NA"] }));
  process.stdout.write(`questions ${q.height} rows, tags ${t.height} rows\n`);
  const qi = time("questions toIpc lz4", () => toIpc(q, { compression: "lz4" }));
  const ti = time("tags toIpc lz4", () => toIpc(t, { compression: "lz4" }));
  process.stdout.write(`ipc: questions ${(qi.length / 2 ** 20).toFixed(0)} MiB, tags ${(ti.length / 2 ** 20).toFixed(0)} MiB\n`);
  time("questions fromIpc lz4", () => fromIpc(qi));
  time("tags fromIpc lz4", () => fromIpc(ti));
  time("task3 valueCounts(Tag)", () => t.getColumn("Tag").valueCounts());
  time("task3 groupBy(Tag).len()", () => t.groupBy("Tag").len());
  const p5 = time("task5 groupByPartial(OwnerUserId)", () => groupByPartial(q, ["OwnerUserId"], spec5));
  process.stdout.write(`  partial rows ${p5.height}\n`);
  const h5 = time("task5 hashPartition(partial, 4)", () => hashPartition(p5, ["OwnerUserId"], 4, { keyTypes: { OwnerUserId: "float64" } }));
  time("task5 shards toIpc lz4", () => h5.map((b) => toIpc(b, { compression: "lz4" })));
  const c5 = time("task5 combine 1 shard", () => groupByCombine([h5[0]!], ["OwnerUserId"], spec5));
  time("task5 finalize+sort 1 shard", () => groupByFinalize(c5, ["OwnerUserId"], spec5));
  const hq = time("task4/6 hashPartition(questions, 4)", () => hashPartition(q.select("Id", "Score", "AnswerCount", "OwnerUserId"), ["Id"], 4, { keyTypes: { Id: "float64" } }));
  const ht = time("task4/6 hashPartition(tags, 4)", () => hashPartition(t, ["Id"], 4, { keyTypes: { Id: "float64" } }));
  time("task4/6 shards toIpc lz4", () => [...hq, ...ht].map((b) => toIpc(b, { compression: "lz4" })));
  const m = time("task6 join shard 0", () => hq[0]!.join(ht[0]!, { on: "Id", how: "inner" }));
  const spec6 = { AverageScore: ["Score", "mean"], NumAnswers: ["AnswerCount", "sum"], NumQuestions: ["Id", "count"], NumOwners: ["OwnerUserId", "count"] } as const;
  time("task6 groupByPartial(Tag) shard 0", () => groupByPartial(m, ["Tag"], spec6));
  time("task4 anti join shard 0", () => ht[0]!.select("Id").join(hq[0]!.select("Id"), { on: "Id", how: "anti" }));
  const qd = fromIpc(qi);
  process.stdout.write(`chunks: parsed ${q.getColumn("Id").chunkLengths?.().length ?? "?"}, ipc-decoded ${qd.getColumn("Id").chunkLengths?.().length ?? "?"}\n`);
  time("task5 groupByPartial on IPC-decoded frame", () => groupByPartial(qd, ["OwnerUserId"], spec5));
  time("task5 groupByPartial on rechunked frame", () => groupByPartial(qd.rechunk(), ["OwnerUserId"], spec5));
  time("again: groupByPartial parsed", () => groupByPartial(q, ["OwnerUserId"], spec5));
  time("again: groupByPartial decoded", () => groupByPartial(qd, ["OwnerUserId"], spec5));
  const own = qd.select("OwnerUserId", "Score", "Id", "AnswerCount");
  time("groupByPartial decoded, 4 columns", () => groupByPartial(own, ["OwnerUserId"], spec5));
  time("plain polars groupBy decoded", () => qd.groupBy("OwnerUserId").agg(pl.col("Score").sum().alias("a"), pl.col("Score").count().alias("b"), pl.col("Id").count().alias("c"), pl.col("AnswerCount").sum().alias("d")));
  time("plain polars groupBy parsed", () => q.groupBy("OwnerUserId").agg(pl.col("Score").sum().alias("a"), pl.col("Score").count().alias("b"), pl.col("Id").count().alias("c"), pl.col("AnswerCount").sum().alias("d")));
  time("plain polars groupBy decoded len only", () => qd.groupBy("OwnerUserId").len());
}

// ---- distributed group-by: partial shards vs raw-row shards vs adaptive ----

const gcNow = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
/** Collect garbage and let the event loop turn: polars frees a frame's memory in a finalizer that runs in a later task. */
async function gc(): Promise<void> {
  gcNow();
  await new Promise((r) => setTimeout(r, 5));
  gcNow();
}
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/**
 * Every partition through groupBySplit, then every bucket through
 * groupByBucket, one after the other: the total work of the group-by,
 * as process CPU time (steadier than wall time on a shared machine) and wall time.
 */
async function groupByRun(frames: pl.DataFrame[], keys: string[], spec: AggSpec, kind: GroupByShardKind) {
  const opts = { dropna: true, sort: true };
  const keyTypes = Object.fromEntries(keys.map((k) => [k, "float64" as const]));
  const plans = frames.map((f) => {
    const data = toIpc(f);
    rememberDecoded(data, f); // as for a persisted partition: no decode in the split
    return { source: { kind: "ipc" as const, data, schema: schemaOf(f) }, ops: [] };
  });
  await gc();
  let c0 = cpuMs(), t0 = performance.now();
  const splits: Buffer[][] = [];
  // every shard as it travels to another worker (Arrow IPC; shards picked on their own worker stay frames)
  for (const p of plans) splits.push(travelForm(await groupBySplit(p, keys, spec, opts, frames.length, keyTypes, kind)));
  const split = cpuMs() - c0, splitWall = performance.now() - t0;
  c0 = cpuMs(); t0 = performance.now();
  let groups = 0;
  for (let j = 0; j < frames.length; j++) groups += fromIpc(travelForm(groupByBucket(splits.map((s) => s[j]!), keys, spec, opts))).height;
  const bucket = cpuMs() - c0, wall = splitWall + performance.now() - t0;
  const mib = splits.flat().reduce((a, b) => a + b.length, 0) / 2 ** 20;
  return { split, bucket, wall, mib, groups };
}

async function compareKinds(label: string, frames: pl.DataFrame[], keys: string[], spec: AggSpec): Promise<void> {
  const ratios = frames.map((f) => {
    const t0 = performance.now();
    const r = estimateGroupRatio(f, keys, {}, 0);
    return `${r.toFixed(3)} (${(performance.now() - t0).toFixed(0)} ms)`;
  });
  const exact = frames.map((f) => (f.select(...keys).unique().height / f.height).toFixed(3));
  process.stdout.write(`${label}\n  groups/row exact ${exact.join(" ")}; estimated (both steps) ${ratios.join(" ")}\n`);
  for (const kind of ["partial", "rows", "auto"] as const) {
    const runs: Awaited<ReturnType<typeof groupByRun>>[] = [];
    for (let r = 0; r < reps; r++) runs.push(await groupByRun(frames, keys, spec, kind));
    const best = (f: (x: (typeof runs)[number]) => number): string => Math.min(...runs.map(f)).toFixed(0).padStart(5);
    process.stdout.write(`  ${kind.padEnd(8)} cpu ms: split ${best((x) => x.split)} bucket ${best((x) => x.bucket)} total ${best((x) => x.split + x.bucket)}` +
      ` (${runs.map((x) => (x.split + x.bucket).toFixed(0)).join(" ")}); wall ${best((x) => x.wall)}; shards ${runs[0]!.mib.toFixed(1)} MiB, ${runs[0]!.groups} groups\n`);
  }
}

const qs = blocks(join(dir, "questions.csv")).map((b, i) => (i === 0 ? q : readCsvPartition(b, { file: "q", header: q.columns, naValues: ["NA"] })));
await compareKinds(`task5 groupBy(OwnerUserId), ${parts} blocks into ${parts} buckets, min of ${reps}`, qs, ["OwnerUserId"], spec5);

if (process.argv.includes("--sweep")) {
  // synthetic: n rows per partition, keys drawn uniformly from g distinct values shared by all partitions
  const n = q.height;
  let seed = 12345;
  const rnd = (): number => { // mulberry32
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (const gPerRow of (arg("sweep-g", "0.1,0.2,0.3,0.4,0.5,0.7,1,3")).split(",").map(Number)) {
    const g = Math.max(1, Math.round(gPerRow * n));
    const frames = Array.from({ length: parts }, (_, p) => {
      const key = new Float64Array(n), a = new Float64Array(n), b = new Float64Array(n);
      for (let i = 0; i < n; i++) { key[i] = Math.floor(rnd() * g); a[i] = Math.floor(rnd() * 100); b[i] = p * n + i; }
      return pl.DataFrame([pl.Series("OwnerUserId", key), pl.Series("Score", a), pl.Series("Id", b), pl.Series("AnswerCount", a)]);
    });
    await compareKinds(`synthetic keys, ${g} values for ${n} rows per partition`, frames, ["OwnerUserId"], spec5);
    frames.length = 0;
    await gc();
  }
}
