// Every DataFrame operation on small frames through a real 2-worker local
// cluster, with nulls and empty partitions.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { Client, col, compute, fromFrame, fromRecords, lit, readCsv, readJsonLines, readParquet, setDefaultClient, when, type DataFrame } from "../../src/index.ts";
import type { Frame } from "../../src/dataframe/engine.ts";

let client: Client;
let dir: string;

before(async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1 } });
  setDefaultClient(client);
  dir = mkdtempSync(join(tmpdir(), "shoal-df-"));
});
after(async () => {
  setDefaultClient(null);
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

const people = [
  { id: 1, name: "ann", dept: "a", score: 10, bonus: 1.5, date: "2020-01-05T10:00:00Z" },
  { id: 2, name: "bob", dept: "b", score: null, bonus: 2.5, date: "2021-02-06T11:30:00Z" },
  { id: 3, name: "cid", dept: "a", score: 30, bonus: null, date: "2022-03-07T12:00:00Z" },
  { id: 4, name: "dan", dept: null, score: 40, bonus: 4.0, date: "2023-04-08T13:00:00Z" },
  { id: 5, name: "eve", dept: "b", score: -5, bonus: 0.5, date: "2024-05-09T14:00:00Z" },
];
/** 7 partitions for 5 rows: two are empty. */
const df = (): DataFrame => fromRecords(people, { npartitions: 7 });
const recs = (f: Frame): Record<string, unknown>[] => f.toRecords().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])));
const sortedBy = (f: Frame, c: string): Record<string, unknown>[] => recs(f.sort(c));

test("schema, npartitions, collect keeps every row (empty partitions included)", async () => {
  const d = df();
  assert.equal(d.npartitions, 7);
  assert.deepEqual(d.schema, { id: "int64", name: "utf8", dept: "utf8", score: "int64", bonus: "float64", date: "utf8" });
  const f = await d.collect();
  assert.equal(f.height, 5);
  assert.deepEqual(sortedBy(f, "id").map((r) => r.id), [1, 2, 3, 4, 5]);
  assert.equal(await d.len().compute(), 5);
});

test("filter, withColumns, select, drop, rename, dropNulls with expressions", async () => {
  const d = df()
    .filter(col("score").gt(0).and(col("dept").notNull()))
    .withColumns(col("score").mul(2).add(1).alias("s2"), col("bonus").fillNull(0).alias("b0"), col("score").div(4).alias("q"))
    .select("id", "s2", "b0", "q", col("name").str.upper().alias("NAME"))
    .rename({ NAME: "upper" })
    .drop("q");
  assert.deepEqual(d.columns, ["id", "s2", "b0", "upper"]);
  assert.deepEqual(sortedBy(await d.collect(), "id"), [
    { id: 1, s2: 21, b0: 1.5, upper: "ANN" },
    { id: 3, s2: 61, b0: 0, upper: "CID" },
  ]);
  const nn = await df().dropNulls(["score", "bonus"]).collect();
  assert.deepEqual(sortedBy(nn, "id").map((r) => r.id), [1, 4, 5]);
});

test("expressions: comparison, boolean, null tests, isIn, when, string and date parts", async () => {
  const f = await df().select(
    "id",
    col("score").isNull().alias("missing"),
    col("score").gte(30).or(col("id").eq(1)).not().alias("neither"),
    col("dept").isIn(["a"]).alias("inA"),
    when(col("bonus").lt(2)).then(lit("low")).otherwise(lit("high")).alias("band"),
    col("name").str.startsWith("d").alias("d"),
    col("name").str.len().alias("len"),
    col("name").str.slice(1, 1).alias("mid"),
    col("name").str.contains("v").alias("hasV"),
    col("date").dt.year().alias("year"),
    col("date").dt.month().alias("month"),
    col("score").sub(col("id")).abs().alias("gap"),
  ).collect();
  const r = sortedBy(f, "id");
  assert.deepEqual(r.map((x) => x.missing), [false, true, false, false, false]);
  assert.deepEqual(r.map((x) => x.neither), [false, null, false, false, true]);
  assert.deepEqual(r.map((x) => x.inA), [true, false, true, false, false]);
  assert.deepEqual(r.map((x) => x.band), ["low", "high", "high", "high", "low"]);
  assert.deepEqual(r.map((x) => x.d), [false, false, false, true, false]);
  assert.deepEqual(r.map((x) => x.len), [3, 3, 3, 3, 3]);
  assert.deepEqual(r.map((x) => x.mid), ["n", "o", "i", "a", "v"]);
  assert.deepEqual(r.map((x) => x.hasV), [false, false, false, false, true]);
  assert.deepEqual(r.map((x) => x.year), [2020, 2021, 2022, 2023, 2024]);
  assert.deepEqual(r.map((x) => x.month), [1, 2, 3, 4, 5]);
  assert.deepEqual(r.map((x) => x.gap), [9, null, 27, 36, 10]);
});

test("reductions: count, sum, mean, std, var, median, quantile, min, max, nunique, nulls, describe (one pass)", async () => {
  const d = df();
  const [len, count, sum, mean, std, variance, median, q, qs, min, max, nunique, nulls, pct, desc, minName] = await compute([
    d.len(), d.count("score"), d.sum("score"), d.mean("score"), d.std("score"), d.var("score"), d.median("score"),
    d.quantile("score", 0.25), d.quantile("bonus", [0, 0.5, 1]), d.min("score"), d.max("score"), d.nunique("dept"),
    d.nullCount(), d.missingPercent(), d.describe(), d.min("name"),
  ]);
  // score: 10, 30, 40, -5 (one null)
  assert.equal(len, 5);
  assert.equal(count, 4);
  assert.equal(sum, 75);
  assert.equal(mean, 18.75);
  const m = 18.75, v = ((10 - m) ** 2 + (30 - m) ** 2 + (40 - m) ** 2 + (-5 - m) ** 2) / 3;
  assert.ok(Math.abs(variance - v) < 1e-12 * v);
  assert.ok(Math.abs(std - Math.sqrt(v)) < 1e-12 * Math.sqrt(v));
  assert.equal(median, 20);
  assert.equal(q, 6.25); // numpy linear: -5 + (10 - -5) * 0.75
  assert.deepEqual(qs, [0.5, 2, 4]);
  assert.equal(min, -5);
  assert.equal(max, 40);
  assert.equal(nunique, 2);
  assert.deepEqual(nulls, { id: 0, name: 0, dept: 1, score: 1, bonus: 1, date: 0 });
  assert.equal(pct.dept, 20);
  assert.equal(desc.score!.count, 4);
  assert.equal(desc.score!["50%"], 20);
  assert.equal(desc.bonus!.max, 4);
  assert.equal(minName, "ann");
  assert.ok(Number.isNaN(await d.filter(col("id").gt(100)).mean("score").compute()));
  assert.equal(await d.filter(col("id").gt(100)).sum("score").compute(), 0);
});

test("valueCounts, nlargest, nsmallest with tie-breaks", async () => {
  const vc = await df().valueCounts("dept").collect();
  assert.deepEqual(recs(vc), [{ dept: "a", count: 2 }, { dept: "b", count: 2 }]);
  const withNa = await df().valueCounts("dept", { dropna: false }).collect();
  assert.equal(withNa.height, 3);
  const top = await df().nlargest(2, "score").collect();
  assert.deepEqual(recs(top).map((r) => r.id), [4, 3]);
  const low = await df().nsmallest(3, "bonus", { tieBreak: ["id"] }).collect();
  assert.deepEqual(recs(low).map((r) => r.id), [5, 1, 2]);
  const ties = fromRecords([{ k: "x", v: 1 }, { k: "b", v: 2 }, { k: "a", v: 2 }, { k: "c", v: 2 }], { npartitions: 3 });
  assert.deepEqual(recs(await ties.nlargest(2, "v", { tieBreak: ["k"] }).collect()).map((r) => r.k), ["a", "b"]);
});

test("groupBy().agg: null keys dropped (or kept), all aggregations, one or several output partitions", async () => {
  const spec = {
    n: ["id", "count"], s: ["score", "sum"], m: ["score", "mean"], lo: ["score", "min"], hi: ["score", "max"],
    rows: ["id", "size"], u: ["name", "nunique"], sd: ["score", "std"],
  } as const;
  for (const splitOut of [1, 3]) {
    const g = await df().groupBy("dept", { splitOut }).agg(spec).collect();
    const r = sortedBy(g, "dept");
    assert.deepEqual(r.map((x) => x.dept), ["a", "b"], `splitOut ${splitOut}`);
    assert.deepEqual(r.map((x) => x.n), [2, 2]);
    assert.deepEqual(r.map((x) => x.s), [40, -5]);
    assert.deepEqual(r.map((x) => x.m), [20, -5]);
    assert.deepEqual(r.map((x) => x.lo), [10, -5]);
    assert.deepEqual(r.map((x) => x.hi), [30, -5]);
    assert.deepEqual(r.map((x) => x.rows), [2, 2]);
    assert.deepEqual(r.map((x) => x.u), [2, 2]);
    assert.ok(Math.abs((r[0]!.sd as number) - Math.sqrt(200)) < 1e-9);
    assert.equal(r[1]!.sd, null);
  }
  const kept = await df().groupBy(["dept"], { dropna: false, splitOut: 2 }).agg({ n: ["id", "count"] }).collect();
  assert.equal(kept.height, 3);
  const single = await df().groupBy("dept", { splitOut: 1 }).agg({ n: ["id", "count"] }).collect();
  assert.deepEqual(recs(single).map((r) => r.dept), ["a", "b"], "one output partition is sorted by key");
});

test("merge: inner, left, outer, anti by hash shuffle and by broadcast (null keys match, as pandas)", async () => {
  const left = df();
  const right = fromRecords([
    { dept: "a", floor: 1 }, { dept: "b", floor: 2 }, { dept: "z", floor: 9 }, { dept: null, floor: 0 },
  ], { npartitions: 2 });
  const norm = (f: Frame): string[] => recs(f).map((r) => `${r.id ?? "-"}:${r.dept ?? "null"}:${r.floor ?? "-"}`).sort();
  for (const broadcast of [false, true] as const) {
    const inner = await left.merge(right, { on: "dept", how: "inner", broadcast }).collect();
    assert.deepEqual(norm(inner), ["1:a:1", "2:b:2", "3:a:1", "4:null:0", "5:b:2"], `inner broadcast=${broadcast}`);
    const lj = await left.filter(col("id").lt(3)).merge(right, { on: "dept", how: "left", broadcast }).collect();
    assert.deepEqual(norm(lj), ["1:a:1", "2:b:2"]);
    const anti = await right.merge(left, { on: "dept", how: "anti", broadcast }).collect();
    assert.deepEqual(recs(anti).map((r) => r.dept), ["z"]);
  }
  const outer = await left.filter(col("id").lte(2)).merge(right, { on: "dept", how: "outer", npartitions: 3 }).collect();
  assert.deepEqual(norm(outer), ["-:null:0", "-:z:9", "1:a:1", "2:b:2"]);
  const sfx = await left.merge(fromRecords([{ id: 1, name: "x" }]), { on: "id" }).collect();
  assert.deepEqual(sfx.columns.filter((c) => c.startsWith("name")), ["name_x", "name_y"]);
});

test("merge of persisted frames with aligned key ranges skips the shuffle and equals the shuffled merge", async () => {
  // two tables ordered by key, partitioned differently, with missing keys, an empty partition and dangling rows
  const qs = Array.from({ length: 60 }, (_, i) => ({ Id: i < 58 ? i * 2 : null, Score: i % 7, Owner: i % 5 === 0 ? null : i % 9 }));
  const tags = Array.from({ length: 150 }, (_, i) => ({ Id: i === 149 ? null : Math.floor(i / 1.2), Tag: `t${i % 11}` }));
  const q = await fromRecords(qs, { npartitions: 4 }).persist();
  // a filter before persist: ranges are measured on what is kept
  const t = await fromRecords(tags, { npartitions: 6 }).filter(col("Tag").neq("t3")).persist();
  assert.ok(q.ranges && t.ranges, "persisted frames know their key ranges");
  const norm = (f: Frame): string[] => recs(f).map((x) => JSON.stringify(Object.keys(x).sort().map((k) => [k, x[k]]))).sort();
  for (const how of ["inner", "left", "anti"] as const) {
    for (const [a, b] of [[q.select("Id", "Score", "Owner"), t], [t, q]] as const) {
      const aligned = a.merge(b, { on: "Id", how });
      const kinds = aligned.plans.map((p) => (p.source.kind === "merge" ? [p.source.left.source.kind, p.source.right.source.kind] : []));
      assert.ok(kinds.every((k) => k.includes("union") || k.includes("empty")), `${how}: range plan expected, got ${JSON.stringify(kinds)}`);
      // partners reaching past a driving partition's key range are cut where they live (a task of their own, ending in a filter)
      const parts = aligned.plans.flatMap((p) => (p.source.kind === "merge" ? [p.source.left, p.source.right] : []))
        .flatMap((side) => (side.source.kind === "union" ? side.source.parts : []));
      const cut = parts.filter((part) => {
        const data = part.source.kind === "ipc" ? (part.source.data as { task?: { args?: { ops?: { op: string }[] }[] } }) : undefined;
        return data?.task?.args?.[0]?.ops?.at(-1)?.op === "filter";
      });
      assert.ok(cut.length > 0, `${how}: partners cut at the source (${cut.length} of ${parts.length})`);
      const shuffled = await a.merge(b, { on: "Id", how, npartitions: 3 }).collect();
      assert.deepEqual(norm(await aligned.collect()), norm(shuffled), `${how} ${a === t ? "tags-first" : "questions-first"}`);
    }
  }
  // expected row count, computed here with polars (missing keys match missing keys, as pandas)
  const tk = pl.DataFrame(tags).filter(pl.col("Tag").neq(pl.lit("t3")));
  const expected = pl.DataFrame(qs).withColumns(pl.col("Id").fillNull(-1)).join(tk.withColumns(pl.col("Id").fillNull(-1)), { on: "Id" }).height;
  assert.equal(await q.merge(t, { on: "Id", how: "inner" }).len().compute(), expected);
  // interleaved keys: no range plan, same answer through the shuffle
  const shuffledKeys = await fromRecords(qs.map((x, i) => ({ ...x, Id: x.Id === null ? null : (i * 37) % 116 })), { npartitions: 4 }).persist();
  const m = shuffledKeys.merge(t, { on: "Id" });
  assert.ok(m.plans.every((p) => p.source.kind === "merge" && p.source.left.source.kind === "shards"));
  const sk = (await shuffledKeys.collect()).withColumns(pl.col("Id").fillNull(-1));
  assert.equal(await m.len().compute(), sk.join(tk.withColumns(pl.col("Id").fillNull(-1)), { on: "Id" }).height);
});

test("sort, head, persist", async () => {
  const s = await df().sort(["dept", "score"], { descending: [false, true] }).collect();
  assert.deepEqual(recs(s).map((r) => r.id), [3, 1, 5, 2, 4]);
  const h = await df().head(3);
  assert.deepEqual(recs(h).map((r) => r.id), [1, 2, 3]);
  const p = await df().filter(col("score").notNull()).persist();
  assert.equal(p.npartitions, 7);
  assert.equal(await p.len().compute(), 4);
  assert.equal(await p.sum("score").compute(client), 75);
});

test("sort by range partitioning: partitions in order, missing keys last, ties ordered by later keys, text and categorical keys", async () => {
  const words = ["pear", "apple", "fig", "kiwi", null, "banana", "Zed", "éclair"];
  const rows = Array.from({ length: 2000 }, (_, i) => ({
    a: i % 97 === 0 ? null : (i * 7919) % 503, b: (i * 31) % 17, w: words[(i * 13) % words.length] ?? null, f: i % 50 === 0 ? null : ((i * 17) % 89) / 4,
  }));
  const d = fromRecords(rows, { npartitions: 6 });
  const local = pl.DataFrame(rows);
  const ref = (keys: string[], desc: boolean[]): Record<string, unknown>[] => {
    let out = local;
    for (let i = keys.length - 1; i >= 0; i--) out = out.sort(keys[i]!, desc[i]!, true, true);
    return recs(out);
  };
  for (const [keys, desc] of [[["a"], [false]], [["a"], [true]], [["a", "b"], [false, true]], [["w", "a", "b"], [true, false, false]], [["f", "b", "a"], [false, false, true]]] as [string[], boolean[]][]) {
    const s = d.sort(keys, { descending: desc });
    assert.equal(s.npartitions, 6);
    const got = recs(await s.collect());
    assert.deepEqual(got.map((r) => keys.map((k) => r[k])), ref(keys, desc).map((r) => keys.map((k) => r[k])), `sort ${keys} ${desc}`);
    assert.equal(got.length, rows.length);
  }
  // a categorical text key, an empty input partition, all-missing keys, one output partition
  writeFileSync(join(dir, "sortcat.csv"), "w,n\n" + rows.map((r, i) => `${r.w ?? "NA"},${i}`).join("\n") + "\n");
  const cat = await readCsv(join(dir, "sortcat.csv"), { naValues: ["NA"], dtypes: { w: "category" }, blocksize: 4096 });
  const sc = recs(await cat.sort(["w", "n"]).collect());
  assert.deepEqual(sc.map((r) => r.w), ref(["w"], [false]).map((r) => r.w));
  assert.deepEqual(recs(await fromRecords([{ x: null, y: 2 }, { x: null, y: 1 }], { npartitions: 3 }).sort("x").collect()).length, 2);
  assert.deepEqual(recs(await d.sort("b", { npartitions: 1 }).collect()).map((r) => r.b), ref(["b"], [false]).map((r) => r.b));
  assert.deepEqual(recs(await d.filter(col("a").gt(10_000)).sort("a").collect()), []);
});

test("persisted partitions (detachable bytes: the thread keeps only their frames) are read by every consumer, repeatedly", async () => {
  // partitions well over the 16 KiB out-of-band size, so the bytes are transferred and detached
  const n = 20_000;
  const ids = Array.from({ length: n }, (_, i) => i);
  const big = pl.DataFrame({ id: ids, s: ids.map((i) => `v${(i * 7919) % 100_003}-${i}`) });
  const p = await fromFrame(big, { npartitions: 4 }).persist();
  for (let round = 0; round < 2; round++) {
    const sorted = await p.sort("id", { descending: true }).collect();
    assert.equal(sorted.height, n);
    assert.equal(Number(sorted.getColumn("id").get(0)), n - 1);
    assert.equal(await p.merge(p.select("id"), { on: "id", broadcast: "right" }).len().compute(), n);
    assert.equal(await p.merge(p.select("id"), { on: "id", broadcast: false }).len().compute(), n);
    assert.equal(await p.nunique("s").compute(), n);
  }
  const pq = join(dir, "persisted.parquet");
  await p.toParquet(pq, { singleFile: true });
  assert.equal(await (await readParquet(pq)).len().compute(), n);
  const parts = (await client.compute(...p.toDelayed())) as Uint8Array[];
  assert.equal(parts.reduce((k, b) => k + pl.readIPC(Buffer.from(b)).height, 0), n);
});

test("readCsv dtypes 'category': text stored as categorical behaves as text everywhere (group-by, value counts, shuffles across processes, joins, string ops, writers)", async () => {
  const tags = ["java", "php", "c#", "python", "go", null];
  const lines = ["Id,Tag", ...Array.from({ length: 3000 }, (_, i) => `${i % 700},${tags[(i * 7) % 6] ?? "NA"}`)];
  writeFileSync(join(dir, "cat.csv"), lines.join("\n") + "\n");
  const opts = { naValues: ["NA"], blocksize: 4096 };
  const cat = await readCsv(join(dir, "cat.csv"), { ...opts, dtypes: { Tag: "category" } });
  const txt = await readCsv(join(dir, "cat.csv"), opts);
  assert.equal(cat.npartitions > 3, true);
  assert.deepEqual(cat.schema, { Id: "int64", Tag: "utf8" });
  const both = async (f: (d: DataFrame) => DataFrame): Promise<void> => {
    const norm = (x: Frame): string[] => recs(x).map((r) => JSON.stringify(r)).sort();
    assert.deepEqual(norm(await f(cat).collect()), norm(await f(txt).collect()));
  };
  for (const d of [cat, await cat.persist()]) {
    const same = async (g: (x: DataFrame) => DataFrame): Promise<void> => both((x) => g(x === cat ? d : x));
    await same((x) => x.groupBy("Tag", { splitOut: 3 }).agg({ n: ["Id", "count"], s: ["Id", "sum"], u: ["Id", "nunique"] }));
    await same((x) => x.valueCounts("Tag"));
    await same((x) => x.filter(col("Tag").eq("php").or(col("Tag").str.startsWith("py"))).select("Id", col("Tag").str.upper().alias("T")));
    await same((x) => x.merge(txt.filter(col("Id").lt(5)).rename({ Id: "Other" }), { on: "Tag", npartitions: 3 }));
    await same((x) => x.merge(fromRecords([{ Tag: "go", lang: "Go" }, { Tag: null, lang: "none" }]), { on: "Tag", how: "left" }));
    await same((x) => x.nlargest(4, "Id", { tieBreak: ["Tag"] }));
    await same((x) => x.sort(["Tag", "Id"]));
  }
  await cat.toCsv(join(dir, "cat-out", "part-*.csv"));
  assert.equal(await (await readCsv(join(dir, "cat-out", "part-*.csv"), { naValues: ["NA", ""] })).count("Tag").compute(), await txt.count("Tag").compute());
});

test("writers (CSV per partition and single file, Parquet, JSON lines) read back through the readers", async () => {
  const d = df().select("id", "name", "score", "bonus");
  const parts = await d.toCsv(join(dir, "csv", "part-*.csv"));
  assert.equal(parts.length, 7);
  const back = await readCsv(join(dir, "csv", "part-*.csv"));
  assert.deepEqual(sortedBy(await back.collect(), "id"), sortedBy(await d.collect(), "id"));
  await d.toCsv(join(dir, "one.csv"));
  assert.equal((await (await readCsv(join(dir, "one.csv"))).collect()).height, 5);
  await d.toParquet(join(dir, "pq"));
  const pq = await readParquet(join(dir, "pq", "*.parquet"));
  assert.equal(await pq.sum("score").compute(), 75);
  await d.toJsonLines(join(dir, "all.jsonl"));
  const js = await readJsonLines(join(dir, "all.jsonl"));
  assert.deepEqual(js.schema, { id: "int64", name: "utf8", score: "int64", bonus: "float64" });
  assert.equal(await js.mean("bonus").compute(), 2.125);
});

test("readCsv: types widen across blocks (ints then floats, NA-only columns) instead of failing mid-compute", async () => {
  const lines = ["a,b,c"];
  for (let i = 0; i < 12_000; i++) lines.push(`${i},${i < 11_000 ? "NA" : i},${i < 11_500 ? i : i + 0.5}`);
  const file = join(dir, "widen.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  const d = await readCsv(file, { blocksize: 20_000 });
  assert.ok(d.npartitions > 5);
  const [sumC, nullsB, maxB, g] = await compute([d.sum("c"), d.count("b"), d.max("b"), d.groupBy("c", { splitOut: 3 }).agg({ n: ["a", "count"] }).len()]);
  assert.equal(sumC, (11_999 * 12_000) / 2 + 500 * 0.5);
  assert.equal(nullsB, 1000);
  assert.equal(maxB, 11_999);
  assert.equal(g, 12_000);
  const all = await d.collect();
  assert.equal(all.getColumn("c").dtype.equals(pl.Float64), true);
});

test("a malformed row fails the action with file, line and column, through the cluster", async () => {
  const lines = ["Id,Score,Tag"];
  for (let i = 1; i <= 20_000; i++) lines.push(i === 14_321 ? `${i},12x,t` : `${i},${i % 7},t`);
  const file = join(dir, "bad.csv");
  writeFileSync(file, lines.join("\n") + "\n");
  // the bad row is past the reader's 10,000-row sample: the task reading its block finds it
  const d = await readCsv(file, { blocksize: 30_000, dtypes: { Score: "int64" } });
  await assert.rejects(d.sum("Score").compute(), (err: Error) => {
    assert.match(err.message, /bad\.csv:14322, column 2 'Score': cannot parse "12x" as int64/);
    return true;
  });
  const extra = join(dir, "extra.csv");
  writeFileSync(extra, "a,b\n1,2\n3,4,5\n");
  // inside the sample: readCsv itself fails, before any task runs
  await assert.rejects(async () => (await readCsv(extra)).collect(), /extra\.csv:3, character 5: expected 2 fields, found 3/);
});

test("invalid arguments fail early with the column names", async () => {
  assert.throws(() => df().drop("nope"), /drop: no column 'nope'/);
  assert.throws(() => df().groupBy("nope"), /groupBy: no column 'nope'/);
  assert.throws(() => df().select(col("nope")), /no column 'nope'/);
  assert.throws(() => df().merge(df().select("id"), { on: "dept" }), /merge \(right\): no column 'dept'/);
});
