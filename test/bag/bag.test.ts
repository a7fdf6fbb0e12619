// Bag semantics, computed in this process (no client): transformations,
// shuffles, actions, text/JSON-lines sources, writers, sampling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Bag, readJsonLines, readText, BagTaskError } from "../../src/bag/index.ts";
import { FunctionShippingError } from "../../src/code/errors.ts";
import { add, boom, isEven, lengthOf, toPair, words } from "./fns.ts";

const inline = { client: "inline" as const };

function sortPairs<T extends readonly [unknown, unknown]>(xs: T[]): T[] {
  return [...xs].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0));
}

test("fromSequence, map, filter, flatMap, count, collect keep order", async () => {
  const b = Bag.fromSequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { npartitions: 3 });
  assert.equal(await b.npartitions(), 3);
  assert.deepEqual(await b.map((x: number) => x * 10).collect(inline), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  assert.deepEqual(await b.filter(isEven).collect(inline), [2, 4, 6, 8, 10]);
  assert.deepEqual(await b.flatMap((x: number) => [x, x]).count(inline), 20);
  assert.equal(await b.reduce(add, inline), 55);
  assert.equal(await b.fold((acc: number, x: number) => acc + x * x, 0, add, inline), 385);
  assert.equal(await b.sum(inline), 55);
  assert.equal(await b.mean(inline), 5.5);
  assert.equal(await b.max(inline), 10);
  assert.equal(await b.min(inline), 1);
  assert.deepEqual(await b.take(4, inline), [1, 2, 3, 4]);
  assert.deepEqual(await b.topk(3, undefined, inline), [10, 9, 8]);
  assert.deepEqual(await b.topk(2, (x: number) => -x, inline), [1, 2]);
});

test("pluck, mapPartitions, repartition, distinct", async () => {
  const recs = Bag.fromSequence([{ a: 1, b: "x" }, { a: 2, b: "y" }, { a: 1, b: "z" }], { npartitions: 2 });
  assert.deepEqual(await recs.pluck("a").collect(inline), [1, 2, 1]);
  assert.deepEqual(await recs.pluck(["a", "b"]).collect(inline), [[1, "x"], [2, "y"], [1, "z"]]);
  assert.deepEqual(await recs.pluck("c" as never, 0).collect(inline), [0, 0, 0]);
  await assert.rejects(recs.pluck("c" as never).collect(inline), /key "c" is missing/);
  assert.deepEqual(await recs.mapPartitions((xs: unknown[]) => [xs.length]).collect(inline), [2, 1]);
  const nums = Bag.fromSequence([...Array(10).keys()], { npartitions: 3 });
  for (const n of [1, 2, 3, 7]) {
    const r = nums.repartition(n);
    assert.equal(await r.npartitions(), n);
    assert.deepEqual(await r.collect(inline), [...Array(10).keys()]);
  }
  assert.deepEqual((await recs.pluck("a").distinct().collect(inline)).sort(), [1, 2]);
  assert.deepEqual((await recs.distinct((r) => r.a).collect(inline)).length, 2);
});

test("key-value shuffles: frequencies, reduceByKey, groupByKey, groupBy, foldBy, join", async () => {
  const text = Bag.fromSequence(["a b a", "c a b", "d"], { npartitions: 2 }).flatMap(words);
  assert.deepEqual(sortPairs(await text.frequencies({ npartitions: 3 }).collect(inline)), [["a", 3], ["b", 2], ["c", 1], ["d", 1]]);
  assert.deepEqual(sortPairs(await text.map(toPair).reduceByKey(add).collect(inline)), [["a", 3], ["b", 2], ["c", 1], ["d", 1]]);
  const grouped = sortPairs(await text.map(toPair).groupByKey({ npartitions: 1 }).collect(inline));
  assert.deepEqual(grouped, [["a", [1, 1, 1]], ["b", [1, 1]], ["c", [1]], ["d", [1]]]);
  assert.deepEqual(sortPairs((await text.groupBy(lengthOf).collect(inline)).map(([k, v]) => [k, v.length] as const)), [[1, 7]]);
  const folded = await text.foldBy((w: string) => w, (acc: number, w: string) => acc + w.length, { initial: 0, combine: add }).collect(inline);
  assert.deepEqual(sortPairs(folded), [["a", 3], ["b", 2], ["c", 1], ["d", 1]]);
  const left = Bag.fromSequence<[number, string]>([[1, "one"], [2, "two"], [3, "three"]], { npartitions: 2 });
  const right = Bag.fromSequence<[number, string]>([[1, "uno"], [3, "tres"], [3, "drei"], [4, "vier"]], { npartitions: 3 });
  const joined = (await left.join(right).collect(inline)).sort((a, b) => a[0] - b[0] || (a[1][1] < b[1][1] ? -1 : 1));
  assert.deepEqual(joined, [[1, ["one", "uno"]], [3, ["three", "drei"]], [3, ["three", "tres"]]]);
  // composite keys compare by value
  const comp = Bag.fromSequence([[["x", 1], 1], [["x", 1], 2], [["x", 2], 5]] as [[string, number], number][]);
  assert.deepEqual(sortPairs(await comp.reduceByKey(add).collect(inline)).map((p) => p[1]), [3, 5]);
});

test("readText splits files into line-aligned blocks; .gz is transparent; readJsonLines parses", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-bag-"));
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${"x".repeat(i % 17)}`);
  writeFileSync(join(dir, "a.txt"), lines.join("\n") + "\n");
  writeFileSync(join(dir, "b.txt.gz"), gzipSync(lines.slice(0, 10).join("\r\n")));
  for (const blocksize of [100, 1000, null]) {
    assert.deepEqual(await readText(join(dir, "a.txt"), { blocksize }).collect(inline), lines);
  }
  assert.equal(await readText(join(dir, "*.txt*"), { blocksize: 300 }).count(inline), 510);
  assert.deepEqual(await readText(join(dir, "b.txt.gz")).collect(inline), lines.slice(0, 10));
  const recs = Array.from({ length: 50 }, (_, i) => ({ id: i, reviewText: `review ${i}` }));
  writeFileSync(join(dir, "r.json"), recs.map((r) => JSON.stringify(r)).join("\n") + "\n\n");
  assert.deepEqual(await readJsonLines(join(dir, "r.json"), { blocksize: 128 }).pluck("reviewText").collect(inline), recs.map((r) => r.reviewText));
});

test("sample is reproducible and independent of the partitioning", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-bag-"));
  const lines = Array.from({ length: 4000 }, (_, i) => `{"i":${i}}`);
  writeFileSync(join(dir, "s.json"), lines.join("\n") + "\n");
  const a = await readJsonLines(join(dir, "s.json"), { blocksize: 1000 }).sample(0.1, { seed: 7 }).pluck("i").collect(inline);
  const b = await readJsonLines(join(dir, "s.json"), { blocksize: 7777 }).sample(0.1, { seed: 7 }).pluck("i").collect(inline);
  const c = await readJsonLines(join(dir, "s.json"), { blocksize: 1000 }).sample(0.1, { seed: 8 }).pluck("i").collect(inline);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.length > 300 && a.length < 500, `sample size ${a.length}`);
  const s1 = await Bag.fromSequence([...Array(1000).keys()], { npartitions: 3 }).sample(0.5, { seed: 1 }).collect(inline);
  const s2 = await Bag.fromSequence([...Array(1000).keys()], { npartitions: 10 }).sample(0.5, { seed: 1 }).collect(inline);
  assert.deepEqual(s1, s2);
});

test("toTextFiles and toJsonLines write one file per partition", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-bag-"));
  const b = Bag.fromSequence([{ a: 1 }, { a: 2 }, { a: 3 }], { npartitions: 2 });
  const urls = await b.toJsonLines(join(dir, "json"), inline);
  assert.equal(urls.length, 2);
  assert.deepEqual(readdirSync(join(dir, "json")).sort(), ["_SUCCESS", "part-00000", "part-00001"]); // _temporary/ removed
  const back = await readJsonLines(join(dir, "json/part-*")).collect(inline);
  assert.deepEqual(back, [{ a: 1 }, { a: 2 }, { a: 3 }]);
  assert.deepEqual(await readJsonLines(join(dir, "json/")).collect(inline), back); // the directory read skips _SUCCESS
  await b.pluck("a").toTextFiles(join(dir, "t-*.txt.gz"), inline);
  assert.deepEqual(await readText(join(dir, "t-*.txt.gz")).collect(inline), ["1", "2", "3"]);
  assert.equal(readFileSync(join(dir, "json/part-00001"), "utf8"), '{"a":3}\n');
});

test("errors: closures are refused at the call; user exceptions name the function and partition", async () => {
  const factor = 3;
  assert.throws(() => Bag.fromSequence([1]).map((x: number) => x * factor), FunctionShippingError);
  await assert.rejects(Bag.fromSequence([...Array(10).keys()], { npartitions: 2 }).map(boom).collect(inline), (err: unknown) => {
    assert.ok(err instanceof BagTaskError);
    assert.match(err.message, /map function 'boom' failed on partition 1: RangeError: seven is not allowed/);
    return true;
  });
  await assert.rejects(readJsonLines("memory://nope/missing.json").count(inline), /not found|NotFound|no such/i);
});
