import { test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { reductions, reduceLocal, momentsOf, combineMoments, momentsStd, missingPercent } from "../../src/dataframe/reductions.ts";
import { deserializePartial, serializePartial } from "../../src/dataframe/ipc.ts";
import type { Frame } from "../../src/dataframe/engine.ts";

// One logical column split over partitions, with nulls, NaN and an empty partition.
const ints = [pl.DataFrame([pl.Series("x", [3, null, -1, 4], pl.Int64), pl.Series("s", ["b", null, "a", "b"])]),
  pl.DataFrame([pl.Series("x", [], pl.Int64), pl.Series("s", [], pl.Utf8)]),
  pl.DataFrame([pl.Series("x", [1, 5, null, 9, 2, 6], pl.Int64), pl.Series("s", ["c", "a", null, null, "d", "a"])])];
// pandas over [3, NaN, -1, 4, 1, 5, NaN, 9, 2, 6]
const floats = [pl.DataFrame({ f: [0.5, NaN, 2.25] }), pl.DataFrame({ f: [] as number[] }), pl.DataFrame({ f: [null, -1.75, 10] })];

/** Like reduceLocal, but every partial crosses a serialisation boundary. */
function viaWire<P, R>(r: { map(d: Frame): P; combine(p: readonly P[]): P; finalize(p: P): R }, parts: Frame[]): R {
  const ps = parts.map((d) => deserializePartial<P>(serializePartial(r.map(d))));
  return r.finalize(deserializePartial<P>(serializePartial(r.combine(ps))));
}

test("count, sum, mean, var, std, min, max on an int column with nulls and an empty partition", () => {
  assert.equal(viaWire(reductions.count("x"), ints), 8);
  assert.equal(viaWire(reductions.sum("x"), ints), 29);
  assert.equal(viaWire(reductions.mean("x"), ints), 3.625);
  assert.equal(viaWire(reductions.var("x"), ints), 9.696428571428571);      // pandas Series.var()
  assert.equal(viaWire(reductions.std("x"), ints), 3.113908889391045);      // pandas Series.std()
  assert.equal(viaWire(reductions.var("x", 0), ints), 8.484375);
  assert.equal(viaWire(reductions.min("x"), ints), -1);
  assert.equal(viaWire(reductions.max("x"), ints), 9);
  assert.equal(viaWire(reductions.min("s"), ints), "a");
  assert.equal(viaWire(reductions.max("s"), ints), "d");
});

test("float column: NaN counts as missing (pandas)", () => {
  assert.equal(reduceLocal(reductions.count("f"), floats), 4);
  assert.equal(reduceLocal(reductions.sum("f"), floats), 11);
  assert.equal(reduceLocal(reductions.mean("f"), floats), 2.75);
  assert.ok(Math.abs(reduceLocal(reductions.std("f"), floats) - 5.103103630798288) < 1e-14); // pandas: 5.103103630798288
  assert.equal(reduceLocal(reductions.min("f"), floats), -1.75);
  assert.equal(reduceLocal(reductions.max("f"), floats), 10);
  assert.equal(reduceLocal(reductions.median("f"), floats), 1.375);
  assert.deepEqual(reduceLocal(reductions.nullCounts(), floats), { rows: 6, nulls: { f: 2 } });
});

test("empty and all-missing inputs follow pandas (sum 0, mean/std NaN, count 0)", () => {
  const empty = [pl.DataFrame([pl.Series("x", [], pl.Int64)])];
  const nulls = [pl.DataFrame([pl.Series("x", [null, null], pl.Int64)])];
  for (const parts of [empty, nulls]) {
    assert.equal(reduceLocal(reductions.count("x"), parts), 0);
    assert.equal(reduceLocal(reductions.sum("x"), parts), 0);
    assert.ok(Number.isNaN(reduceLocal(reductions.mean("x"), parts)));
    assert.ok(Number.isNaN(reduceLocal(reductions.std("x"), parts)));
    assert.ok(Number.isNaN(reduceLocal(reductions.median("x"), parts)));
    assert.ok(Number.isNaN(reduceLocal(reductions.min("x"), parts) as number));
    assert.equal(reduceLocal(reductions.nunique("x"), parts), 0);
  }
  assert.ok(Number.isNaN(reduceLocal(reductions.std("x"), [pl.DataFrame([pl.Series("x", [5], pl.Int64)])])), "std of one value is NaN");
});

test("exact median and quantiles (pandas linear interpolation)", () => {
  assert.equal(viaWire(reductions.median("x"), ints), 3.5);
  // pandas Series([3,-1,4,1,5,9,2,6]).quantile([0, .1, .25, .5, .75, .9, 1])
  assert.deepEqual(viaWire(reductions.quantile("x", [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1]), ints), [-1, 0.40000000000000013, 1.75, 3.5, 5.25, 6.8999999999999995, 9]);
  assert.throws(() => reduceLocal(reductions.quantile("x", [1.5]), ints), /q must be in \[0, 1\]/);
});

test("nunique, valueCounts (count desc, key asc), nullCounts, missingPercent", () => {
  assert.equal(viaWire(reductions.nunique("s"), ints), 4);
  assert.equal(viaWire(reductions.nunique("x"), ints), 8);
  const vc = viaWire(reductions.valueCounts("s"), ints);
  assert.deepEqual(vc.toRecords(), [{ s: "a", count: 3 }, { s: "b", count: 2 }, { s: "c", count: 1 }, { s: "d", count: 1 }]);
  assert.deepEqual(viaWire(reductions.valueCounts("s", { n: 2 }), ints).toRecords(), [{ s: "a", count: 3 }, { s: "b", count: 2 }]);
  const withNa = viaWire(reductions.valueCounts("s", { dropna: false }), ints).toRecords();
  assert.deepEqual(withNa.slice(0, 2), [{ s: "a", count: 3 }, { s: null, count: 3 }]); // tie: missing key sorts last
  const nc = viaWire(reductions.nullCounts(), ints);
  assert.deepEqual(nc, { rows: 10, nulls: { x: 2, s: 3 } });
  assert.deepEqual(missingPercent(nc), { x: 20, s: 30 });
});

test("nlargest / nsmallest: missing dropped, ties broken by key ascending across partitions", () => {
  const parts = [pl.DataFrame({ k: ["e", "b", "z"], v: [5, 7, null] }), pl.DataFrame({ k: ["a", "c"], v: [7, 5] }), pl.DataFrame([pl.Series("k", [], pl.Utf8), pl.Series("v", [], pl.Float64)])];
  assert.deepEqual(viaWire(reductions.nlargest(3, "v", ["k"]), parts).toRecords(), [{ k: "a", v: 7 }, { k: "b", v: 7 }, { k: "c", v: 5 }]);
  assert.deepEqual(viaWire(reductions.nsmallest(2, "v", ["k"]), parts).toRecords(), [{ k: "c", v: 5 }, { k: "e", v: 5 }]);
});

test("describe() matches pandas", () => {
  const d = viaWire(reductions.describe(), ints);
  assert.deepEqual(Object.keys(d), ["x"]);
  assert.deepEqual(d.x, { count: 8, mean: 3.625, std: 3.113908889391045, min: -1, "25%": 1.75, "50%": 3.5, "75%": 5.25, max: 9 });
});

test("integer std is correctly rounded, whatever the partitioning", () => {
  // exact value from Python: Decimal(n*s2 - s1*s1) / Decimal(n*(n-1)), 60 digits, sqrt; pandas gives 1243.386625017371
  const vals = Array.from({ length: 200_000 }, (_, i) => (i % 20 === 0 ? ((i * i * 7919) % 10007) - 50 : ((i * 31) % 7) - 2));
  const exact = 1243.3866250166682;
  const whole = reduceLocal(reductions.std("x"), [pl.DataFrame([pl.Series("x", vals, pl.Int64)])]);
  assert.equal(whole, exact);
  assert.equal(reduceLocal(reductions.var("x"), [pl.DataFrame([pl.Series("x", vals, pl.Int64)])]), 1546010.2992703407);
  const split = [pl.DataFrame([pl.Series("x", vals.slice(0, 123_457), pl.Int64)]), pl.DataFrame([pl.Series("x", vals.slice(123_457), pl.Int64)])];
  assert.equal(viaWire(reductions.std("x"), split), exact);
  // exact partials mixed with float partials fall back to Chan's formula, still close
  const mixed = combineMoments([momentsOf(split[0]!.getColumn("x")), momentsOf(split[1]!.getColumn("x").cast(pl.Float64))]);
  assert.equal(mixed.exact, false);
  assert.ok(Math.abs(momentsStd(mixed) - exact) / exact < 1e-13);
});
