// MRJob semantics on the inline runner: word count against the Unix
// reference, multi-step jobs, protocols, hooks, counters, options, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runJob } from "../../src/mapreduce/runner.ts";
import { MapReduceTaskError } from "../../src/mapreduce/errors.ts";
import { referenceCounts, writeText } from "../bag/gen.ts";
import { Failing, FoldKeys, LongLines, MostUsedWord, WordCount, WordCountFold, WordCountNoCombiner } from "./jobs.ts";

const dir = mkdtempSync(join(tmpdir(), "shoal-mr-"));
const files = [0, 1].map((i) => join(dir, `in${i}.txt`));
files.forEach((f, i) => writeText(f, 2500, 10 + i));
const ref = referenceCounts(files);

function parseJsonOutput(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [k, v] = line.split("\t");
    m.set(JSON.parse(k!), JSON.parse(v!));
  }
  return m;
}

function sorted(m: Map<string, number>): [string, number][] {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

test("word count (with combiner, several reducers, small splits) equals the Unix reference", async () => {
  const out = join(dir, "wc");
  const r = await runJob(WordCount, { inputs: files, output: out, reducers: 3, blocksize: 16_000 });
  assert.deepEqual(readdirSync(out).sort(), ["_SUCCESS", "part-00000", "part-00001", "part-00002"]);
  const text = [0, 1, 2].map((i) => readFileSync(join(out, `part-0000${i}`), "utf8")).join("");
  assert.deepEqual(sorted(parseJsonOutput(text)), sorted(ref));
  assert.equal(r.counters["wc"]!["lines"], 5000);
  assert.equal(r.records.in, 5000);
  // keys within each part are in byte order
  for (const i of [0, 1, 2]) {
    const keys = readFileSync(join(out, `part-0000${i}`), "utf8").split("\n").filter(Boolean).map((l) => Buffer.from(l.split("\t")[0]!));
    for (let j = 1; j < keys.length; j++) assert.ok(Buffer.compare(keys[j - 1]!, keys[j]!) < 0);
  }
});

test("fold combiners (sumValues, foldValues) equal the reference, with string, number, array and null keys", async () => {
  const r = await runJob(WordCountFold, { inputs: files, reducers: 2, blocksize: 16_000 });
  assert.deepEqual(sorted(parseJsonOutput(r.output!)), sorted(ref));
  const f = await runJob(FoldKeys, { inputs: files, reducers: 2, blocksize: 16_000 });
  const got = new Map(f.output!.split("\n").filter(Boolean).map((l) => l.split("\t") as [string, string]));
  const byLen = new Map<number, number>();
  const byPair = new Map<string, number>();
  let min = 0;
  for (const [w, n] of ref) {
    byLen.set(w.length, (byLen.get(w.length) ?? 0) + n);
    const k = JSON.stringify([w[0], w.length % 3]);
    byPair.set(k, (byPair.get(k) ?? 0) + n * w.length);
    min = Math.min(min, -w.length);
  }
  assert.equal(got.size, byLen.size + byPair.size + 1);
  for (const [len, n] of byLen) assert.equal(got.get(String(len)), String(n));
  for (const [k, n] of byPair) assert.equal(got.get(k), String(n));
  assert.equal(got.get("null"), String(min));
});

test("no combiner, array-returning mapper, async reducer, raw output protocol, stdout output", async () => {
  const r = await runJob(WordCountNoCombiner, { inputs: files, reducers: 2 });
  const m = new Map<string, number>();
  for (const line of r.output!.split("\n").filter(Boolean)) {
    const t = line.lastIndexOf("\t");
    m.set(line.slice(0, t), Number(line.slice(t + 1)));
  }
  assert.deepEqual(sorted(m), sorted(ref));
});

test("two-step most used word (seed 001)", async () => {
  writeFileSync(join(dir, "cats.txt"), "the cat sat\nthe cat and the bat\nThe end\n");
  const r = await runJob(MostUsedWord, { inputs: [join(dir, "cats.txt")] });
  assert.equal(r.output, '4\t"the"\n');
  assert.equal(r.steps, 2);
});

test("mapper hooks, counters and passthrough options; mapper-only job writes one part per split", async () => {
  writeFileSync(join(dir, "ll.txt"), ["short", "a much longer line", "tiny", "another long line!"].join("\n") + "\n");
  const r = await runJob(LongLines, { inputs: [join(dir, "ll.txt")], options: { "min-length": 12 } });
  assert.equal(r.output, '"a much longer line"\n"another long line!"\n"seen:4"\n');
  assert.deepEqual(r.counters, { lines: { long: 2, short: 2 } });
  const out = join(dir, "ll-out");
  await runJob(LongLines, { inputs: [join(dir, "ll.txt")], output: out, blocksize: 20 });
  assert.ok(readdirSync(out).filter((f) => f.startsWith("part-")).length >= 2);
});

test("a mapper that throws fails the job, naming the step, phase and split", async () => {
  writeFileSync(join(dir, "bad.txt"), "ok\nfine\nBOOM here\n");
  await assert.rejects(runJob(Failing, { inputs: [join(dir, "bad.txt")] }), (err: unknown) => {
    assert.ok(err instanceof MapReduceTaskError);
    assert.equal(err.phase, "mapper");
    assert.match(err.message, /step 1 mapper failed on .*bad\.txt:0-\d+: Error: bad record: BOOM here/);
    return true;
  });
});
