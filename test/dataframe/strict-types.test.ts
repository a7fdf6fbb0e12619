// No silent nulls (issue 25, item 3): an invalid cast raises with the
// column, the first bad value and its row unless `strict: false`; a string
// or date-text operation on a non-text column is a type error naming it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { Client, col, fromRecords, setDefaultClient } from "../../src/index.ts";
import { compileExpr } from "../../src/dataframe/frame-expr.ts";
import { ExpressionTypeError } from "../../src/dataframe/errors.ts";

const frame = pl.DataFrame({ Name: ["1", "2", "abc", null, "x"], n: pl.Series("n", [1, 2, 3, 4, 5], pl.Int64), f: [1.5, 2, Number.NaN, 4, 5], cat: ["a", "b", "a", "b", "a"] }).withColumns(pl.col("cat").cast(pl.Categorical));
const run = (e: ReturnType<typeof col>): unknown[] => frame.select(compileExpr(e.node, frame).alias("out")).getColumn("out").toArray();

test("an invalid cast of text names the column, the first bad value and its row", () => {
  assert.throws(
    () => run(col("Name").cast("int64")),
    (e: unknown) => {
      assert.ok(e instanceof ExpressionTypeError);
      assert.equal(e.column, "Name");
      assert.equal(e.info.value, "abc");
      assert.equal(e.info.row, 2);
      assert.equal(e.info.count, 2);
      assert.match(e.message, /cannot cast column 'Name' from utf8 to int64: "abc" at row 2/);
      assert.match(e.message, /strict: false/);
      return true;
    },
  );
  // nulls are not failures, and strict: false keeps the lenient behaviour
  assert.deepEqual(run(col("Name").cast("int64", { strict: false })).map((v) => (v === null ? null : Number(v))), [1, 2, null, null, null]);
  assert.deepEqual(run(col("Name").str.slice(0, 1).cast("utf8")), ["1", "2", "a", null, "x"]);
});

test("NaN to int64 is a failed cast; valid casts pass unchecked or checked", () => {
  assert.throws(() => run(col("f").cast("int64")), (e: unknown) => e instanceof ExpressionTypeError && e.info.row === 2 && /NaN|null/.test(String(e.info.value)));
  assert.deepEqual(run(col("n").cast("float64")), [1, 2, 3, 4, 5]);
  assert.deepEqual(run(col("n").cast("utf8")), ["1", "2", "3", "4", "5"]);
  assert.deepEqual(run(col("f").cast("int64", { strict: false })).map((v) => (v === null ? null : Number(v))), [1, 2, null, 4, 5]);
});

test("a string method on a non-text column is a type error naming the column; categorical text is text", () => {
  assert.throws(() => run(col("n").str.lower()), (e: unknown) => e instanceof ExpressionTypeError && e.column === "n" && /str\.lower needs a text column, but 'n' is int64/.test(e.message));
  assert.throws(() => run(col("f").mul(2).alias("twice").str.len()), (e: unknown) => e instanceof ExpressionTypeError && /'twice' is float64/.test((e as Error).message));
  assert.throws(() => run(col("n").dt.year()), (e: unknown) => e instanceof ExpressionTypeError && /dt\.year/.test((e as Error).message));
  assert.deepEqual(run(col("cat").str.upper()), ["A", "B", "A", "B", "A"]);
  assert.deepEqual(run(col("n").cast("utf8").str.len()).map(Number), [1, 1, 1, 1, 1]);
});

let client: Client;
before(async () => {
  client = await Client.connect({ cluster: { nworkers: 1, dashboard: false } });
  setDefaultClient(client);
});
after(async () => {
  setDefaultClient(null);
  await client.close();
});

test("on the cluster the task fails with the same message, not an all-null column", async () => {
  const df = fromRecords([{ Name: "ann", Id: "1" }, { Name: "bob", Id: "2" }], { npartitions: 2 });
  await assert.rejects(df.withColumns(col("Name").cast("int64").alias("x")).collect(), (e: Error) => /cannot cast column 'Name' from utf8 to int64: "(ann|bob)" at row 0/.test(e.message));
  const ok = await df.withColumns(col("Id").cast("int64").alias("i")).collect();
  assert.deepEqual(ok.getColumn("i").toArray().map(Number).sort(), [1, 2]);
});
