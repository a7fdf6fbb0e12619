import { test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { groupByAgg, groupByCombine, groupByFinalize, groupByPartial, type AggSpec } from "../../src/dataframe/groupby.ts";
import { hashPartition, concat } from "../../src/dataframe/shuffle.ts";
import { deserializePartial, serializePartial } from "../../src/dataframe/ipc.ts";

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
