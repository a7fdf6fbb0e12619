// The examples run end to end (inline runner / in-process Bag, small data).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runJob } from "../../src/mapreduce/runner.ts";
import { Bag } from "../../src/bag/bag.ts";
import { MRWordFreqCount } from "../../examples/wordcount.ts";
import { MRMostUsedWord } from "../../examples/most-used-word.ts";
import { parallelWordCount, sequentialWordCount } from "../../examples/parallel-wordcount.ts";
import { reviewText } from "../../examples/sample-reviews.ts";

const dir = mkdtempSync(join(tmpdir(), "shoal-examples-"));
writeFileSync(join(dir, "a.txt"), "The cat sat on the mat.\nThe dog's bone\n");
writeFileSync(join(dir, "b.txt"), "the end, THE END\n");

test("wordcount and most-used-word (seed 001)", async () => {
  const r = await runJob(MRWordFreqCount, { inputs: [join(dir, "*.txt")] });
  const counts = Object.fromEntries(r.output!.trim().split("\n").map((l) => l.split("\t").map((x) => JSON.parse(x)) as [string, number]));
  assert.deepEqual(counts, { the: 5, cat: 1, sat: 1, on: 1, mat: 1, "dog's": 1, bone: 1, end: 2 });
  assert.equal(r.counters["wordcount"]!["lines"], 3);
  const m = await runJob(MRMostUsedWord, { inputs: [join(dir, "*.txt")] });
  assert.equal(m.output, '5\t"the"\n');
});

test("parallel word count over many files (seed 002)", async () => {
  const files = [join(dir, "a.txt"), join(dir, "b.txt")];
  assert.equal(await sequentialWordCount(files), 13);
  assert.equal(await parallelWordCount(files), 13);
});

test("reproducible 10% sample of reviews, extracting reviewText (seed 000)", async () => {
  const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: i, reviewText: `text\n${i}` }));
  writeFileSync(join(dir, "reviews.json"), lines.join("\n") + "\n");
  const pick = (blocksize: number) => Bag.readJsonLines<{ reviewText: string }>(join(dir, "reviews.json"), { blocksize }).sample(0.1, { seed: 42 }).map(reviewText);
  const a = await pick(5000).collect({ client: "inline" });
  assert.deepEqual(await pick(50_000).collect({ client: "inline" }), a);
  assert.ok(a.length > 220 && a.length < 380, String(a.length));
  assert.match(a[0]!, /^text \d+$/);
  await pick(5000).toTextFiles(join(dir, "vid"), { client: "inline" });
  const written = readdirSync(join(dir, "vid")).sort().map((f) => readFileSync(join(dir, "vid", f), "utf8")).join("");
  assert.equal(written, a.join("\n") + "\n");
});
