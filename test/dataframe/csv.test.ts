import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { FAST_CHUNK } from "../../src/dataframe/csv-fast.ts";
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

test("too many fields: file, line, the count and where the row overflowed; no dtype hint", () => {
  const e = expectError(() => readCsvPartition(B(HEADER + "1,a,1,2\n2,b,2,3,9,10\n"), { file: "data/q.csv", header: null }),
    { kind: "field-count", line: 3, re: /data\/q\.csv:3, character 9: expected 4 fields, found 6: the row overflows after column 4 'Owner', where field 5 starts\n {2}row: 2,b,2,3,9,10\n/ });
  assert.equal(e.info.position, 9);
  assert.doesNotMatch(e.message, /dtypes|utf8/);
  assert.match(e.message, /a value that contains the delimiter must be quoted/);
  // multi-byte text before the overflow: the position counts characters, not bytes; a quoted delimiter is not a field
  expectError(() => readCsvPartition(B(HEADER + '2,"é, ü",2,3,9\n'), { file: "q.csv", header: null }),
    { kind: "field-count", re: /q\.csv:2, character 14: expected 4 fields, found 5/ });
});

test("invalid UTF-8 names file, line, column and character (the engine alone said none)", () => {
  const bytes = Buffer.concat([B(HEADER + "1,a,1,2\n2,caf"), Buffer.from([0xe9]), B(",2,3\n")]); // Latin-1 "café"
  const e = expectError(() => readCsvPartition(bytes, { file: "latin1.csv", header: null }),
    { kind: "bad-encoding", line: 3, column: 2, columnName: "Name", re: /latin1\.csv:3, column 2 'Name', character 6: invalid UTF-8: byte 0xe9 at byte 33 of the file\n.*\n {2}convert the file to UTF-8/ });
  assert.equal(e.info.byteOffset, HEADER.length + 8);
  // a middle block with a start line, and one without (byte offset; withLine resolves it)
  const mid = Buffer.concat([B("1,a,1,2\n\n2,b,"), Buffer.from([0xc3, 0x28]), B(",3\n")]);
  expectError(() => readCsvPartition(mid, { file: "m.csv", header: ["Id", "Name", "Score", "Owner"], skipHeader: false, startLine: 50 }),
    { kind: "bad-encoding", line: 52, column: 3, columnName: "Score", re: /m\.csv:52, column 3 'Score', character 5: invalid UTF-8: byte 0xc3/ });
  const off = expectError(() => readCsvPartition(mid, { file: "m.csv", header: ["Id", "Name", "Score", "Owner"], skipHeader: false, byteOffset: 1000 }),
    { kind: "bad-encoding", re: /m\.csv \(byte 1009, line 3 of its block\), column 3 'Score'/ });
  assert.equal(off.withLine(50).line, 52);
  // valid multi-byte text is not flagged
  assert.equal(readCsvPartition(B(HEADER + "1,日本語é𝄞,1,2\n"), { file: "ok.csv", header: null }).height, 1);
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

// ---- the scan's fast path (plain lines) and general path (quotes, CR, blank lines, the last line) must agree

const COLS = ["Id", "Name", "Score", "Owner"];
const mid = (extra: Partial<Parameters<typeof readCsvPartition>[1]> = {}) => ({ file: "m.csv", header: COLS, skipHeader: false, startLine: 10, ...extra });

test("plain and quoted lines mixed in one block give the same values and types", () => {
  const text = [
    "1,plain,1,2",
    '2,"with, comma",3,4',
    "3,no quotes here at all,5,6",
    '"4","two\nlines",7,"8"',              // quoted numbers are numbers; a quoted newline
    '5,"say ""hi""",9,10',
    '6,mid"quote,11,12',                    // a quote inside a field is a plain character
    '7,"",13,""',                           // an empty quoted field is missing
    "8,last,15,16",
  ].join("\n") + "\n";
  const s = scanCsv(B(text), mid());
  assert.equal(s.rows, 8);
  assert.deepEqual(s.schema, { Id: "int64", Name: "utf8", Score: "int64", Owner: "int64" });
  const df = readCsvPartition(B(text), mid());
  assert.deepEqual(df.getColumn("Name").toArray(), ["plain", "with, comma", "no quotes here at all", "two\nlines", 'say "hi"', 'mid"quote', null, "last"]);
  assert.deepEqual(df.getColumn("Owner").toArray(), [2, 4, 6, 8, 10, 12, null, 16]);
  // a quoted newline counts as a file line: the bad row below is line 10 + 9
  expectError(() => readCsvPartition(B(text + "9,x,1\n"), mid()), { kind: "field-count", line: 19, re: /m\.csv:19: expected 4 fields, found 3/ });
});

test("CRLF line endings: values, NA in the last column, blank lines, errors", () => {
  const text = "1,a,1.5,7\r\n2,\"b\r\nc\",2,NA\r\n\r\n3,c,3,\r\n4,\"d\",4,\"9\"\r\n";
  const s = scanCsv(B(text), mid({ naValues: ["NA"] }));
  assert.equal(s.rows, 4);
  assert.equal(s.blankLines, 1);
  assert.deepEqual(s.schema, { Id: "int64", Name: "utf8", Score: "float64", Owner: "int64" });
  const df = readCsvPartition(B(text), mid({ naValues: ["NA"] }));
  assert.deepEqual(df.toRecords(), [
    { Id: 1, Name: "a", Score: 1.5, Owner: 7 },
    { Id: 2, Name: "b\r\nc", Score: 2, Owner: null },
    { Id: 3, Name: "c", Score: 3, Owner: null },
    { Id: 4, Name: "d", Score: 4, Owner: 9 },
  ]);
  expectError(() => scanCsv(B("1,a,1,2\r\n2,b,2,3x\r\n"), mid({ dtypes: { Owner: "int64" } })),
    { kind: "bad-value", line: 11, column: 4, re: /cannot parse "3x" as int64\n {2}row: 2,b,2,3x\n/ });
  expectError(() => scanCsv(B("1,a,1,2\r\n2,b,2\r\n"), mid()), { kind: "field-count", line: 11, re: /expected 4 fields, found 3/ });
  // a CR not followed by LF is part of the value
  assert.deepEqual(scanCsv(B("1,a,1,2\r3\n"), mid()).schema, { Id: "int64", Name: "utf8", Score: "int64", Owner: "utf8" });
});

test("NA tokens are compared byte for byte, in every column position", () => {
  const text = "null,NA,null,null\n1,x,NA,2\n-,NA,2,null\n";
  const na = { naValues: ["NA", "null", "-"] };
  assert.deepEqual(scanCsv(B(text), mid(na)).schema, { Id: "int64", Name: "utf8", Score: "int64", Owner: "int64" });
  assert.deepEqual(readCsvPartition(B(text), mid(na)).toRecords(), [
    { Id: null, Name: null, Score: null, Owner: null },
    { Id: 1, Name: "x", Score: null, Owner: 2 },
    { Id: null, Name: null, Score: 2, Owner: null },
  ]);
  // "NAN" and "N" are not the token "NA"; an all-missing column is null
  assert.deepEqual(scanCsv(B("NA,N,NAN,NA\n"), mid({ naValues: ["NA"] })).schema, { Id: "null", Name: "utf8", Score: "float64", Owner: "null" });
  // the default tokens: NA and the empty field; a declared column accepts them
  assert.deepEqual(scanCsv(B("1,,NA,\n"), mid({ dtypes: { Score: "int64", Owner: "float64" } })).schema, { Id: "int64", Name: "null", Score: "null", Owner: "null" });
});

test("a bad number deep in the block is found, with its line and column", () => {
  const rows = Array.from({ length: 5000 }, (_, i) => `${i},name ${i},${i % 7},${i * 3}`);
  rows[4321] = "4321,name,12x,5";
  const text = rows.join("\n") + "\n";
  expectError(() => readCsvPartition(B(text), mid({ dtypes: { Score: "int64" } })),
    { kind: "bad-value", line: 10 + 4321, column: 3, columnName: "Score", re: /m\.csv:4331, column 3 'Score': cannot parse "12x" as int64/ });
  expectError(() => readCsvPartition(B(text.replace("12x", "1.5")), mid({ dtypes: { Score: "int64" } })),
    { kind: "bad-value", line: 4331, column: 3, re: /cannot parse "1.5" as int64/ });
  // undeclared: the column widens instead, over the whole block
  assert.deepEqual(scanCsv(B(text), mid()).schema, { Id: "int64", Name: "utf8", Score: "utf8", Owner: "int64" });
  // a 19-digit value beyond int64 widens to float64
  assert.equal(scanCsv(B(text.replace("12x", "9223372036854775808")), mid()).schema.Score, "float64");
  assert.equal(scanCsv(B(text.replace("12x", "9223372036854775807")), mid()).schema.Score, "int64");
});

test("wrong field count in the last line without a trailing newline", () => {
  expectError(() => scanCsv(B("1,a,1,2\n2,b,2,3\n3,c,3"), mid()), { kind: "field-count", line: 12, re: /m\.csv:12: expected 4 fields, found 3\n {2}row: 3,c,3\n/ });
  expectError(() => scanCsv(B("1,a,1,2\n2,b,2,3\n3,c,3,4,5"), mid()), { kind: "field-count", line: 12, re: /m\.csv:12, character 9: expected 4 fields, found 5/ });
  expectError(() => scanCsv(B("1,a,1,2\n3,c,3,4x"), mid({ dtypes: { Owner: "int64" } })), { kind: "bad-value", line: 11, column: 4, re: /cannot parse "4x"/ });
  expectError(() => scanCsv(B('1,a,1,2\n3,"c,3,4'), mid()), { kind: "bad-quote", line: 11, column: 2, re: /unterminated quoted field/ });
  // well-formed last lines without a newline
  assert.equal(scanCsv(B("1,a,1,2\n3,c,3,4"), mid()).rows, 2);
  assert.equal(scanCsv(B("1,a,1,2\n3,c,3,4\r"), mid()).rows, 2);
  assert.equal(scanCsv(B('1,a,1,2\n3,"c",3,"4"'), mid()).rows, 2);
});

test("long text fields: a delimiter or newline anywhere in them is still seen", () => {
  const long = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (let at = 0; at <= long.length; at++) {
    const extra = long.slice(0, at) + "," + long.slice(at);
    const text = `1,${long},1,2\n2,${extra},2,3\n`;
    expectError(() => scanCsv(B(text), mid()), { kind: "field-count", line: 11, re: /expected 4 fields, found 5/ });
    const short = `1,${long},1,2\n2,${long.slice(0, at)}\n`;
    expectError(() => scanCsv(B(short), mid()), { kind: "field-count", line: 11, re: /expected 4 fields, found 2/ });
  }
  // multi-byte UTF-8 text and a quote inside long text
  const text = `1,${long},1,2\n2,日本語のテキストとé,2,3\n3,${long}"${long},3,4\n`;
  assert.deepEqual(readCsvPartition(B(text), mid()).getColumn("Name").toArray(), [long, "日本語のテキストとé", `${long}"${long}`]);
});

test("quoting errors after plain lines keep their line numbers", () => {
  expectError(() => scanCsv(B('1,a,1,2\n2,"b"x,2,3\n'), mid()), { kind: "bad-quote", line: 11, column: 2, re: /unexpected character after closing quote/ });
  expectError(() => scanCsv(B('1,a,1,2\n2,b,2,"3"\n3,c,3,"4"x\n'), mid()), { kind: "bad-quote", line: 12, column: 4, re: /unexpected character after closing quote/ });
  expectError(() => scanCsv(B('1,"a\n\nb",1,2\n2,"b,2,3\n3,c,3,4\n'), mid()), { kind: "bad-quote", line: 13, column: 2, re: /m\.csv:13, column 2 'Name': unterminated quoted field/ });
});

test("a sample stops at maxRows / maxBytes and ignores a cut line", () => {
  const text = "1,a,1,2\n2,b,2,3\n3,c,3.5,4\n4,\"d\ne\",x,5\n";
  assert.deepEqual(scanCsv(B(text), mid(), { maxRows: 2 }), { rows: 2, schema: { Id: "int64", Name: "utf8", Score: "int64", Owner: "int64" }, dataStart: 0, columns: COLS, blankLines: 0 });
  assert.equal(scanCsv(B(text), mid(), { maxBytes: 20 }).rows, 2);                // cut inside line 3
  assert.equal(scanCsv(B(text), mid(), { maxBytes: text.indexOf("e\"") }).rows, 3); // cut inside a quoted newline
  assert.equal(scanCsv(B(text), mid(), { maxBytes: text.length }).rows, 4);
});

// ---- the fast path works on chunks of whole lines (FAST_CHUNK bytes, csv-fast.ts): lines, quoted
// newlines and errors across chunk boundaries, and a line longer than a chunk

test("blocks of several fast-path chunks: rows, inference, quoted newlines across chunk ends, a line longer than a chunk", () => {
  const lines: string[] = [];
  let expectRows = 0, size = 0;
  for (let i = 0; size < 3.5 * FAST_CHUNK; i++) {
    // every 997th row quotes a name with a newline and a comma; every 1009th has a missing score
    const name = i % 997 === 0 ? `"n\n${i}, x"` : `n${i}`;
    lines.push(`${i},${name},${i % 1009 === 0 ? "NA" : i % 5},${i * 3}`);
    size += lines.at(-1)!.length + 1;
    expectRows++;
    if (i === 40_000) { lines.push(`${i},"${"y".repeat(FAST_CHUNK + 1000)}",1,2`); expectRows++; }
  }
  lines.push(`${expectRows},late,2.5,7`);
  expectRows++;
  const bytes = B(HEADER + lines.join("\n") + "\n");
  assert.ok(bytes.length > 3 * FAST_CHUNK);
  const s = scanCsv(bytes, { file: "big.csv", header: null, naValues: ["NA"] });
  assert.equal(s.rows, expectRows);
  assert.deepEqual(s.schema, { Id: "int64", Name: "utf8", Score: "float64", Owner: "int64" });
  const df = readCsvPartition(bytes, { file: "big.csv", header: null, naValues: ["NA"] });
  assert.equal(df.height, expectRows);
  assert.equal(df.getColumn("Name").get(997), "n\n997, x");
  assert.equal(String(df.getColumn("Name").get(40_001)).length, FAST_CHUNK + 1000);
});

test("an error after several fast-path chunks names its file line", () => {
  const good = Array.from({ length: 300_000 }, (_, i) => `${i},n${i % 7 === 0 ? "\"q\"" : ""},${i},${i}`);
  // quoted-in-the-middle ("n\"q\"") is text to the scan; the bad row comes after ~3 chunks
  for (const [bad, kind, col] of [["300000,n,1", "field-count", undefined], ["300000,n,x1,2", "bad-value", 3]] as const) {
    const bytes = B(HEADER + good.join("\n") + "\n" + bad + "\n" + "300001,n,1,2\n");
    assert.ok(bytes.length > 3 * FAST_CHUNK);
    assert.throws(() => readCsvPartition(bytes, { file: "big.csv", header: null, startLine: 1, dtypes: { Score: "int64" } }), (e: unknown) => {
      assert.ok(e instanceof CsvParseError);
      assert.equal(e.info.kind, kind);
      assert.equal(e.line, 300_002);
      assert.equal(e.info.column, col);
      return true;
    });
  }
});

test("the committed WebAssembly module is the compiled wasm/csv-scan.ts", { skip: !hasAsc() && "assemblyscript (a devDependency) is not installed" }, () => {
  const r = spawnSync(process.execPath, ["scripts/build-wasm.mjs", "--check"], { cwd: new URL("../..", import.meta.url).pathname, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

function hasAsc(): boolean {
  try { createRequire(import.meta.url).resolve("assemblyscript/package.json"); return true; } catch { return false; }
}

test("a chunk of the fast path that ends at a newline inside a quoted field", () => {
  const plain: string[] = [];
  let size = 0;
  for (let i = 0; size < FAST_CHUNK - 200; i++) { plain.push(`${i},n,1,2`); size += plain.at(-1)!.length + 1; }
  // the quoted field's newline is the last one before the first chunk's end; its closing quote is after it
  const head = `${plain.length},"${"a".repeat(FAST_CHUNK - size - 40)}`;
  const quoted = `${head}\n${"b".repeat(300)}",1,2`;
  assert.ok(size + head.length < FAST_CHUNK && size + quoted.length > FAST_CHUNK);
  const bytes = B(HEADER + [...plain, quoted, `${plain.length + 1},c,3,4`].join("\n") + "\n");
  const df = readCsvPartition(bytes, { file: "q.csv", header: null });
  assert.equal(df.height, plain.length + 2);
  assert.equal(df.getColumn("Name").get(plain.length), `${"a".repeat(FAST_CHUNK - size - 40)}\n${"b".repeat(300)}`);
  assert.deepEqual(df.row(plain.length + 1), [plain.length + 1, "c", 3, 4]);
});

test("the fast path (WebAssembly) and the general path (TypeScript) classify every value alike", () => {
  // the last line without a trailing newline goes through the general path; with one, through the fast path
  const tokens = ["1", "-7", "+3", "007", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "12345678901234567890",
    "1.5", "-0.25", ".5", "5.", "1e5", "1E-3", "2.5e+10", "1e", "e5", "-", "+", ".", "NaN", "nan", "inf", "-inf", "+Inf", "Infinity",
    "-infinity", "INFINITY", "true", "False", "TRUE", "tru", "yes", "NA", "", "1,5x", "0x10", " 1", "1 "];
  for (const tok of tokens) {
    const body = tok.includes(",") ? `"${tok}"` : tok;
    const fast = scanCsv(B(`k,a\n1,${body}\n`), { file: "t.csv", header: null, naValues: ["NA"] });
    const general = scanCsv(B(`k,a\n1,${body}`), { file: "t.csv", header: null, naValues: ["NA"] });
    assert.deepEqual(fast.schema, general.schema, `token ${JSON.stringify(tok)}`);
    assert.equal(fast.rows, general.rows, `token ${JSON.stringify(tok)}`);
  }
});
