import { test } from "node:test";
import assert from "node:assert/strict";
import { countNewlines, inferCsvSchema, readCsvHeader, readCsvPartition, scanCsv } from "../../src/dataframe/csv.ts";
import { CsvParseError } from "../../src/dataframe/errors.ts";
import { castToSchema, reconcileSchemas, schemaOf } from "../../src/dataframe/schema.ts";

const B = (s: string): Buffer => Buffer.from(s, "utf8");
const HEADER = "Id,Name,Score,Owner\n";

test("reads a first block with header, NA-aware inference", () => {
  const df = readCsvPartition(B(HEADER + "1,a,1.5,NA\n2,NA,2,7\n3,\"c, d\",NA,8\n"), { file: "f.csv", header: null, naValues: ["NA"] });
  assert.deepEqual(df.columns, ["Id", "Name", "Score", "Owner"]);
  assert.deepEqual(schemaOf(df), { Id: "int64", Name: "utf8", Score: "float64", Owner: "int64" });
  assert.deepEqual(df.toRecords(), [
    { Id: 1, Name: "a", Score: 1.5, Owner: null },
    { Id: 2, Name: null, Score: 2, Owner: 7 },
    { Id: 3, Name: "c, d", Score: null, Owner: 8 },
  ]);
});

test("reads a middle block with given columns; CRLF, quoted newlines, no final newline", () => {
  const df = readCsvPartition(B('4,"x\ny",1,2\r\n5,"say ""hi""",3,4'), { file: "f.csv", header: ["Id", "Name", "Score", "Owner"], skipHeader: false });
  assert.deepEqual(df.toRecords(), [{ Id: 4, Name: "x\ny", Score: 1, Owner: 2 }, { Id: 5, Name: 'say "hi"', Score: 3, Owner: 4 }]);
});

test("whole-block inference never fails: a late float or text widens the column", () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => `${i},n,${i},NA`);
  rows.push("20000,n,2.5,x");
  const bytes = B(HEADER + rows.join("\n") + "\n");
  // a sample sees ints only
  assert.deepEqual(inferCsvSchema(bytes, { file: "f", header: null }, { maxRows: 100 }), { Id: "int64", Name: "utf8", Score: "int64", Owner: "null" });
  const df = readCsvPartition(bytes, { file: "f", header: null });
  assert.deepEqual(schemaOf(df), { Id: "int64", Name: "utf8", Score: "float64", Owner: "utf8" });
  assert.equal(df.height, 20_001);
});

test("empty blocks and header-only blocks give empty frames", () => {
  const a = readCsvPartition(B(HEADER), { file: "f", header: null });
  assert.equal(a.height, 0);
  assert.deepEqual(a.columns, ["Id", "Name", "Score", "Owner"]);
  const b = readCsvPartition(B(""), { file: "f", header: ["a", "b"], skipHeader: false });
  assert.equal(b.height, 0);
});

test("reconcileSchemas widens, castToSchema aligns partitions", () => {
  assert.deepEqual(reconcileSchemas([{ a: "int64", b: "null", c: "int64" }, { a: "float64", b: "int64", c: "utf8" }]),
    { a: "float64", b: "int64", c: "utf8" });
  const p1 = readCsvPartition(B("a,b\n1,NA\n"), { file: "f", header: null });
  const p2 = readCsvPartition(B("a,b\n2.5,7\n"), { file: "f", header: null });
  const target = reconcileSchemas([schemaOf(p1), schemaOf(p2)]);
  assert.deepEqual(target, { a: "float64", b: "int64" });
  assert.deepEqual(castToSchema(p1, target).toRecords(), [{ a: 1, b: null }]);
  assert.deepEqual(schemaOf(castToSchema(p1, target)), target);
  // widenTo at read time
  assert.deepEqual(schemaOf(readCsvPartition(B("a,b\n1,NA\n"), { file: "f", header: null, widenTo: target })), target);
});

test("readCsvHeader and countNewlines", () => {
  assert.deepEqual(readCsvHeader(B('\uFEFFId,"A,B",C\r\n1,2,3\n')), { columns: ["Id", "A,B", "C"], end: 15 });
  assert.equal(countNewlines(B("a\nb\n\nc")), 3);
  assert.throws(() => readCsvHeader(B("a,a\n")), (e: unknown) => e instanceof CsvParseError && /duplicate/.test(e.message));
});

// ---- malformed rows: one test per kind, checking file, line and column

function expectError(fn: () => unknown, check: { kind: string; line?: number; column?: number; columnName?: string; re: RegExp }): CsvParseError {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  assert.ok(caught instanceof CsvParseError, `expected CsvParseError, got ${String(caught)}`);
  const e = caught as CsvParseError;
  assert.equal(e.name, "CsvParseError");
  assert.equal(e.kind, check.kind);
  if (check.line !== undefined) assert.equal(e.line, check.line);
  if (check.column !== undefined) assert.equal(e.column, check.column);
  if (check.columnName !== undefined) assert.equal(e.columnName, check.columnName);
  assert.match(e.message, check.re);
  return e;
}

test("too many fields: file and line in the message", () => {
  expectError(() => readCsvPartition(B(HEADER + "1,a,1,2\n2,b,2,3,9\n"), { file: "data/q.csv", header: null }),
    { kind: "field-count", line: 3, re: /data\/q\.csv:3: expected 4 fields, found more\n {2}row: 2,b,2,3,9/ });
});

test("too few fields: line counted from the block's start line", () => {
  expectError(() => readCsvPartition(B("1,a,1,2\n2,b,2\n"), { file: "q.csv", header: ["Id", "Name", "Score", "Owner"], skipHeader: false, startLine: 101 }),
    { kind: "field-count", line: 102, re: /q\.csv:102: expected 4 fields, found 3/ });
});

test("unparsable number in a declared column names line and column", () => {
  expectError(() => readCsvPartition(B(HEADER + "1,a,1,2\n2,b,3,12x\n"), { file: "q.csv", header: null, dtypes: { Owner: "int64" } }),
    { kind: "bad-value", line: 3, column: 4, columnName: "Owner", re: /q\.csv:3, column 4 'Owner': cannot parse "12x" as int64/ });
  expectError(() => readCsvPartition(B(HEADER + "1,a,abc,2\n"), { file: "q.csv", header: null, dtypes: { Score: "float64" } }),
    { kind: "bad-value", line: 2, column: 3, columnName: "Score", re: /cannot parse "abc" as float64/ });
  // a float in an int64 column is an error too (no silent truncation)
  expectError(() => readCsvPartition(B(HEADER + "1,a,1.5,2\n"), { file: "q.csv", header: null, dtypes: { Score: "int64" } }),
    { kind: "bad-value", column: 3, re: /cannot parse "1.5" as int64/ });
});

test("broken quoting: unterminated quote and text after a closing quote", () => {
  expectError(() => readCsvPartition(B(HEADER + '1,a,1,2\n2,"open,3,4\n3,c,5,6\n'), { file: "q.csv", header: null }),
    { kind: "bad-quote", line: 3, column: 2, columnName: "Name", re: /q\.csv:3, column 2 'Name': unterminated quoted field/ });
  expectError(() => readCsvPartition(B(HEADER + '1,"a"b,1,2\n'), { file: "q.csv", header: null }),
    { kind: "bad-quote", line: 2, column: 2, re: /unexpected character after closing quote/ });
});

test("without a start line the error carries the byte offset; withLine resolves it", () => {
  const prefix = HEADER + "1,a,1,2\n2,b,2,3\n";            // what precedes the block in the file
  const block = "3,c,3,4\n4,d,4\n";
  const e = expectError(() => readCsvPartition(B(block), { file: "q.csv", header: ["Id", "Name", "Score", "Owner"], skipHeader: false, byteOffset: prefix.length }),
    { kind: "field-count", re: /q\.csv \(byte 44, line 2 of its block\)/ });
  assert.equal(e.line, undefined);
  assert.equal(e.info.byteOffset, prefix.length + 8);
  const resolved = e.withLine(countNewlines(B(prefix)) + 1);
  assert.equal(resolved.line, 5);
  assert.match(resolved.message, /q\.csv:5: expected 4 fields, found 3/);
});

test("scanCsv counts rows and skips blank lines as pandas does", () => {
  const r = scanCsv(B("a,b\n1,2\n\n3,4\n"), { file: "f", header: null });
  assert.equal(r.rows, 2);
  assert.equal(readCsvPartition(B("a,b\n1,2\n\n3,4\n"), { file: "f", header: null }).height, 2);
});
