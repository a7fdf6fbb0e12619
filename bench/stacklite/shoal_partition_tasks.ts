/**
 * The eight StackLite tasks computed the way the distributed engine will:
 * files split into line-aligned byte blocks, one frame per block, per-partition
 * kernels → partials → (hash shuffle) → combine → finalize. Single process,
 * no engine; it proves the map/combine design.
 *
 *     node --import tsx bench/stacklite/shoal_partition_tasks.ts --data DIR [--partitions K] [--blocksize BYTES] [--out FILE]
 *
 * K (default 4) is the shuffle fan-out; blocks are blocksize bytes (default:
 * each file split into K blocks).
 *
 * @module
 */
import { closeSync, openSync, readdirSync, readSync, fstatSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Frame } from "../../src/dataframe/engine.ts";
import { countNewlines, readCsvHeader, readCsvPartition } from "../../src/dataframe/csv.ts";
import { reconcileSchemas, schemaOf, castToSchema } from "../../src/dataframe/schema.ts";
import { reductions, missingPercent, topK, type Reduction } from "../../src/dataframe/reductions.ts";
import { groupByCombine, groupByFinalize, groupByPartial, type AggSpec } from "../../src/dataframe/groupby.ts";
import { concat, hashPartition } from "../../src/dataframe/shuffle.ts";
import { mergePartitions } from "../../src/dataframe/join.ts";

/** One line-aligned block of a file. */
export interface Block { file: string; start: number; end: number }

/** Dask-style blocks: block i holds the lines that start in [i·size, (i+1)·size). */
export function planBlocks(file: string, blocksize: number): Block[] {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const cuts = [0];
    const probe = Buffer.alloc(64 * 1024);
    for (let off = blocksize; off < size; off += blocksize) {
      // first line start at or after `off`: the byte after the first '\n' at position >= off - 1
      let pos = off - 1, found = -1;
      while (pos < size && found < 0) {
        const n = readSync(fd, probe, 0, probe.length, pos);
        const i = probe.subarray(0, n).indexOf(10);
        if (i >= 0) found = pos + i + 1; else pos += n;
        if (n === 0) break;
      }
      const cut = found < 0 ? size : found;
      if (cut > cuts[cuts.length - 1]! && cut < size) cuts.push(cut);
    }
    cuts.push(size);
    const blocks: Block[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) blocks.push({ file, start: cuts[i]!, end: cuts[i + 1]! });
    return blocks;
  } finally { closeSync(fd); }
}

function readBlock(b: Block): Buffer {
  const fd = openSync(b.file, "r");
  try {
    const buf = Buffer.allocUnsafe(b.end - b.start);
    let got = 0;
    while (got < buf.length) { const n = readSync(fd, buf, got, buf.length - got, b.start + got); if (n === 0) break; got += n; }
    return buf.subarray(0, got);
  } finally { closeSync(fd); }
}

/** Read a table (all files matching prefix*.csv) as partitions with one reconciled schema. */
export function loadTable(dir: string, prefix: string, blocksPerFile: number, blocksize?: number): Frame[] {
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith(".csv") && /^[-_0-9]*\.csv$/.test(f.slice(prefix.length))).sort().map((f) => join(dir, f));
  const parts: Frame[] = [];
  for (const file of files) {
    const fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    closeSync(fd);
    const blocks = planBlocks(file, blocksize ?? Math.max(1, Math.ceil(size / blocksPerFile)));
    let header: string[] | null = null;
    let line = 1;
    for (const b of blocks) {
      const bytes = readBlock(b);
      if (b.start === 0) header = readCsvHeader(bytes, { file }).columns;
      parts.push(readCsvPartition(bytes, { file, byteOffset: b.start, startLine: line, header, skipHeader: b.start === 0, naValues: ["NA"] }));
      line += countNewlines(bytes);
    }
  }
  const target = reconcileSchemas(parts.map(schemaOf));
  return parts.map((p) => castToSchema(p, target));
}

const run = <P, R>(r: Reduction<P, R>, parts: readonly Frame[]): R => r.finalize(r.combine(parts.map((p) => r.map(p))));

/** Shuffle: every input partition split by key hash, outputs gathered per bucket. */
function shuffle(parts: readonly Frame[], keys: string[], k: number): Frame[][] {
  const buckets: Frame[][] = Array.from({ length: k }, () => []);
  for (const p of parts) hashPartition(p, keys, k, { keyTypes: Object.fromEntries(keys.map((c) => [c, schemaOf(p)[c]!])) }).forEach((o, i) => buckets[i]!.push(o));
  return buckets;
}

function num(x: unknown): number | null {
  if (x === null || x === undefined) return null;
  const n = Number(x);
  return Number.isNaN(n) ? null : n;
}

function groupTop(parts: readonly Frame[], keys: string[], spec: AggSpec, k: number, tops: { by: string; key: string }[]): Frame[] {
  const partials = parts.map((p) => groupByPartial(p, keys, spec));
  const finals = shuffle(partials, keys, k).map((b) => groupByFinalize(groupByCombine(b, keys, spec), keys, spec, { sort: false }));
  return tops.map((t) => {
    const opts = { by: t.by, largest: true, tieBreak: [t.key] };
    return topK(concat(finals.map((f) => topK(f, 5, opts))), 5, opts);
  });
}

/** Answers in the JSON shape, plus per-phase timings. */
export function runPartitionTasks(dir: string, opts: { partitions?: number; blocksize?: number } = {}): { answers: Record<string, unknown>; timings_s: Record<string, number> } {
  const K = opts.partitions ?? 4;
  const t: Record<string, number> = {};
  const T0 = performance.now();
  let s = T0;
  const lap = (name: string): void => { const now = performance.now(); t[name] = (now - s) / 1000; s = now; };
  const q = loadTable(dir, "questions", K, opts.blocksize);
  const tags = loadTable(dir, "question_tags", K, opts.blocksize);
  lap("load");
  const a: Record<string, unknown> = {};
  a.task1 = { missing_pct: { questions: missingPercent(run(reductions.nullCounts(), q)), question_tags: missingPercent(run(reductions.nullCounts(), tags)) } };
  lap("task1");
  a.task2 = {
    mean: run(reductions.mean("Score"), q), std: run(reductions.std("Score"), q), median: run(reductions.median("Score"), q),
    min: num(run(reductions.min("Score"), q)), max: num(run(reductions.max("Score"), q)),
  };
  lap("task2");
  const vc = run(reductions.valueCounts("Tag", { n: 5 }), tags);
  a.task3 = { top: vc.toRecords().map((r) => ({ Tag: r.Tag, NumQuestions: num(r.count) })) };
  lap("task3");
  const qIds = q.map((p) => p.select("Id"));
  const tagIds = tags.map((p) => p.select("Id"));
  const qb = shuffle(qIds, ["Id"], K), tb = shuffle(tagIds, ["Id"], K);
  const dangling = tb.reduce((acc, b, i) => acc + mergePartitions(concat(b), concat(qb[i]!), { on: "Id", how: "anti" }).height, 0);
  a.task4 = { dangling: dangling > 0 ? 1 : 0 };
  lap("task4");
  const task5 = (): unknown => {
    const spec: AggSpec = { AverageScore: ["Score", "mean"], NumQuestions: ["Id", "count"], NumAnswers: ["AnswerCount", "sum"] };
    const [top] = groupTop(q, ["OwnerUserId"], spec, K, [{ by: "NumQuestions", key: "OwnerUserId" }]);
    return { top: top!.toRecords().map((r) => ({ OwnerUserId: num(r.OwnerUserId), AverageScore: num(r.AverageScore), NumQuestions: num(r.NumQuestions), NumAnswers: num(r.NumAnswers) })) };
  };
  const task6 = (): unknown => {
    const left = q.map((p) => p.select("Id", "Score", "AnswerCount", "OwnerUserId"));
    const lb = shuffle(left, ["Id"], K), rb = shuffle(tags, ["Id"], K);
    const merged = lb.map((b, i) => mergePartitions(concat(b), concat(rb[i]!), { on: "Id", how: "inner" }));
    const spec: AggSpec = { AverageScore: ["Score", "mean"], NumAnswers: ["AnswerCount", "sum"], NumQuestions: ["Id", "count"], NumOwners: ["OwnerUserId", "count"] };
    const [byQ, byA] = groupTop(merged, ["Tag"], spec, K, [{ by: "NumQuestions", key: "Tag" }, { by: "NumAnswers", key: "Tag" }]);
    const rows = (f: Frame): unknown[] => f.toRecords().map((r) => ({ Tag: r.Tag, AverageScore: num(r.AverageScore), NumAnswers: num(r.NumAnswers), NumQuestions: num(r.NumQuestions), NumOwners: num(r.NumOwners) }));
    return { top_by_questions: rows(byQ!), top_by_answers: rows(byA!) };
  };
  a.task5 = task5(); lap("task5");
  a.task6 = task6(); lap("task6");
  a.task7 = task5(); lap("task7");
  a.task8 = task6(); lap("task8");
  t.total = (performance.now() - T0) / 1000;
  return { answers: a, timings_s: t };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const data = arg("data");
  if (!data) { process.stderr.write("usage: shoal_partition_tasks.ts --data DIR [--partitions K] [--blocksize BYTES] [--out FILE]\n"); process.exit(2); }
  const res = runPartitionTasks(data, { partitions: Number(arg("partitions") ?? 4), blocksize: arg("blocksize") ? Number(arg("blocksize")) : undefined });
  const out = JSON.stringify(res, null, 1);
  const file = arg("out");
  if (file) writeFileSync(file, out); else process.stdout.write(out + "\n");
}
