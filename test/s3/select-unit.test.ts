/**
 * S3 Select without sockets: the parser (with error positions), the
 * evaluator, the CSV/JSON readers fed in awkward chunk sizes, ScanRange's
 * record-boundary rules, the event-stream framing and timestamps.
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { describe, it } from "node:test";
import { compileQuery } from "../../src/s3/select/compile.ts";
import { fromPath, SelectEngine } from "../../src/s3/select/engine.ts";
import { SelectError } from "../../src/s3/select/errors.ts";
import { decodeMessages, encodeMessage, recordsEvent } from "../../src/s3/select/event-stream.ts";
import { parseQuery } from "../../src/s3/select/parser.ts";
import { CsvReader, JsonDocumentReader } from "../../src/s3/select/readers.ts";
import type { CsvInput, SelectRequest } from "../../src/s3/select/request.ts";
import { RangeCutter, resolveScanRange } from "../../src/s3/select/scan-range.ts";
import { dateAdd, dateDiff, formatTimestamp, Timestamp } from "../../src/s3/select/timestamp.ts";
import { toText } from "../../src/s3/select/values.ts";

const CSV: CsvInput = { fileHeaderInfo: "NONE", recordDelimiter: "\n", fieldDelimiter: ",", quoteCharacter: '"', quoteEscapeCharacter: '"', comments: "#", allowQuotedRecordDelimiter: false };
const NOW = new Timestamp(Date.UTC(2026, 0, 2, 3, 4, 5));

function request(sql: string, over: Partial<SelectRequest> = {}, csv: Partial<CsvInput> = {}): SelectRequest {
  return {
    expression: sql,
    query: parseQuery(sql),
    input: { kind: "csv", csv: { ...CSV, ...csv } },
    compression: "NONE",
    output: { kind: "csv", recordDelimiter: "\n", fieldDelimiter: ",", quoteCharacter: '"', quoteEscapeCharacter: '"', quoteFields: "ASNEEDED" },
    progress: false,
    scanRange: undefined,
    ...over,
  };
}

/** Runs a query over text fed in pieces of `step` characters. */
function select(sql: string, text: string, opts: { over?: Partial<SelectRequest>; csv?: Partial<CsvInput>; step?: number } = {}): string {
  const e = new SelectEngine(request(sql, opts.over, opts.csv));
  const step = opts.step ?? 7;
  let out = "";
  for (let i = 0; i < text.length; i += step) out += e.feed(text.slice(i, i + step), false).out;
  return out + e.feed("", true).out;
}

function value(expr: string, row: string[] = []): string {
  const c = compileQuery(parseQuery(`SELECT ${expr} FROM S3Object`), { format: "csv" }, NOW);
  return toText(c.project![0]!(row));
}

function selectError(fn: () => unknown): SelectError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SelectError, `expected a SelectError, got ${String(e)}`);
    return e;
  }
  throw new Error("expected an error");
}

const VALID = [
  "SELECT s._1 , CAST ( s._2 AS INT ) + 1 FROM S3Object s WHERE s._1 LIKE 'a%' AND s._2 IS NOT NULL LIMIT 3",
  "SELECT COUNT ( * ) , SUM ( CAST ( _2 AS FLOAT ) ) FROM S3Object WHERE _1 BETWEEN 'a' AND 'z'",
  "SELECT CASE WHEN _1 = 'x' THEN 1 ELSE 2 END , SUBSTRING ( _1 FROM 1 FOR 2 ) FROM S3Object",
  "SELECT TRIM ( LEADING 'x' FROM _1 ) AS t , t || 'y' FROM S3Object WHERE _2 IN ( 1 , 2 , 3 )",
  "SELECT EXTRACT ( YEAR FROM TO_TIMESTAMP ( _1 ) ) , DATE_ADD ( day , 1 , UTCNOW ( ) ) FROM S3Object",
];

describe("S3 Select parser", () => {
  it("parses the dialect: paths, aliases, S3Object[*].path, SQL-92 SUBSTRING and TRIM", () => {
    const q = parseQuery("SELECT s.a[0].b AS x, s._1, SUBSTRING(s.n FROM 2 FOR 3), TRIM(LEADING 'x' FROM s.n) FROM S3Object[*].items[*] AS s WHERE s.n IS NOT MISSING LIMIT 3;");
    assert.equal(q.limit, 3);
    assert.equal(q.from.alias, "s");
    assert.deepEqual(q.from.steps, [{ kind: "wildcard" }, { kind: "name", name: "items", quoted: false }, { kind: "wildcard" }]);
    assert.ok(q.items !== "star");
    assert.equal(q.items[0]!.alias, "x");
    assert.equal(q.items[2]!.expr.k, "call");
    assert.equal(q.items[3]!.expr.k, "trim");
  });

  it("reports the line and column of a syntax error", () => {
    const e = selectError(() => parseQuery("SELECT _1\nFROM S3Object\nWHERE _1 = = 2"));
    assert.equal(e.code, "ParseExpectedExpression");
    assert.deepEqual([e.position?.line, e.position?.column], [3, 12]);
    assert.match(e.message, /line 3, column 12/);
    assert.equal(selectError(() => parseQuery("SELECT _1 FROM S3Object WHERE _1 LIKE 'a' LIKE 'b'")).code, "ParseUnsupportedSyntax");
    assert.equal(selectError(() => parseQuery("SELECT _1 FROM Table1")).code, "InvalidDataSource");
    assert.equal(selectError(() => parseQuery("SELECT CAST(_1 AS BLOB) FROM S3Object")).code, "ParseInvalidTypeParam");
    assert.equal(selectError(() => parseQuery("SELECT 'abc FROM S3Object")).code, "ParseUnexpectedToken");
  });

  it("answers any token soup with a SelectError, never another exception", () => {
    const toks = ["SELECT", "FROM", "S3Object", "s", "WHERE", "LIMIT", "AS", "(", ")", ",", ".", "[", "]", "*", "+", "-", "/", "%", "||", "=", "<>", "<", ">=",
      "AND", "OR", "NOT", "LIKE", "ESCAPE", "BETWEEN", "IN", "IS", "NULL", "MISSING", "TRUE", "CAST", "INT", "CASE", "WHEN", "THEN", "ELSE", "END",
      "SUBSTRING", "TRIM", "LEADING", "EXTRACT", "YEAR", "DATE_ADD", "COUNT", "SUM", "_1", "s._2", "'a'", "\"q\"", "1", "2.5", "[*]", ";", "'", "\"", "@"];
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      let words: string[];
      if (rnd(2) === 0) {
        const head = rnd(3) === 0 ? [] : ["SELECT"];
        const body = Array.from({ length: 1 + rnd(14) }, () => toks[rnd(toks.length)]!);
        words = [...head, ...body, ...(rnd(2) ? ["FROM", "S3Object", "s"] : []), ...Array.from({ length: rnd(6) }, () => toks[rnd(toks.length)]!)];
      } else {
        // a valid query with one or two tokens replaced, dropped or added
        words = VALID[rnd(VALID.length)]!.split(" ");
        for (let m = 0; m < 1 + rnd(2); m++) {
          const at = rnd(words.length);
          const op = rnd(3);
          if (op === 0) words[at] = toks[rnd(toks.length)]!;
          else if (op === 1) words.splice(at, 1);
          else words.splice(at, 0, toks[rnd(toks.length)]!);
        }
      }
      const sql = words.join(" ");
      try {
        const c = compileQuery(parseQuery(sql), { format: "csv" }, NOW);
        parsed++;
        for (const row of [["1", "x"], [], ["abc"]]) {
          try {
            c.where?.(row);
            c.project?.forEach((f) => f(row));
          } catch (e) {
            if (!(e instanceof SelectError)) throw new Error(`${sql} on ${JSON.stringify(row)}: ${String(e)}`);
          }
        }
      } catch (e) {
        if (!(e instanceof SelectError)) throw new Error(`${sql}: ${String(e)}`);
      }
    }
    assert.ok(parsed > 0);
  });

  it("rejects unknown functions, aggregates in WHERE and cyclic aliases when compiling", () => {
    const compile = (sql: string): unknown => compileQuery(parseQuery(sql), { format: "csv" }, NOW);
    assert.equal(selectError(() => compile("SELECT nope(_1) FROM S3Object")).code, "UnsupportedFunction");
    assert.equal(selectError(() => compile("SELECT _1 FROM S3Object WHERE COUNT(*) > 1")).code, "UnsupportedSqlOperation");
    assert.equal(selectError(() => compile("SELECT _1, COUNT(*) FROM S3Object")).code, "UnsupportedSqlOperation");
    const cyc = selectError(() => compile("SELECT _1 AS a, b + 1 AS c, c + 1 AS b FROM S3Object"));
    assert.equal(cyc.code, "CyclicAliasReference");
  });
});

describe("S3 Select evaluator", () => {
  it("keeps CSV values strings until CAST, with INT and FLOAT arithmetic", () => {
    assert.equal(value("7 / 2"), "3");
    assert.equal(value("7.0 / 2"), "3.5");
    assert.equal(value("CAST(_1 AS INT) * 2 + 1", ["20"]), "41");
    assert.equal(value("CAST(_1 AS FLOAT) / 4", ["1"]), "0.25");
    assert.equal(value("_1 || '-' || _2", ["a", "b"]), "a-b");
    assert.equal(value("-CAST('3' AS INT) % 2"), "-1");
    assert.equal(selectError(() => value("CAST(_1 AS INT)", ["x1"])).code, "CastFailed");
    assert.equal(selectError(() => value("1 / 0")).code, "DivisionByZero");
  });

  it("follows three-valued logic and the NULL/MISSING distinction", () => {
    assert.equal(value("_9 IS MISSING", ["a"]), "true");
    assert.equal(value("_9 IS NULL", ["a"]), "true");
    assert.equal(value("NULL IS MISSING"), "false");
    assert.equal(value("NULL = 1"), "");
    assert.equal(value("NULL AND FALSE"), "false");
    assert.equal(value("NULL OR TRUE"), "true");
    assert.equal(value("NOT (NULL = 1)"), "");
    assert.equal(value("2 IN (1, NULL)"), "");
    assert.equal(value("2 IN (1, 2)"), "true");
    assert.equal(value("3 NOT BETWEEN 1 AND 2"), "true");
  });

  it("evaluates LIKE with ESCAPE and character classes, string and date functions", () => {
    assert.equal(value("'a_b' LIKE 'a!_%' ESCAPE '!'"), "true");
    assert.equal(value("'axb' LIKE 'a!_%' ESCAPE '!'"), "false");
    assert.equal(value("'xyz' LIKE '%y[y-z]'"), "true");
    assert.equal(value("'a.c' LIKE 'a.c'"), "true");
    assert.equal(value("'abc' LIKE 'a.c'"), "false");
    assert.equal(value("SUBSTRING('hello', 2, 3) || SUBSTRING('hello' FROM 4) || SUBSTRING('hello', 0, 2)"), "elllo" + "h");
    assert.equal(value("TRIM(BOTH 'x' FROM 'xxhixx') || TRIM('  a  ') || TRIM(TRAILING FROM ' b ')"), "hia b");
    assert.equal(value("UPPER('ab') || LOWER('CD') || CHAR_LENGTH('ñandú')"), "ABcd5");
    assert.equal(value("COALESCE(NULL, _9, 'z')", []), "z");
    assert.equal(value("NULLIF('a', 'a') IS NULL"), "true");
    assert.equal(value("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' END || CASE 3 WHEN 3 THEN 'c' ELSE 'd' END"), "bc");
    assert.equal(value("EXTRACT(YEAR FROM TO_TIMESTAMP('2007-02-23T12:14:33Z'))"), "2007");
    assert.equal(value("DATE_ADD(month, 1, TO_TIMESTAMP('2020-01-31T10:00:00Z'))"), "2020-02-29T10:00:00Z");
    assert.equal(value("DATE_DIFF(day, TO_TIMESTAMP('2020-01-01T'), TO_TIMESTAMP('2020-03-01T'))"), "60");
    assert.equal(value("UTCNOW()"), "2026-01-02T03:04:05Z");
    assert.equal(value("TO_STRING(TO_TIMESTAMP('2007-02-23T12:14:33.079-08:00'), 'yyyy/MM/dd HH:mm:ss.SSS XXX')"), "2007/02/23 12:14:33.079 -08:00");
  });

  it("projects, filters, aggregates and stops at LIMIT", () => {
    const data = "name,n\n#comment\nann,3\nbob,5\n\"c,d\",7\n";
    assert.equal(select("SELECT s.name FROM S3Object s WHERE CAST(s.n AS INT) > 3", data, { csv: { fileHeaderInfo: "USE" } }), 'bob\n"c,d"\n');
    assert.equal(select("SELECT COUNT(*), SUM(CAST(n AS INT)), AVG(CAST(n AS INT)), MIN(name), MAX(CAST(n AS INT)) FROM S3Object", data, { csv: { fileHeaderInfo: "USE" } }), "3,15,5,ann,7\n");
    assert.equal(select("SELECT * FROM S3Object LIMIT 2", data, { csv: { fileHeaderInfo: "IGNORE" } }), "ann,3\nbob,5\n");
    assert.equal(select("SELECT s.* FROM S3Object s LIMIT 1", data, { csv: { fileHeaderInfo: "USE" } }), "ann,3\n");
    assert.equal(select("SELECT s.n FROM S3Object s LIMIT 1", `\ufeff${data}`, { csv: { fileHeaderInfo: "USE" } }), "3\n");
    assert.equal(select("SELECT _2 AS v, CAST(v AS INT) + 1 AS w FROM S3Object WHERE w > 6", data, { csv: { fileHeaderInfo: "IGNORE" } }), "7,8\n");
    const e = selectError(() => select("SELECT s.missing_col FROM S3Object s", data, { csv: { fileHeaderInfo: "USE" } }));
    assert.equal(e.code, "EvaluatorBindingDoesNotExist");
  });

  it("writes JSON output with names from aliases and paths, leaving MISSING out", () => {
    const over: Partial<SelectRequest> = { input: { kind: "json", type: "LINES" }, output: { kind: "json", recordDelimiter: "\n" } };
    const text = '{"a":1,"b":{"c":[10,20]}}\n{"a":2.5}\n';
    assert.equal(select("SELECT s.a, s.b.c[1] AS second FROM S3Object s", text, { over }), '{"a":1,"second":20}\n{"a":2.5}\n');
    assert.equal(select("SELECT * FROM S3Object s WHERE s.a > 2", text, { over }), '{"a":2.5}\n');
  });
});

describe("S3 Select readers", () => {
  it("splits CSV with quotes, escapes and custom delimiters whatever the chunk size", () => {
    const text = 'a|"b|c"|"say ""hi"""\tx|y\\|z|w\t';
    for (const step of [1, 2, 5, 100]) {
      const r = new CsvReader({ ...CSV, fieldDelimiter: "|", recordDelimiter: "\t", quoteEscapeCharacter: "\\" });
      const got: string[][] = [];
      for (let i = 0; i < text.length; i += step) r.feed(text.slice(i, i + step), false, (f) => got.push(f) > 0);
      r.feed("", true, (f) => got.push(f) > 0);
      assert.deepEqual(got, [["a", "b|c", 'say "hi"'], ["x", "y|z", "w"]], `step ${step}`);
    }
  });

  it("keeps quoted record delimiters only with AllowQuotedRecordDelimiter", () => {
    const text = 'a,"line1\nline2",b\nc,d,e\n';
    const run = (allow: boolean): string[][] => {
      const r = new CsvReader({ ...CSV, allowQuotedRecordDelimiter: allow });
      const got: string[][] = [];
      for (let i = 0; i < text.length; i += 3) r.feed(text.slice(i, i + 3), false, (f) => got.push(f) > 0);
      r.feed("", true, (f) => got.push(f) > 0);
      return got;
    };
    assert.deepEqual(run(true), [["a", "line1\nline2", "b"], ["c", "d", "e"]]);
    assert.equal(run(false).length, 3);
  });

  it("splits a JSON document stream into top-level values across chunks", () => {
    const text = '{"a":"}{\\"","b":[1,{"c":2}]} [3,4]\n"s" 17 {"root":[{"x":1},{"x":2}]}';
    for (const step of [1, 3, 1000]) {
      const r = new JsonDocumentReader();
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += step) r.feed(text.slice(i, i + step), false, (d) => got.push(d) > 0);
      r.feed("", true, (d) => got.push(d) > 0);
      assert.deepEqual(got, [{ a: '}{"', b: [1, { c: 2 }] }, [3, 4], "s", 17, { root: [{ x: 1 }, { x: 2 }] }], `step ${step}`);
    }
    assert.deepEqual([...fromPath({ root: [{ x: 1 }, { x: 2 }] }, [{ kind: "wildcard" }, { kind: "name", name: "root", quoted: false }])], [{ x: 1 }, { x: 2 }]);
    assert.deepEqual([...fromPath([{ a: [1, 2] }, { a: [3] }], [{ kind: "wildcard" }, { kind: "name", name: "A", quoted: false }, { kind: "wildcard" }])], [1, 2, 3]);
    assert.deepEqual([...fromPath({ a: 1 }, [{ kind: "wildcard" }])], [{ a: 1 }]);
    assert.equal([...fromPath({ big: Array.from({ length: 300_000 }, (_, i) => i) }, [{ kind: "name", name: "big", quoted: false }])].length, 300_000);
  });
});

describe("S3 Select ScanRange", () => {
  const data = Buffer.from("aa,1\nbbb,2\ncc,3\ndddd,4\n");
  // offsets:              0     5      11    16      23
  function scan(start: number, end: number, chunk: number, rd = "\n", buf = data): string {
    const c = new RangeCutter(Buffer.from(rd), start, end);
    let out = "";
    for (let off = c.readFrom; off < buf.length; off += chunk) {
      const r = c.push(buf.subarray(off, off + chunk));
      out += r.data.toString();
      if (r.done) break;
    }
    return out;
  }

  it("processes the records that start in the range, reading the last one to its end", () => {
    for (const chunk of [1, 2, 4, 64]) {
      assert.equal(scan(0, 4, chunk), "aa,1\n", `chunk ${chunk}`);
      assert.equal(scan(0, 5, chunk), "aa,1\nbbb,2\n");
      assert.equal(scan(1, 5, chunk), "bbb,2\n");
      assert.equal(scan(5, 5, chunk), "bbb,2\n");
      assert.equal(scan(6, 10, chunk), "");
      assert.equal(scan(6, 11, chunk), "cc,3\n");
      assert.equal(scan(4, 22, chunk), "bbb,2\ncc,3\ndddd,4\n");
    }
    const crlf = Buffer.from("aa\r\nbb\r\ncc\r\n");
    for (const chunk of [1, 3, 64]) {
      assert.equal(scan(4, 4, chunk, "\r\n", crlf), "bb\r\n");
      assert.equal(scan(3, 4, chunk, "\r\n", crlf), "bb\r\n");
      assert.equal(scan(5, 8, chunk, "\r\n", crlf), "cc\r\n");
    }
    // Any partition of the object into ranges yields every record exactly once.
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    for (const rd of ["\n", "\r\n"]) {
      const recs = Array.from({ length: 200 }, (_, i) => `${i},${"x".repeat(rnd(12))}`);
      const buf = Buffer.from(recs.join(rd) + rd);
      for (let trial = 0; trial < 20; trial++) {
        const cuts = [...new Set(Array.from({ length: 1 + rnd(8) }, () => 1 + rnd(buf.length - 1)))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, buf.length];
        let all = "";
        for (let k = 0; k + 1 < bounds.length; k++) all += scan(bounds[k]!, bounds[k + 1]! - 1, 1 + rnd(40), rd, buf);
        assert.equal(all, buf.toString(), `cuts ${cuts.join(",")}`);
      }
    }
    assert.deepEqual(resolveScanRange({ start: undefined, end: 5 }, 23), { start: 18, end: 22 });
    assert.deepEqual(resolveScanRange({ start: 3, end: 999 }, 23), { start: 3, end: 22 });
  });
});

describe("S3 Select event stream", () => {
  it("frames messages with prelude and message CRC32s", () => {
    const m = recordsEvent(Buffer.from("a,b\n"));
    assert.equal(m.readUInt32BE(0), m.length);
    assert.equal(m.readUInt32BE(8), crc32(m.subarray(0, 8)));
    assert.equal(m.readUInt32BE(m.length - 4), crc32(m.subarray(0, m.length - 4)));
    const [d] = decodeMessages(Buffer.concat([m, encodeMessage([[":message-type", "event"], [":event-type", "End"]])]));
    assert.deepEqual(d!.headers, { ":event-type": "Records", ":content-type": "application/octet-stream", ":message-type": "event" });
    assert.equal(d!.payload.toString(), "a,b\n");
    const bad = Buffer.from(m);
    bad[14] = bad[14]! ^ 1;
    assert.throws(() => decodeMessages(bad), /CRC/);
  });

  it("parses and prints timestamps in S3 Select's forms", () => {
    assert.equal(Timestamp.parse("2007T")?.toString(), "2007-01-01T00:00:00Z");
    assert.equal(Timestamp.parse("19500512T101112Z")?.toString(), "1950-05-12T10:11:12Z");
    assert.equal(Timestamp.parse("2007-02-23T12:14Z")?.toString(), "2007-02-23T12:14:00Z");
    assert.equal(Timestamp.parse("2023-02-30T"), undefined);
    const t = Timestamp.parse("2020-02-29T00:00:00+05:30")!;
    assert.equal(formatTimestamp(t, "x xx XXX MMM d, yyyy h a"), "+0530 +0530 +05:30 Feb 29, 2020 12 AM");
    assert.equal(dateAdd("year", 1, t).toString(), "2021-02-28T00:00:00+05:30");
    assert.equal(dateDiff("year", t, dateAdd("day", 366, t)), 1n);
    assert.equal(dateDiff("month", Timestamp.parse("2020-01-31T")!, Timestamp.parse("2020-02-29T")!), 0n);
  });
});
