/**
 * Where the time goes inside one partition: each kernel step of tasks 3–6
 * timed alone on one block of the StackLite CSVs (single polars thread, as
 * in a 2 x 1 local cluster).
 *
 *     POLARS_MAX_THREADS=1 node --import tsx bench/stacklite/kernel_profile.ts --data DIR [--parts 4]
 *
 * @module
 */
import { readFileSync } from "node:fs";
import pl from "nodejs-polars";
import { join } from "node:path";
import { readCsvPartition } from "../../src/dataframe/csv.ts";
import { fromIpc, toIpc } from "../../src/dataframe/ipc.ts";
import { groupByCombine, groupByFinalize, groupByPartial } from "../../src/dataframe/groupby.ts";
import { hashPartition } from "../../src/dataframe/shuffle.ts";

const arg = (n: string, d: string): string => { const i = process.argv.indexOf(`--${n}`); return i >= 0 ? process.argv[i + 1]! : d; };
const dir = arg("data", "/tmp/sl5m");
const parts = Number(arg("parts", "4"));

function block(file: string): Buffer {
  const all = readFileSync(file);
  let end = Math.floor(all.length / parts);
  while (all[end - 1] !== 0x0a) end++;
  return all.subarray(0, end);
}
function time<T>(name: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  process.stdout.write(`${name.padEnd(44)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms\n`);
  return r;
}
const qb = block(join(dir, "questions.csv"));
const tb = block(join(dir, "question_tags.csv"));
const q = time("parse questions block (validated)", () => readCsvPartition(qb, { file: "q", header: null, naValues: ["NA"] }));
const t = time("parse tags block (validated)", () => readCsvPartition(tb, { file: "t", header: null, naValues: ["NA"] }));
process.stdout.write(`questions ${q.height} rows, tags ${t.height} rows\n`);
const qi = time("questions toIpc lz4", () => toIpc(q, { compression: "lz4" }));
const ti = time("tags toIpc lz4", () => toIpc(t, { compression: "lz4" }));
process.stdout.write(`ipc: questions ${(qi.length / 2 ** 20).toFixed(0)} MiB, tags ${(ti.length / 2 ** 20).toFixed(0)} MiB\n`);
time("questions fromIpc lz4", () => fromIpc(qi));
time("tags fromIpc lz4", () => fromIpc(ti));
time("task3 valueCounts(Tag)", () => t.getColumn("Tag").valueCounts());
time("task3 groupBy(Tag).len()", () => t.groupBy("Tag").len());
const spec5 = { AverageScore: ["Score", "mean"], NumQuestions: ["Id", "count"], NumAnswers: ["AnswerCount", "sum"] } as const;
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
