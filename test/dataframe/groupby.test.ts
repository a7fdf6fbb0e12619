import { test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import {
  estimateGroupRatio, groupByAgg, groupByCombine, groupByFinalize, groupByMerge, groupByPartial, groupByRows, isRawRows, preferRows,
  RAW_ROWS, type AggSpec, type GroupByOptions,
} from "../../src/dataframe/groupby.ts";
import { groupByBucket, groupBySplit, type GroupByShardKind } from "../../src/dataframe/frame-tasks.ts";
import type { PartitionPlan } from "../../src/dataframe/frame-plan.ts";
import { hashPartition, concat } from "../../src/dataframe/shuffle.ts";
import { deserializePartial, fromIpc, fromIpcKnown, serializePartial, toIpc, travelForm } from "../../src/dataframe/ipc.ts";
import { schemaOf } from "../../src/dataframe/schema.ts";

const df = pl.DataFrame([
  pl.Series("g", ["a", "b", "a", null, "b", "a", "c"]),
  pl.Series("v", [1.0, 2.0, NaN, 4.0, 6.0, 3.5, null]),
  pl.Series("s", ["x", null, "y", "z", "x", "x", null]),
]);
const spec: AggSpec = {
  sum: ["v", "sum"], mean: ["v", "mean"], count: ["v", "count"], size: ["v", "size"], min: ["v", "min"], max: ["v", "max"],
  nunique: ["s", "nunique"], std: ["v", "std"], var: ["v", "var"], first: ["s", "first"], last: ["s", "last"],
};
// from pandas 1.5.3: df.groupby("g").agg(...) (NaN shown as null)
const expected = [
  { g: "a", sum: 4.5, mean: 2.25, count: 2, size: 3, min: 1, max: 3.5, nunique: 2, std: 1.7677669529663689, var: 3.125, first: "x", last: "x" },
  { g: "b", sum: 8, mean: 4, count: 2, size: 2, min: 2, max: 6, nunique: 1, std: 2.8284271247461903, var: 8, first: "x", last: "x" },
  { g: "c", sum: 0, mean: null, count: 0, size: 1, min: null, max: null, nunique: 0, std: null, var: null, first: null, last: null },
];

function close(actual: Record<string, unknown>[], want: Record<string, unknown>[]): void {
  assert.equal(actual.length, want.length);
  actual.forEach((row, i) => {
    for (const [k, v] of Object.entries(want[i]!)) {
      const a = row[k];
      if (typeof v === "number" && typeof a === "number" && !Number.isInteger(v)) assert.ok(Math.abs(a - v) <= 1e-12 * Math.abs(v), `${k}: ${a} vs ${v}`);
      else assert.equal(a, v, `row ${i} ${k}`);
    }
  });
}

test("groupByAgg: every aggregation matches pandas on one partition (null keys dropped)", () => {
  close(groupByAgg(df, ["g"], spec).toRecords(), expected);
});

test("dropna: false keeps the missing-key group (sorted last)", () => {
  const r = groupByAgg(df, ["g"], { n: ["v", "size"] }, { dropna: false }).toRecords();
  assert.deepEqual(r, [{ g: "a", n: 3 }, { g: "b", n: 2 }, { g: "c", n: 1 }, { g: null, n: 1 }]);
});

test("partial → shuffle → combine → finalize over partitions (one empty) equals one-shot", () => {
  const parts = [df.slice(0, 2), df.slice(2, 0), df.slice(2, 3), df.slice(5, 2)];
  const partials = parts.map((p) => deserializePartial<pl.DataFrame>(serializePartial(groupByPartial(p, ["g"], spec))));
  // shuffle partials to 3 reducers, combine each (in partition order), finalize, concat
  const buckets: pl.DataFrame[][] = [[], [], []];
  for (const p of partials) hashPartition(p, ["g"], 3).forEach((o, i) => buckets[i]!.push(o));
  const outs = buckets.map((b) => groupByFinalize(groupByCombine(b, ["g"], spec), ["g"], spec));
  const all = concat(outs).sort("g");
  close(all.toRecords(), expected);
  // combine is associative: tree combine gives the same
  const tree = groupByCombine([groupByCombine(partials.slice(0, 2), ["g"], spec), groupByCombine(partials.slice(2), ["g"], spec)], ["g"], spec);
  close(groupByFinalize(tree, ["g"], spec).toRecords(), expected);
});

test("multi-key group-by and int columns (exact sums)", () => {
  const d = pl.DataFrame([pl.Series("a", [1, 1, 2, 2, 1], pl.Int64), pl.Series("b", ["x", "y", "x", "x", "x"]), pl.Series("v", [10, 20, 30, null, 50], pl.Int64)]);
  const r = groupByAgg(d, ["a", "b"], { s: ["v", "sum"], c: ["v", "count"], m: ["v", "mean"] }).toRecords();
  assert.deepEqual(r, [{ a: 1, b: "x", s: 60, c: 2, m: 30 }, { a: 1, b: "y", s: 20, c: 1, m: 20 }, { a: 2, b: "x", s: 30, c: 1, m: 30 }]);
});

test("argument errors are typed and say what to fix", () => {
  assert.throws(() => groupByAgg(df, [], spec), /keys must name at least one column/);
  assert.throws(() => groupByAgg(df, ["g"], { x: ["v", "median" as "sum"] }), /unknown aggregation 'median'/);
  assert.throws(() => groupByAgg(df, ["nope"], spec), (e: unknown) => e instanceof Error && e.name === "DataFrameArgumentError" && /no column 'nope'/.test(e.message));
});

// ---- adaptive split: raw-row shards and partial shards mixed in one bucket ----

function planOf(df: pl.DataFrame): PartitionPlan {
  return { source: { kind: "ipc", data: toIpc(df, { compression: "lz4" }), schema: schemaOf(df) }, ops: [] };
}

/** groupBySplit of every partition (each with its own kind), groupByBucket of every bucket, concatenated. */
async function distributed(parts: pl.DataFrame[], kinds: GroupByShardKind[], keys: string[], sp: AggSpec, opts: GroupByOptions, n: number): Promise<pl.DataFrame> {
  const keyTypes = Object.fromEntries(keys.map((k) => [k, schemaOf(parts[0]!)[k]!]));
  const splits = await Promise.all(parts.map((p, i) => groupBySplit(planOf(p), keys, sp, opts, n, keyTypes, kinds[i]!)));
  splits.forEach((s, i) => {
    assert.equal(s.length, n);
    for (const b of s) assert.equal(isRawRows(fromIpcKnown(b), keys), kinds[i] === "rows", `partition ${i} shard kind`);
  });
  // shards stay frames where they were split; odd buckets take them as they travel to another worker (Arrow IPC)
  const shard = (b: Buffer, j: number): Buffer => (j % 2 === 1 ? travelForm(b) : b);
  return concat(Array.from({ length: n }, (_, j) => fromIpc(travelForm(groupByBucket(splits.map((s) => shard(s[j]!, j)), keys, sp, opts)))));
}

/** Rows as records in a canonical order (by the keys, missing last), for comparing results split into buckets. */
function canon(df: pl.DataFrame, keys: string[]): Record<string, unknown>[] {
  const cmp = (a: unknown, b: unknown): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : (a as number) < (b as number) ? -1 : 1);
  return df.toRecords().sort((x, y) => { for (const k of keys) { const c = cmp(x[k], y[k]); if (c !== 0) return c; } return 0; });
}

function sameResult(actual: pl.DataFrame, want: pl.DataFrame, keys: string[], what: string): void {
  assert.deepEqual(actual.columns, want.columns, what);
  const a = canon(actual, keys), w = canon(want, keys);
  assert.equal(a.length, w.length, `${what}: groups`);
  a.forEach((row, i) => {
    for (const [k, v] of Object.entries(w[i]!)) {
      const x = row[k];
      if (typeof v === "number" && typeof x === "number" && !Number.isInteger(v)) assert.ok(Math.abs(x - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${what}: row ${i} ${k}: ${x} vs ${v}`);
      else assert.deepEqual(x, v, `${what}: row ${i} ${k}`);
    }
  });
}

/** Every assignment of kinds to `n` partitions. */
function kindMixes(n: number): GroupByShardKind[][] {
  return Array.from({ length: 2 ** n }, (_, m) => Array.from({ length: n }, (_, i) => ((m >> i) & 1 ? "rows" : "partial") as GroupByShardKind));
}

// keys repeat across partitions, so first/last depend on the partition order; one partition is empty
const G = ["a", "b", null, "c", "a", "d", "b", "a", null, "e", "c", "a"];
const F = [1.5, 2.5, NaN, null, 1.5, 3, NaN, 2.5, 1.5, 4, null, 3];
const mixed = pl.DataFrame([
  pl.Series("g", Array.from({ length: 48 }, (_, i) => G[(i * 7) % G.length]!)),
  pl.Series("f", Array.from({ length: 48 }, (_, i) => F[(i * 5) % F.length]!)),
  pl.Series("v", Array.from({ length: 48 }, (_, i) => (i % 9 === 4 ? NaN : i % 7 === 3 ? null : (i * 37) % 23 - 5.5))),
  pl.Series("i", Array.from({ length: 48 }, (_, i) => (i % 11 === 2 ? null : (i * 13) % 17)), pl.Int64),
  pl.Series("s", Array.from({ length: 48 }, (_, i) => (i % 5 === 1 ? null : `s${i}`))),
]);
const mixedParts = [mixed.slice(0, 13), mixed.slice(13, 0), mixed.slice(13, 20), mixed.slice(33, 15)];
const allAggs: AggSpec = {
  sum: ["v", "sum"], mean: ["v", "mean"], count: ["v", "count"], size: ["s", "size"], min: ["v", "min"], max: ["i", "max"],
  nunique: ["s", "nunique"], std: ["v", "std"], var: ["i", "var"], first: ["s", "first"], last: ["s", "last"],
  isum: ["i", "sum"], imean: ["i", "mean"], smin: ["s", "min"], fcount: ["f", "count"],
};

for (const [keys, label] of [[["g"], "text key"], [["f"], "float key with NaN"], [["g", "f"], "two keys"]] as const) {
  for (const dropna of [true, false]) {
    test(`split → bucket with raw and partial shards mixed equals groupByAgg (${label}, dropna ${dropna})`, async () => {
      const opts = { dropna, sort: true };
      const want = groupByAgg(mixed, keys, allAggs, opts);
      for (const kinds of kindMixes(mixedParts.length)) {
        for (const n of [1, 3]) sameResult(await distributed(mixedParts, kinds, [...keys], allAggs, opts, n), want, [...keys], `${kinds.join(",")} into ${n}`);
      }
    });
  }
}

test("first/last keep the partition order across raw and partial shards", async () => {
  const part = (vals: string[]): pl.DataFrame => pl.DataFrame([pl.Series("k", vals.map(() => 1), pl.Int64), pl.Series("s", vals)]);
  const parts = [part(["p0a", "p0b"]), part(["p1a", "p1b"]), part(["p2a"]), part(["p3a", "p3b"])];
  const sp: AggSpec = { first: ["s", "first"], last: ["s", "last"], n: ["s", "count"] };
  for (const kinds of kindMixes(parts.length)) {
    const r = await distributed(parts, kinds, ["k"], sp, {}, 2);
    assert.deepEqual(r.toRecords(), [{ k: 1, first: "p0a", last: "p3b", n: 7 }], kinds.join(","));
  }
});

test("raw rows of a large numeric key (sorted before grouping) equal the one-shot result, first/last in order", async () => {
  // > 50,000 rows per bucket, many groups per row, keys in no order: the raw-row bucket sorts (stably) before grouping
  const n = 150_000;
  const big = pl.DataFrame([
    pl.Series("k", Array.from({ length: n }, (_, i) => (i * 7919) % 110_000), pl.Int64),
    pl.Series("v", Array.from({ length: n }, (_, i) => (i % 13 === 5 ? null : ((i * 31) % 101) - 50.25))),
    pl.Series("s", Array.from({ length: n }, (_, i) => `r${i}`)),
  ]);
  const parts = [big.slice(0, 70_000), big.slice(70_000, 80_000)];
  const sp: AggSpec = { first: ["s", "first"], last: ["s", "last"], n: ["v", "count"], m: ["v", "mean"], t: ["v", "sum"], z: ["s", "size"] };
  const want = groupByAgg(big, ["k"], sp);
  sameResult(await distributed(parts, ["rows", "rows"], ["k"], sp, {}, 2), want, ["k"], "raw rows");
  sameResult(await distributed(parts, ["rows", "partial"], ["k"], sp, {}, 1), want, ["k"], "raw + partial");
});

test("raw rows carry only the keys and the aggregated columns, keys normalised", () => {
  const df = pl.DataFrame([pl.Series("k", [1, NaN, null, 2]), pl.Series("v", [1, 2, 3, 4], pl.Int64), pl.Series("other", ["a", "b", "c", "d"]), pl.Series("w", [1, 2, 3, 4])]);
  const sp: AggSpec = { n: ["w", "size"], s: ["v", "sum"], c: ["k", "count"] };
  const rows = groupByRows(df, ["k"], sp);
  assert.deepEqual(rows.columns, ["k", "v", RAW_ROWS]);
  assert.deepEqual(rows.getColumn("k").toArray(), [1, 2]);
  assert.ok(isRawRows(rows, ["k"]) && !isRawRows(groupByPartial(df, ["k"], sp), ["k"]));
  assert.deepEqual(groupByRows(df, ["k"], sp, { dropna: false }).getColumn("k").toArray(), [1, null, null, 2]);
  // the marker survives an IPC round trip and costs no data
  assert.ok(isRawRows(fromIpc(toIpc(rows, { compression: "lz4" })), ["k"]));
  assert.deepEqual(groupByFinalize(groupByMerge([rows], ["k"], sp), ["k"], sp).toRecords(), [{ k: 1, n: 1, s: 1, c: 1 }, { k: 2, n: 1, s: 4, c: 1 }]);
  assert.throws(() => groupByRows(df.rename({ v: RAW_ROWS }), ["k"], { s: [RAW_ROWS, "sum"] }), /reserved/);
  assert.equal(preferRows(df.rename({ k: RAW_ROWS }), [RAW_ROWS], { s: ["v", "sum"] }), false);
});

test("partitions that disagree on column types (int vs float) mix raw and partial shards", async () => {
  const a = pl.DataFrame([pl.Series("k", [1, 2, 1], pl.Int64), pl.Series("v", [1, 2, 3], pl.Int64)]);
  const b = pl.DataFrame([pl.Series("k", [2, 3, 1], pl.Float64), pl.Series("v", [0.5, 1.5, null], pl.Float64)]);
  const sp: AggSpec = { s: ["v", "sum"], m: ["v", "max"], c: ["v", "count"] };
  const want = [{ k: 1, s: 4, m: 3, c: 2 }, { k: 2, s: 2.5, m: 2, c: 2 }, { k: 3, s: 1.5, m: 1.5, c: 1 }];
  for (const kinds of kindMixes(2)) {
    const r = await distributed([a, b], kinds, ["k"], sp, {}, 2);
    assert.deepEqual(canon(r, ["k"]), want, kinds.join(","));
  }
});

test("every partition empty, or only empty raw rows: an empty result with the right columns", async () => {
  const empty = mixed.head(0);
  for (const kinds of kindMixes(2)) {
    const r = await distributed([empty, empty], kinds, ["g"], allAggs, {}, 2);
    assert.equal(r.height, 0);
    assert.deepEqual(r.columns, groupByAgg(mixed, ["g"], allAggs).columns);
  }
});

test("estimateGroupRatio: groups per row of a partition, also where an even sample misleads", () => {
  const n = 60_000;
  const frame = (key: (i: number) => number | null): pl.DataFrame => pl.DataFrame([pl.Series("k", Array.from({ length: n }, (_, i) => key(i)), pl.Float64)]);
  const cases: [string, pl.DataFrame, number][] = [
    ["all distinct", frame((i) => i), 1],
    ["sorted, 3 rows per key (a sample looks all-distinct)", frame((i) => Math.floor(i / 3)), 1 / 3],
    ["few keys", frame((i) => i % 50), 50 / n],
    ["2 rows per key, scattered", frame((i) => (i * 7919) % (n / 2)), 0.5],
    ["half missing keys, others distinct", frame((i) => (i % 2 ? null : i)), 1],
  ];
  for (const [what, df, want] of cases) {
    const got = estimateGroupRatio(df, ["k"]);
    assert.ok(Math.abs(got - want) < 0.04, `${what}: ${got} vs ${want}`);
  }
  // missing keys kept: one more (large) group
  assert.ok(Math.abs(estimateGroupRatio(frame((i) => (i % 2 ? null : i)), ["k"], { dropna: false }) - 0.5) < 0.04);
  // two keys
  const two = pl.DataFrame([pl.Series("a", Array.from({ length: n }, (_, i) => i % 100)), pl.Series("b", Array.from({ length: n }, (_, i) => Math.floor(i / 100)))]);
  assert.ok(estimateGroupRatio(two, ["a", "b"]) > 0.96);
  assert.ok(estimateGroupRatio(two, ["a"]) < 0.01);
  assert.equal(estimateGroupRatio(frame(() => null), ["k"]), 0);
  assert.equal(estimateGroupRatio(mixed.head(0), ["g"]), 0);
  // the split's choice
  assert.equal(preferRows(cases[0]![1], ["k"], { n: ["k", "size"] }), true);
  assert.equal(preferRows(cases[1]![1], ["k"], { n: ["k", "size"] }), false);
  assert.equal(preferRows(cases[2]![1], ["k"], { n: ["k", "size"] }), false);
});

test("auto split: high-cardinality partitions ship raw rows, the result is unchanged", async () => {
  const n = 30_000;
  const hi = pl.DataFrame([pl.Series("k", Array.from({ length: n }, (_, i) => (i * 7) % n), pl.Int64), pl.Series("v", Array.from({ length: n }, (_, i) => i % 13), pl.Int64)]);
  const lo = pl.DataFrame([pl.Series("k", Array.from({ length: n }, (_, i) => i % 40), pl.Int64), pl.Series("v", Array.from({ length: n }, (_, i) => i % 13), pl.Int64)]);
  const sp: AggSpec = { s: ["v", "sum"], m: ["v", "mean"], sd: ["v", "std"], u: ["v", "nunique"] };
  const keyTypes = { k: "int64" as const };
  const [hs, ls] = await Promise.all([groupBySplit(planOf(hi), ["k"], sp, {}, 2, keyTypes), groupBySplit(planOf(lo), ["k"], sp, {}, 2, keyTypes)]);
  assert.ok(hs.every((b) => isRawRows(fromIpc(travelForm(b)), ["k"])));
  assert.ok(ls.every((b) => !isRawRows(fromIpcKnown(b), ["k"])));
  const got = concat([0, 1].map((j) => fromIpcKnown(groupByBucket([hs[j]!, ls[j]!], ["k"], sp, {}))));
  sameResult(got, groupByAgg(concat([hi, lo]), ["k"], sp), ["k"], "auto");
});
