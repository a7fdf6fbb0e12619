/**
 * SelectObjectContent through the AWS SDK for JavaScript v3 (which sends
 * `?select=&select-type=2`, `Content-Type: application/xml` and `&#x0A;`
 * delimiters, and decodes the event stream with its own CRC checks):
 * CSV/JSON/Parquet input, GZIP and BZIP2, ScanRange, progress, errors
 * before and during the stream.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import {
  CreateBucketCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
} from "@aws-sdk/client-s3";
import { bucketName, s3Error, startTestServer, type TestServer } from "./helpers.ts";

describe("S3 Select with the AWS SDK v3", () => {
  let t: TestServer;
  let s3: S3Client;
  const bucket = bucketName("select");
  const csv = "id,name,score,day\n1,ann,31.5,2024-01-05T\n2,bob,25,2024-02-10T\n3,\"c, d\",40,2024-03-15T\n4,dan,,2024-04-20T\n";

  before(async () => {
    t = await startTestServer();
    s3 = t.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "people.csv", Body: csv }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "people.csv.gz", Body: gzipSync(csv) }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "rows.jsonl", Body: '{"a":{"b":1},"t":"x"}\n{"a":{"b":2},"t":"y"}\n{"t":"z"}\n' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "doc.json", Body: JSON.stringify({ items: [{ k: 1 }, { k: 2 }, { k: 3 }] }) }));
  });
  after(async () => {
    await t.close();
  });

  async function select(input: Partial<SelectObjectContentCommandInput> & { Expression: string }): Promise<{ records: string; stats: unknown[]; progress: unknown[]; end: boolean }> {
    const res = await s3.send(
      new SelectObjectContentCommand({
        Bucket: bucket,
        Key: "people.csv",
        ExpressionType: "SQL",
        InputSerialization: { CSV: { FileHeaderInfo: "USE", RecordDelimiter: "\n" } },
        OutputSerialization: { CSV: { RecordDelimiter: "\n" } },
        ...input,
      }),
    );
    let records = "";
    const stats: unknown[] = [];
    const progress: unknown[] = [];
    let end = false;
    for await (const ev of res.Payload!) {
      if (ev.Records?.Payload) records += Buffer.from(ev.Records.Payload).toString("utf8");
      if (ev.Stats) stats.push(ev.Stats.Details);
      if (ev.Progress) progress.push(ev.Progress.Details);
      if (ev.End) end = true;
    }
    return { records, stats, progress, end };
  }

  it("filters and projects CSV with a header, and sends Stats and End", async () => {
    const r = await select({ Expression: "SELECT s.name, CAST(s.score AS FLOAT) * 2 FROM S3Object s WHERE CAST(s.id AS INT) >= 2 AND s.score <> ''" });
    assert.equal(r.records, 'bob,50\n"c, d",80\n');
    assert.ok(r.end);
    assert.deepEqual(r.stats, [{ BytesScanned: csv.length, BytesProcessed: csv.length, BytesReturned: r.records.length }]);
  });

  it("aggregates, uses date functions and answers JSON output", async () => {
    const r = await select({
      Expression: "SELECT COUNT(*) AS n, SUM(CAST(s.id AS INT)) AS total, MAX(EXTRACT(MONTH FROM TO_TIMESTAMP(s.day))) AS m FROM S3Object s WHERE s.name LIKE '%n'",
      OutputSerialization: { JSON: { RecordDelimiter: "\n" } },
    });
    assert.equal(r.records, '{"n":2,"total":5,"m":4}\n');
  });

  it("reads GZIP input and reports progress when asked", async () => {
    const r = await select({
      Key: "people.csv.gz",
      InputSerialization: { CSV: { FileHeaderInfo: "IGNORE" }, CompressionType: "GZIP" },
      Expression: "SELECT _2 FROM S3Object LIMIT 2",
      RequestProgress: { Enabled: true },
    });
    assert.equal(r.records, "ann\nbob\n");
    assert.ok(r.progress.length >= 1);
    const st = r.stats[0] as { BytesScanned: number; BytesProcessed: number };
    assert.equal(st.BytesScanned, gzipSync(csv).length);
    assert.ok(st.BytesProcessed > 0);
  });

  it("reads BZIP2 input", async (tc) => {
    if (!existsSync("/usr/bin/bzip2")) return tc.skip("bzip2 not installed (apt-get install bzip2)");
    const bz = execFileSync("/usr/bin/bzip2", ["-c"], { input: csv });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "people.csv.bz2", Body: bz }));
    const r = await select({ Key: "people.csv.bz2", InputSerialization: { CSV: { FileHeaderInfo: "USE" }, CompressionType: "BZIP2" }, Expression: "SELECT s.id FROM S3Object s WHERE s.name = 'dan'" });
    assert.equal(r.records, "4\n");
  });

  it("reads only the records that start inside ScanRange", async () => {
    // "id,...\n" is 18 bytes; row 1 is bytes 18-44, row 2 bytes 45-68.
    const r = await select({ Expression: "SELECT s.id FROM S3Object s", ScanRange: { Start: 19, End: 46 } });
    assert.equal(r.records, "2\n");
    const whole = await select({ Expression: "SELECT s.id FROM S3Object s", ScanRange: { Start: 18, End: 18 } });
    assert.equal(whole.records, "1\n");
    // JSON LINES: the second line starts at byte 22.
    const lines = await select({ Key: "rows.jsonl", InputSerialization: { JSON: { Type: "LINES" } }, Expression: "SELECT s.t FROM S3Object s", ScanRange: { Start: 1, End: 22 } });
    assert.equal(lines.records, "y\n");
    const gz = await s3Error(select({ Key: "people.csv.gz", InputSerialization: { CSV: {}, CompressionType: "GZIP" }, Expression: "SELECT * FROM S3Object", ScanRange: { Start: 0, End: 9 } }));
    assert.equal(gz.code, "UnsupportedScanRangeInput");
    const doc = await s3Error(select({ Key: "doc.json", InputSerialization: { JSON: { Type: "DOCUMENT" } }, Expression: "SELECT * FROM S3Object", ScanRange: { Start: 0, End: 9 } }));
    assert.equal(doc.code, "UnsupportedScanRangeInput");
  });

  it("reads JSON LINES and JSON DOCUMENT input with paths", async () => {
    const lines = await select({
      Key: "rows.jsonl",
      InputSerialization: { JSON: { Type: "LINES" } },
      OutputSerialization: { JSON: {} },
      Expression: "SELECT s.a.b AS b, s.t FROM S3Object s WHERE s.a IS NOT MISSING",
    });
    assert.equal(lines.records, '{"b":1,"t":"x"}\n{"b":2,"t":"y"}\n');
    const doc = await select({
      Key: "doc.json",
      InputSerialization: { JSON: { Type: "DOCUMENT" } },
      OutputSerialization: { CSV: {} },
      Expression: "SELECT SUM(d.k) FROM S3Object[*].items[*] d",
    });
    assert.equal(doc.records, "6\n");
  });

  it("reads Parquet input (via nodejs-polars)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "shoal-select-pq-"));
    try {
      const { default: pl } = await import("nodejs-polars");
      const path = join(dir, "t.parquet");
      pl.DataFrame({ city: ["Oslo", "Rome", "Lima"], pop: [0.7, 2.8, 10.1] }).writeParquet(path);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "t.parquet", Body: await readFile(path) }));
      const r = await select({ Key: "t.parquet", InputSerialization: { Parquet: {} }, Expression: "SELECT s.city FROM S3Object s WHERE s.pop > 1" });
      assert.equal(r.records, "Rome\nLima\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("answers bad requests with S3 error codes and syntax errors with the position", async () => {
    const parse = await s3Error(select({ Expression: "SELECT s.name FROM S3Object s WHERE s.id = = 1" }));
    assert.equal(parse.status, 400);
    assert.equal(parse.code, "ParseExpectedExpression");
    assert.match(parse.message, /line 1, column 44/);
    const fn = await s3Error(select({ Expression: "SELECT frobnicate(s.id) FROM S3Object s" }));
    assert.equal(fn.code, "UnsupportedFunction");
    const noKey = await s3Error(select({ Key: "absent.csv", Expression: "SELECT * FROM S3Object" }));
    assert.equal(noKey.code, "NoSuchKey");
    const range = await s3Error(select({ Expression: "SELECT * FROM S3Object", ScanRange: { Start: 10, End: 5 } }));
    assert.equal(range.code, "InvalidScanRange");
  });

  it("checks s3:GetObject and stops reading once LIMIT is reached", async () => {
    const anon = t.anonymous();
    const denied = await s3Error(
      anon.send(new SelectObjectContentCommand({ Bucket: bucket, Key: "people.csv", ExpressionType: "SQL", Expression: "SELECT * FROM S3Object", InputSerialization: { CSV: {} }, OutputSerialization: { CSV: {} } })),
    );
    assert.equal(denied.code, "AccessDenied");
    const big = Buffer.alloc(8 << 20, "x,1\n");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big.csv", Body: big }));
    const r = await select({ Key: "big.csv", InputSerialization: { CSV: {} }, Expression: "SELECT _2 FROM S3Object LIMIT 5" });
    assert.equal(r.records, "1\n1\n1\n1\n1\n");
    const st = r.stats[0] as { BytesScanned: number };
    assert.ok(st.BytesScanned <= 1 << 20, `scanned ${st.BytesScanned} bytes of ${big.length}`);
  });

  it("turns a failure after the stream started into an error event", async () => {
    const err = await s3Error(select({ Expression: "SELECT CAST(s.name AS INT) FROM S3Object s" }));
    assert.equal(err.code, "CastFailed");
    const missing = await s3Error(select({ Expression: "SELECT s.nope FROM S3Object s" }));
    assert.equal(missing.code, "EvaluatorBindingDoesNotExist");
    const gz = await s3Error(select({ InputSerialization: { CSV: {}, CompressionType: "GZIP" }, Expression: "SELECT * FROM S3Object" }));
    assert.equal(gz.code, "InvalidCompressionFormat");
    const bz = await s3Error(select({ InputSerialization: { CSV: {}, CompressionType: "BZIP2" }, Expression: "SELECT * FROM S3Object" }));
    assert.equal(bz.code, "InvalidCompressionFormat");
  });
});
