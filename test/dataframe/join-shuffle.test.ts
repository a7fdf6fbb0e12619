import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import pl from "nodejs-polars";
import { mergePartitions } from "../../src/dataframe/join.ts";
import { hashPartition, partitionIds, concat } from "../../src/dataframe/shuffle.ts";
import { flagSorted } from "../../src/dataframe/frame-utils.ts";

const left = pl.DataFrame([pl.Series("k", [1.0, null, 2.0, null]), pl.Series("a", [1, 2, 3, 4], pl.Int64), pl.Series("z", ["l1", "l2", "l3", "l4"])]);
const right = pl.DataFrame([pl.Series("k", [null, 1, 3], pl.Int64), pl.Series("b", [10, 20, 30], pl.Int64), pl.Series("z", ["r1", "r2", "r3"])]);
const sortK = (d: pl.DataFrame): Record<string, unknown>[] => d.sort(["a", "b"], false, true).toRecords();

test("merge matches pandas 1.5.3: missing keys match, suffixes _x/_y, int+float keys", () => {
  // pandas: left.merge(right, on="k", how=...) — checked with /usr/bin/python3
  assert.deepEqual(sortK(mergePartitions(left, right, { on: "k" })), [
    { k: 1, a: 1, z_x: "l1", b: 20, z_y: "r2" }, { k: null, a: 2, z_x: "l2", b: 10, z_y: "r1" }, { k: null, a: 4, z_x: "l4", b: 10, z_y: "r1" }]);
  assert.deepEqual(sortK(mergePartitions(left, right, { on: "k", how: "left" })), [
    { k: 1, a: 1, z_x: "l1", b: 20, z_y: "r2" }, { k: null, a: 2, z_x: "l2", b: 10, z_y: "r1" },
    { k: 2, a: 3, z_x: "l3", b: null, z_y: null }, { k: null, a: 4, z_x: "l4", b: 10, z_y: "r1" }]);
  const outer = sortK(mergePartitions(left, right, { on: "k", how: "outer" }));
  assert.equal(outer.length, 5);
  assert.deepEqual(outer.find((r) => r.b === 30), { k: 3, a: null, z_x: null, b: 30, z_y: "r3" });
  assert.deepEqual(mergePartitions(left, right, { on: "k", how: "anti" }).toRecords(), [{ k: 2, a: 3, z: "l3" }]);
});

test("nullsEqual: false gives SQL semantics; custom suffixes", () => {
  assert.deepEqual(mergePartitions(left, right, { on: "k", nullsEqual: false, suffixes: ["_l", "_r"] }).toRecords(),
    [{ k: 1, a: 1, z_l: "l1", b: 20, z_r: "r2" }]);
  assert.equal(mergePartitions(left, right, { on: "k", how: "anti", nullsEqual: false }).height, 3);
});

test("merge on empty partitions and bad options", () => {
  assert.equal(mergePartitions(left.head(0), right, { on: "k" }).height, 0);
  assert.equal(mergePartitions(left, right.head(0), { on: "k", how: "left" }).height, 4);
  assert.throws(() => mergePartitions(left, right, { on: "k", how: "cross" as "inner" }), /options.how must be inner, left, outer or anti/);
});

test("hashPartition: every row lands once; equal keys co-locate across differently typed sides", () => {
  const a = pl.DataFrame([pl.Series("Id", [1, 2, 3, 4, 5, 6, 7, 8, null], pl.Int64), pl.Series("v", [1, 2, 3, 4, 5, 6, 7, 8, 9], pl.Int64)]);
  const b = pl.DataFrame([pl.Series("Id", [8, 7, 6, 5, 4, 3, 2, 1, null], pl.Int32)]);
  const pa = hashPartition(a, ["Id"], 4, { keyTypes: { Id: "int64" } });
  const pb = hashPartition(b, ["Id"], 4, { keyTypes: { Id: "int64" } });
  assert.equal(pa.length, 4);
  assert.equal(concat(pa).height, 9);
  pa.forEach((p, i) => assert.deepEqual([...p.getColumn("Id").toArray()].sort(), [...pb[i]!.getColumn("Id").toArray()].sort()));
  assert.deepEqual(pa.map((p) => p.columns), [["Id", "v"], ["Id", "v"], ["Id", "v"], ["Id", "v"]]);
  assert.deepEqual(hashPartition(a.head(0), ["Id"], 3).map((p) => p.height), [0, 0, 0]);
  assert.throws(() => hashPartition(a, ["Id"], 0), /n must be a positive integer/);
});

test("hash partition ids are identical in another process", () => {
  const keys = pl.DataFrame({ k: ["javascript", "java", "c#", "", "tag-59139"], n: [1, 2, 3, 4, 5] });
  const here = [...partitionIds(keys, ["k", "n"], 7).toArray()];
  const code = `import pl from "nodejs-polars"; import { partitionIds } from "./src/dataframe/shuffle.ts";
    const keys = pl.DataFrame({ k: ["javascript", "java", "c#", "", "tag-59139"], n: [1, 2, 3, 4, 5] });
    process.stdout.write(JSON.stringify([...partitionIds(keys, ["k", "n"], 7).toArray()]));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: new URL("../..", import.meta.url).pathname, encoding: "utf8" });
  assert.deepEqual(JSON.parse(out), here);
});

test("joins of keys already in order (merge path) equal joins of shuffled keys (hash path)", () => {
  // many-to-many: runs of equal keys on both sides, gaps, keys only on one side
  const n = 20_000;
  const lk = Array.from({ length: n }, (_, i) => Math.floor(i / 3) * 2);
  const rk = Array.from({ length: 3 * n }, (_, i) => Math.floor(i / 7) + 100);
  const L = pl.DataFrame([pl.Series("k", lk, pl.Int64), pl.Series("a", lk.map((_, i) => i), pl.Int64)]);
  const R = pl.DataFrame([pl.Series("k", rk, pl.Int64), pl.Series("b", rk.map((_, i) => i), pl.Int64)]);
  assert.notEqual(flagSorted(L, "k"), L, "sorted keys are flagged");
  const rev = (d: pl.DataFrame): pl.DataFrame => d.select(pl.all().reverse());
  assert.equal(flagSorted(rev(L), "k").getColumn("k").seriesEqual(rev(L).getColumn("k")), true);
  const canon = (d: pl.DataFrame): Record<string, unknown>[] => d.sort(d.columns, false, true).toRecords();
  for (const how of ["inner", "left", "anti"] as const) {
    const fast = mergePartitions(L, R, { on: "k", how });
    const slow = mergePartitions(rev(L), rev(R), { on: "k", how });
    assert.ok(fast.height > 0, how);
    assert.deepEqual(canon(fast), canon(slow), how);
  }
});

test("flagSorted leaves unsorted, missing-key, text and small columns alone", () => {
  const n = 12_000;
  const up = Array.from({ length: n }, (_, i) => i);
  const swapped = up.slice();
  [swapped[5000], swapped[5001]] = [swapped[5001]!, swapped[5000]!]; // between probes: caught by the full check
  const df = (vals: (number | null)[]): pl.DataFrame => pl.DataFrame([pl.Series("k", vals, pl.Float64)]);
  const sw = df(swapped);
  assert.equal(flagSorted(sw, "k"), sw);
  const withNull = df([null, ...up.slice(1)]);
  assert.equal(flagSorted(withNull, "k"), withNull);
  const small = df(up.slice(0, 100));
  assert.equal(flagSorted(small, "k"), small);
  const text = pl.DataFrame([pl.Series("k", up.map((i) => String(i).padStart(6, "0")))]);
  assert.equal(flagSorted(text, "k"), text);
  const sorted = df(up);
  assert.notEqual(flagSorted(sorted, "k"), sorted);
  assert.deepEqual(flagSorted(sorted, "k").getColumn("k").toArray(), up);
});
