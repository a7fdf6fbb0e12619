// A numeric column that one bad value deep in a file turned into text says so
// when a numeric operation then fails (issue 25, item 9.4): the error names
// the column, the value, the file and the line, and how to fix it — on the
// partition engine in this process, and through a cluster whose workers read
// the blocks (the note travels in the error record).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pl from "nodejs-polars";
import { Client, col, readCsv, setDefaultClient } from "../../src/index.ts";
import { firstNonNumber } from "../../src/dataframe/csv.ts";
import { ExpressionTypeError } from "../../src/dataframe/errors.ts";
import { evalPlan } from "../../src/dataframe/frame-plan.ts";
import { reducePartition } from "../../src/dataframe/frame-tasks.ts";
import { groupByPartial } from "../../src/dataframe/groupby.ts";
import { reductions } from "../../src/dataframe/reductions.ts";
import { explainTextColumn } from "../../src/dataframe/text-notes.ts";

let dir: string;
/** `rows` data rows `Id,Score,Title`; Score is `bad` on data row `at` (0-based), an integer elsewhere. Returns the path. */
function scoreFile(name: string, rows: number, at: number, bad: string, first?: string): string {
  let s = "Id,Score,Title\n";
  for (let i = 0; i < rows; i++) s += `${i},${i === at ? bad : i === 0 && first !== undefined ? first : i % 50},t${i}\n`;
  const p = join(dir, name);
  writeFileSync(p, s);
  return p;
}
/** The file line of data row `i` (the header is line 1). */
const lineOf = (i: number): number => i + 2;

before(() => { dir = mkdtempSync(join(tmpdir(), "shoal-textcol-")); });
after(() => rmSync(dir, { recursive: true, force: true }));

function noteOf(e: unknown): { value: string; file: string; line?: number } | undefined {
  return e instanceof ExpressionTypeError ? e.info.readAsText : undefined;
}

test("firstNonNumber: the first value that is not a number, its line, and whether numbers came before", () => {
  const bytes = Buffer.from("a,b\n1,x\nNA,y\n2.5,z\n12x,w\n7,v\n");
  assert.deepEqual(firstNonNumber(bytes, { file: "f.csv", header: null, naValues: ["NA"] }, "a"), { value: "12x", line: 5, lineInBlock: 5, numbersBefore: true });
  assert.deepEqual(firstNonNumber(bytes, { file: "f.csv", header: null }, "b"), { value: "x", line: 2, lineInBlock: 2, numbersBefore: false });
  assert.equal(firstNonNumber(Buffer.from("a\n1\n2\n"), { file: "f.csv", header: null }, "a"), null);
  // quoted values are unquoted; a block past the file start knows only its own line
  const mid = firstNonNumber(Buffer.from('3,"1"\n4,"n/a"\n'), { file: "f.csv", header: ["a", "b"], byteOffset: 100, skipHeader: false }, "b");
  assert.deepEqual(mid, { value: "n/a", line: undefined, lineInBlock: 2, numbersBefore: true });
});

test("local: a bad value past the sample makes its block's column text; sum, mean, median, gt, add and groupBy say why, with file and line", async () => {
  const rows = 60_000, at = 55_555;
  const path = scoreFile("deep.csv", rows, at, "12x");
  const df = await readCsv(path, { blocksize: 256 * 1024 });
  assert.equal(df.schema.Score, "int64", "the sample (first 1 MiB) sees only integers");
  const plans = df.plans;
  let hit = 0;
  for (const plan of plans) {
    try {
      await reducePartition(plan, [{ name: "sum", column: "Score" }]);
      continue;
    } catch (e) {
      hit++;
      assert.ok(e instanceof ExpressionTypeError, String(e));
      assert.equal(e.column, "Score");
      const { lineInBlock, ...note } = e.info.readAsText!;
      assert.deepEqual(note, { column: "Score", value: "12x", file: path, line: lineOf(at), blockStart: (plan.source as { start: number }).start });
      assert.ok(lineInBlock > 0 && lineInBlock < lineOf(at), "the line inside the block, resolved to the file line");
      assert.match(e.message, /^sum needs a numeric column, but 'Score' is utf8 \(text\)/);
      assert.ok(e.message.includes(`'Score' was read as text because of the value "12x" at ${path}:${lineOf(at)}`), e.message);
      assert.match(e.message, /naValues/);
      assert.match(e.message, /dtypes: \{ "Score": "float64" \}/);
      assert.match(e.message, /cast\("float64", \{ strict: false \}\)/);
    }
    // the row-wise operations and the other reductions of that block say the same
    const bad = plan;
    await assert.rejects(reducePartition(bad, [{ name: "mean", column: "Score" }]), (e: unknown) => noteOf(e)?.line === lineOf(at));
    await assert.rejects(reducePartition(bad, [{ name: "median", column: "Score" }]), (e: unknown) => noteOf(e)?.line === lineOf(at));
    await assert.rejects(evalPlan({ ...bad, ops: [{ op: "filter", pred: col("Score").gt(3).node }] }),
      (e: unknown) => e instanceof ExpressionTypeError && /^gt needs numbers, but 'Score' is utf8/.test(e.message) && noteOf(e)?.value === "12x");
    await assert.rejects(evalPlan({ ...bad, ops: [{ op: "with", exprs: [col("Score").add(1).alias("s").node] }] }), (e: unknown) => noteOf(e)?.line === lineOf(at));
    await assert.rejects(evalPlan({ ...bad, ops: [{ op: "with", exprs: [col("Score").cast("int64").alias("s").node] }] }),
      (e: unknown) => e instanceof ExpressionTypeError && /cannot cast column 'Score'/.test(e.message) && noteOf(e)?.line === lineOf(at));
    const frame = await evalPlan(bad);
    assert.throws(() => groupByPartial(frame, ["Title"], { s: ["Score", "sum"] }), (e: unknown) => noteOf(e)?.line === lineOf(at));
  }
  assert.equal(hit, 1, "exactly the block holding the bad value fails");
  // a strict-free cast is the fix the message offers
  const fixed = await evalPlan({ ...plans[plans.length - 1]!, ops: [{ op: "with", exprs: [col("Score").cast("float64", { strict: false }).alias("Score").node] }] });
  assert.equal(fixed.getColumn("Score").dtype.toString(), pl.Float64.toString());
});

test("local: a bad value inside the sample makes the whole column text; the note comes from readCsv's sample", async () => {
  const path = scoreFile("early.csv", 3_000, 2_500, "n/a");
  const df = await readCsv(path, { blocksize: 16 * 1024 });
  assert.equal(df.schema.Score, "utf8");
  const src = df.plans[0]!.source as { notes?: Record<string, { value: string; line?: number }> };
  assert.deepEqual(src.notes?.Score, { column: "Score", value: "n/a", file: path, line: lineOf(2_500), lineInBlock: lineOf(2_500), blockStart: 0 });
  assert.equal(src.notes?.Title, undefined, "a column of plain text gets no note");
  // a row-wise operation or a group-by fails as the frame is built, on the client, with the same note
  assert.throws(() => df.filter(col("Score").gt(3)), (e: unknown) => e instanceof ExpressionTypeError && /^gt needs numbers/.test(e.message) && noteOf(e)?.line === lineOf(2_500));
  assert.throws(() => df.groupBy("Title").agg({ m: ["Score", "mean"] }), (e: unknown) => noteOf(e)?.value === "n/a");
  // every block fails, also those without the bad value, naming the same line
  for (const plan of [df.plans[0]!, df.plans[df.plans.length - 1]!]) {
    await assert.rejects(reducePartition(plan, [{ name: "sum", column: "Score" }]), (e: unknown) => noteOf(e)?.line === lineOf(2_500) && noteOf(e)?.value === "n/a");
  }
});

test("local: without a read-time note the error counts the partition's numbers and names the first value that is not one", () => {
  const frame = pl.DataFrame({ Score: ["n/a", "1", "2", null, "3"] });
  assert.throws(() => reductions.sum("Score").map(frame), (e: unknown) => {
    assert.ok(e instanceof ExpressionTypeError);
    assert.equal(e.info.readAsText, undefined);
    assert.deepEqual(e.info.numbers, { numeric: 3, values: 4, first: "n/a", row: 0 });
    assert.match(e.message, /3 of the 4 values of 'Score' in this partition are numbers; the first that is not is "n\/a" \(row 0 of the partition\)/);
    return true;
  });
  // a column of plain text: nothing to explain
  const text = pl.DataFrame({ Title: ["a", "b"] });
  assert.throws(() => reductions.mean("Title").map(text), (e: unknown) => e instanceof ExpressionTypeError && e.info.numbers === undefined && !/\n/.test(e.message));
  // other errors pass through unchanged
  const other = new Error("x");
  assert.equal(explainTextColumn(other, frame), other);
});

let client: Client;
test("cluster: the workers read the blocks; the client's error names the value, file and line", async () => {
  client = await Client.connect({ cluster: { nworkers: 2, nthreads: 1, dashboard: false } });
  setDefaultClient(client);
  try {
    const rows = 60_000, at = 41_234;
    const path = scoreFile("cluster.csv", rows, at, "12x");
    const df = await readCsv(path, { blocksize: 200 * 1024 });
    assert.equal(df.schema.Score, "int64");
    const where = `'Score' was read as text because of the value "12x" at ${path}:${lineOf(at)}`;
    for (const action of [() => df.sum("Score").compute(), () => df.mean("Score").compute(), () => df.filter(col("Score").gt(3)).len().compute(),
      () => df.groupBy("Title").agg({ m: ["Score", "mean"] }).collect()]) {
      await assert.rejects(action(), (e: Error & { remoteName?: string; data?: { info?: unknown } }) => {
        assert.equal(e.remoteName, "ExpressionTypeError", e.message);
        assert.ok(e.message.includes(where), e.message);
        const info = typeof e.data?.info === "string" ? JSON.parse(e.data.info) : e.data?.info;
        assert.deepEqual({ value: info.readAsText.value, line: info.readAsText.line, file: info.readAsText.file }, { value: "12x", line: lineOf(at), file: path });
        return true;
      });
    }
    // the fix the message offers works
    const n = await df.withColumns(col("Score").cast("float64", { strict: false }).alias("Score")).count("Score").compute();
    assert.equal(n, rows - 1);
  } finally {
    setDefaultClient(null);
    await client.close();
  }
});
