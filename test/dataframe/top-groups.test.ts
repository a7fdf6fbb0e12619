// The largest groups by count (top-groups.ts): the kernels on small frames,
// then the threshold plan on a real 2-worker local cluster against the same
// ranking computed from the whole group-by, on data made to defeat naive
// top-k merging (a group that is never in any partition's top, ties at the
// cut, missing values, fewer groups than asked for).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { Client, fromFrame, setDefaultClient, type DataFrame } from "../../src/index.ts";
import type { Frame } from "../../src/dataframe/engine.ts";
import { isCategorical } from "../../src/dataframe/schema.ts";
import { COUNT, countCandidates, countThreshold, groupCounts, rowsOfCandidates, topCounts } from "../../src/dataframe/top-groups.ts";

const recs = (f: Frame): Record<string, unknown>[] => f.toRecords().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])));

test("groupCounts: count skips missing values (NaN too) and missing keys; size counts rows; categorical keys come out as text", () => {
  const df = pl.DataFrame({ k: [1, 1, 2, 2, null, 3], v: [1.5, null, NaN, 2, 7, null] });
  const byKey = (f: Frame): Record<string, number> => Object.fromEntries(recs(f).map((r) => [String(r.k), r[COUNT] as number]));
  assert.deepEqual(byKey(groupCounts(df, "k", "v", "count")), { 1: 1, 2: 1 });
  assert.deepEqual(byKey(groupCounts(df, "k", "v", "size")), { 1: 2, 2: 2, 3: 1 });
  assert.deepEqual(byKey(groupCounts(df, "k", "k", "count")), { 1: 2, 2: 2, 3: 1 });
  const cat = pl.DataFrame({ t: ["x", "y", "x"] }).withColumns(pl.col("t").cast(pl.Categorical));
  const c = groupCounts(cat, "t", "t", "size");
  assert.equal(isCategorical(c.getColumn("t").dtype), false);
  assert.deepEqual(byKey(c.rename({ t: "k" })), { x: 2, y: 1 });
});

test("countThreshold sums the reported counts per group; 0 with fewer than k groups", () => {
  const a = pl.DataFrame({ k: [1, 2], [COUNT]: [5, 4] });
  const b = pl.DataFrame({ k: [2, 3], [COUNT]: [3, 6] });
  // sums: 1 → 5, 2 → 7, 3 → 6
  assert.equal(countThreshold([a, b], "k", 1), 7);
  assert.equal(countThreshold([a, b], "k", 3), 5);
  assert.equal(countThreshold([a, b], "k", 4), 0);
  assert.deepEqual(recs(topCounts(pl.DataFrame({ k: [9, 8, 7], [COUNT]: [2, 3, 3] }), "k", 2)), [{ k: 7, [COUNT]: 3 }, { k: 8, [COUNT]: 3 }]);
});

test("countCandidates keeps count · m ≥ τ; rowsOfCandidates keeps row order, and every row when τ is 0", () => {
  const counts = pl.DataFrame({ k: [1, 2, 3], [COUNT]: [2, 3, 4] });
  assert.deepEqual(recs(countCandidates(counts, "k", 9, 3)).map((r) => r.k), [2, 3]);
  const rows = pl.DataFrame({ k: [3, 1, 2, 3, 5], v: [1, 2, 3, 4, 5] });
  assert.deepEqual(recs(rowsOfCandidates(rows, "k", "int64", 9, [pl.DataFrame({ k: [3] }), pl.DataFrame({ k: [2, 3] })])).map((r) => r.v), [1, 3, 4]);
  assert.equal(rowsOfCandidates(rows, "k", "int64", 0, [pl.DataFrame({ k: [3] })]).height, 5);
});

let client: Client;
before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  setDefaultClient(client);
});
after(async () => {
  setDefaultClient(null);
  await client.close();
});

/**
 * 4 partitions. Key 100 has 3 rows in each (12 in all) and is in the top 9,
 * but ten keys of 4 rows push it out of every partition's top 13; keys 1–4
 * are heavy in one partition each; keys 50–53 tie with key 100 at 12; key 7
 * has only missing values of `v` (count 0, size 5); missing keys everywhere.
 */
function adversarial(): { frame: Frame; parts: number } {
  const k: (number | null)[] = [], v: (number | null)[] = [], s: number[] = [];
  const add = (key: number | null, n: number, value: number | null): void => { for (let i = 0; i < n; i++) { k.push(key); v.push(value); s.push(i % 7); } };
  const parts = 4;
  for (let p = 0; p < parts; p++) {
    add(p + 1, 20 - p, 1);           // heavy in its own partition only (20, 19, 18, 17)
    add(10 + p, 8, 2);               // second in its partition, 8 in all
    add(100, 3, 3);                  // 12 in all, never a partition's top 2
    add(50 + p, 12, 4);              // ties with key 100 at 12
    add(null, 4, 5);                 // missing key: dropped
    add(7, p === 0 ? 5 : 0, null);   // all-missing value: count 0, size 5
    add(200 + p, 1, p === 2 ? null : 6);
    for (let i = 0; i < 10; i++) add(1000 + 100 * p + i, 4, 8); // push key 100 out of every partition's top 13
  }
  return { frame: pl.DataFrame({ k, v, s }).withColumns(pl.col("k").cast(pl.Int64), pl.col("v").cast(pl.Float64), pl.col("s").cast(pl.Int64)), parts };
}

/** The same ranking from the whole group-by, computed here: count descending, key ascending. */
function reference(frame: Frame, agg: "count" | "size", n: number): Record<string, unknown>[] {
  const g = frame.filter(pl.col("k").isNotNull()).groupBy("k").agg(
    (agg === "count" ? pl.col("v").count() : pl.len()).cast(pl.Int64).alias("n"),
    pl.col("s").sum().alias("total"), pl.col("v").mean().alias("avg"));
  return recs(g.sort("k").sort("n", true, true, true).head(n).select("k", "n", "total", "avg"));
}

function finalTaskOf(d: DataFrame): string {
  const src = d.plans[0]!.source as { data?: { key?: string } };
  return String(src.data?.key ?? "");
}

test("nlargest by a count of a group-by on a persisted frame: the threshold plan gives the whole group-by's top rows", { timeout: 60_000 }, async () => {
  const { frame, parts } = adversarial();
  const df = await fromFrame(frame, { npartitions: parts }).persist(client);
  assert.equal(df.npartitions, parts);
  for (const agg of ["count", "size"] as const) {
    const grouped = df.groupBy("k").agg({ n: ["v", agg], total: ["s", "sum"], avg: ["v", "mean"] });
    for (const n of [1, 2, 3, 4, 5, 6, 9, 12, 100]) {
      const top = grouped.nlargest(n, "n", { tieBreak: ["k"] });
      assert.match(finalTaskOf(top), /^topGroupsFinal-/, "the threshold plan is used");
      const got = recs(await top.collect(client)).map((r) => ({ k: r.k, n: r.n, total: r.total, avg: r.avg }));
      assert.deepEqual(got, reference(frame, agg, n), `${agg}, n = ${n}`);
    }
  }
});

test("nlargest of a group-by keeps the plain plan where the threshold plan does not apply", { timeout: 60_000 }, async () => {
  const { frame } = adversarial();
  const df = await fromFrame(frame, { npartitions: 4 }).persist(client);
  const g = df.groupBy("k").agg({ n: ["v", "count"], total: ["s", "sum"] });
  assert.doesNotMatch(finalTaskOf(g.nlargest(3, "total", { tieBreak: ["k"] })), /^topGroups/, "a sum may be negative");
  assert.doesNotMatch(finalTaskOf(g.nlargest(3, "n")), /^topGroups/, "ties without the key are in partition order");
  assert.doesNotMatch(finalTaskOf(df.groupBy("k", { dropna: false }).agg({ n: ["v", "count"] }).nlargest(3, "n", { tieBreak: ["k"] })), /^topGroups/);
  assert.doesNotMatch(finalTaskOf(g.nsmallest(3, "n", { tieBreak: ["k"] })), /^topGroups/);
  // same answer either way
  const plain = recs(await g.nlargest(4, "total", { tieBreak: ["k"] }).collect(client));
  const all = recs((await g.collect(client)).sort("k").sort("total", true, true, true).head(4));
  assert.deepEqual(plain, all);
});

test("categorical text keys (a dictionary per partition) rank the same through the threshold plan", { timeout: 60_000 }, async () => {
  const tags = ["js", "py", "go", "rs", "c", "js", "py", "js", "go", "go", "go", "zig"];
  const frame = pl.DataFrame({ tag: [...tags, ...tags.slice(0, 5), ...tags.slice(3)], id: Array.from({ length: 12 + 5 + 9 }, (_, i) => i) });
  // each partition's categorical has its own dictionary
  const df = await fromFrame(frame.withColumns(pl.col("tag").cast(pl.Categorical)), { npartitions: 3 }).persist(client);
  const top = df.groupBy("tag").agg({ n: ["id", "count"] }).nlargest(3, "n", { tieBreak: ["tag"] });
  assert.match(finalTaskOf(top), /^topGroupsFinal-/);
  const ref = recs(frame.groupBy("tag").agg(pl.len().cast(pl.Int64).alias("n")).sort("tag").sort("n", true, true, true).head(3));
  assert.deepEqual(recs(await top.collect(client)), ref);
});
