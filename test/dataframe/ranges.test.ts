// Key ranges of partitions and the range-aligned merge plan (no cluster).
import { test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { alignByRanges, measureRanges, rangesAfter, type FrameRanges } from "../../src/dataframe/ranges.ts";
import { col } from "../../src/index.ts";

const r = (min: number | null, max: number | null, nulls = 0): FrameRanges[number] => ({ rows: 10, columns: { Id: { min, max, nulls } } });

test("measureRanges: numeric columns only, NaN and null count as missing, huge int64 bounds widen to infinity", () => {
  const df = pl.DataFrame([
    pl.Series("Id", [5, 3, null, 9], pl.Int64), pl.Series("x", [1.5, NaN, null, -2], pl.Float64), pl.Series("s", ["a", "b", "c", "d"]),
    pl.Series("big", [2 ** 60, 1, 2, 3], pl.Float64).cast(pl.Int64), pl.Series("none", [null, null, null, null], pl.Int64),
  ]);
  assert.deepEqual(measureRanges(df), {
    rows: 4,
    columns: { Id: { min: 3, max: 9, nulls: 1 }, x: { min: -2, max: 1.5, nulls: 2 }, big: { min: 1, max: Infinity, nulls: 0 }, none: { min: null, max: null, nulls: 4 } },
  });
  assert.deepEqual(measureRanges(df.head(0)).columns["Id"], { min: null, max: null, nulls: 0 });
});

test("rangesAfter: filters keep ranges, projections and renames carry them, recomputed columns lose them", () => {
  const two: FrameRanges = [{ rows: 3, columns: { Id: { min: 1, max: 3, nulls: 0 }, v: { min: 0, max: 1, nulls: 0 } } }];
  assert.equal(rangesAfter(two, { op: "filter", pred: col("v").gt(0).node }), two);
  assert.deepEqual(Object.keys(rangesAfter(two, { op: "select", exprs: [col("Id").node, col("v").add(1).node] })![0]!.columns), ["Id"]);
  assert.deepEqual(Object.keys(rangesAfter(two, { op: "select", exprs: [col("v").alias("w").node] })![0]!.columns), ["w"]);
  assert.deepEqual(Object.keys(rangesAfter(two, { op: "with", exprs: [col("v").mul(2).node, col("Id").alias("k").node] })![0]!.columns), ["Id"]);
  assert.deepEqual(Object.keys(rangesAfter(two, { op: "rename", mapping: { Id: "key" } })![0]!.columns), ["key", "v"]);
  assert.deepEqual(Object.keys(rangesAfter(two, { op: "drop", columns: ["v"] })![0]!.columns), ["Id"]);
  assert.equal(rangesAfter(null, { op: "head", n: 1 }), null);
});

test("alignByRanges: overlapping partners, missing keys, interleaved ranges fall back", () => {
  const left = [r(1, 100), r(101, 200), r(201, 300)];
  const right = [r(1, 150), r(151, 300)];
  assert.deepEqual(alignByRanges(left, right, "Id", { nullsEqual: true }), { partners: [[0], [0, 1], [1]], bounds: [[1, 100], [101, 200], [201, 300]] });
  // a partition with missing keys meets every partner with missing keys (pandas: missing matches missing)
  const withNulls = alignByRanges([r(1, 100, 2), r(null, null, 5)], [r(1, 50), r(300, 400, 1)], "Id", { nullsEqual: true });
  assert.deepEqual(withNulls?.partners, [[0, 1], [1]]);
  assert.deepEqual(alignByRanges([r(1, 100, 2)], [r(300, 400, 1)], "Id", { nullsEqual: false })?.partners, [[]]);
  // interleaved (unsorted) data: every partition overlaps every other → shuffle instead
  const mixed = [r(1, 1000), r(2, 999), r(3, 998), r(4, 997)];
  assert.equal(alignByRanges(mixed, mixed, "Id", { nullsEqual: true }), null);
  assert.equal(alignByRanges(left, null, "Id", { nullsEqual: true }), null);
  assert.equal(alignByRanges(left, [{ rows: 1, columns: {} }], "Id", { nullsEqual: true }), null);
});
