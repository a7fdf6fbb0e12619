import { test } from "node:test";
import assert from "node:assert/strict";
import pl from "nodejs-polars";
import { tableFromIPC } from "apache-arrow";
import { fromIpc, toIpc, serializePartial, deserializePartial } from "../../src/dataframe/ipc.ts";
import { toCsvBytes, toJsonLinesBytes, toParquetBytes } from "../../src/dataframe/writers.ts";
import { readCsvPartition } from "../../src/dataframe/csv.ts";

const df = pl.DataFrame([pl.Series("Id", [1, 2, null], pl.Int64), pl.Series("Tag", ["a,b", null, 'q"t']), pl.Series("x", [1.5, null, -2])]);

test("Arrow IPC round trip, readable by apache-arrow", () => {
  const buf = toIpc(df);
  assert.deepEqual(fromIpc(buf).toRecords(), df.toRecords());
  const t = tableFromIPC(buf);
  assert.equal(t.numRows, 3);
  assert.deepEqual(t.schema.fields.map((f) => f.name), ["Id", "Tag", "x"]);
  assert.equal(fromIpc(toIpc(df.head(0))).height, 0);
});

test("partials with frames inside survive serialisation", () => {
  const p = { n: 3, big: 12345678901234567890n, parts: [df, { inner: df.head(1) }], s: "x" };
  const back = deserializePartial<typeof p>(serializePartial(p));
  assert.equal(back.big, p.big);
  assert.deepEqual((back.parts[0] as pl.DataFrame).toRecords(), df.toRecords());
  assert.deepEqual(((back.parts[1] as { inner: pl.DataFrame }).inner).toRecords(), df.head(1).toRecords());
});

test("CSV writer output reads back through the validating reader", () => {
  const csv = toCsvBytes(df);
  assert.equal(csv.toString(), 'Id,Tag,x\n1,"a,b",1.5\n2,,\n,"q""t",-2.0\n');
  assert.deepEqual(readCsvPartition(csv, { file: "w.csv", header: null }).toRecords(), df.toRecords());
  assert.equal(toCsvBytes(df, { header: false, naRep: "NA" }).toString().split("\n")[1], "2,NA,NA");
});

test("JSON lines and Parquet writers", () => {
  const lines = toJsonLinesBytes(df).toString().trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines, [{ Id: 1, Tag: "a,b", x: 1.5 }, { Id: 2, Tag: null, x: null }, { Id: null, Tag: 'q"t', x: -2 }]);
  assert.equal(toJsonLinesBytes(df.head(0)).length, 0);
  assert.deepEqual(pl.readParquet(toParquetBytes(df)).toRecords(), df.toRecords());
});

test("projection pushdown: undecoded IPC bytes are read only for the projected columns, with the same result", async () => {
  const { evalPlan } = await import("../../src/dataframe/frame-plan.ts");
  const { col } = await import("../../src/dataframe/frame-expr.ts");
  const bytes = toIpc(df, { compression: "lz4" });
  const schema = { Id: "int64", Tag: "utf8", x: "float64" } as const;
  const sel = await evalPlan({ source: { kind: "ipc", data: bytes, schema }, ops: [{ op: "select", exprs: [col("x").node, col("Id").alias("k").node] }] });
  assert.deepEqual(sel.toRecords(), [{ x: 1.5, k: 1 }, { x: null, k: 2 }, { x: -2, k: null }]);
  const dropped = await evalPlan({ source: { kind: "ipc", data: bytes, schema }, ops: [{ op: "drop", columns: ["Tag"] }, { op: "filter", pred: col("x").notNull().node }] });
  assert.deepEqual(dropped.columns, ["Id", "x"]);
  assert.equal(dropped.height, 2);
  await assert.rejects(evalPlan({ source: { kind: "ipc", data: bytes, schema }, ops: [{ op: "select", exprs: [col("nope").node] }] }));
});
