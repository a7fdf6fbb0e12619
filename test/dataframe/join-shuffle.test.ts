import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import pl from "nodejs-polars";
import { mergePartitions } from "../../src/dataframe/join.ts";
import { hashPartition, partitionIds, concat } from "../../src/dataframe/shuffle.ts";

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
