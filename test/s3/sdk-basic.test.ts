/**
 * Buckets and objects through the AWS SDK v3: create/head/list/delete
 * buckets, put/get/head/delete/copy objects, metadata, conditional requests
 * and ranged reads.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type TestServer, bodyBytes, bucketName, s3Error, startTestServer } from "./helpers.ts";

describe("s3 buckets and objects (AWS SDK v3)", () => {
  let t: TestServer;
  let s3: S3Client;
  before(async () => {
    t = await startTestServer();
    s3 = t.client();
  });
  after(async () => t.close());

  it("creates, heads, lists and deletes buckets", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new HeadBucketCommand({ Bucket: b }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((x) => x.Name === b));
    assert.equal(list.Owner?.ID, "main-id");
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: b }));
    assert.equal(loc.LocationConstraint ?? "", "");
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    const e = await s3Error(s3.send(new HeadBucketCommand({ Bucket: b })));
    assert.equal(e.status, 404);
  });

  it("enforces bucket naming rules and ownership", async () => {
    for (const bad of ["ab", "Upper", "-start", "a..b", "192.168.1.1", "x".repeat(64), "under_score"]) {
      const e = await s3Error(s3.send(new CreateBucketCommand({ Bucket: bad })));
      assert.equal(e.code, "InvalidBucketName", bad);
    }
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const other = await s3Error(t.client("alt").send(new CreateBucketCommand({ Bucket: b })));
    assert.equal(other.code, "BucketAlreadyExists");
    assert.equal(other.status, 409);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "x" }));
    const ne = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: b })));
    assert.equal(ne.code, "BucketNotEmpty");
    assert.equal(ne.status, 409);
  });

  it("reports NoSuchBucket and NoSuchKey", async () => {
    const e1 = await s3Error(s3.send(new GetObjectCommand({ Bucket: bucketName("missing"), Key: "k" })));
    assert.equal(e1.code, "NoSuchBucket");
    assert.equal(e1.status, 404);
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const e2 = await s3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "nope" })));
    assert.equal(e2.code, "NoSuchKey");
  });

  it("puts and gets objects with metadata, content type and MD5 ETag", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const put = await s3.send(
      new PutObjectCommand({ Bucket: b, Key: "dir/a.csv", Body: "a,b\n1,2\n", ContentType: "text/csv", Metadata: { origin: "test", Mixed: "Case" }, CacheControl: "no-cache" }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "dir/a.csv" }));
    assert.equal((await bodyBytes(got.Body)).toString(), "a,b\n1,2\n");
    assert.equal(got.ContentType, "text/csv");
    assert.equal(got.CacheControl, "no-cache");
    assert.deepEqual(got.Metadata, { origin: "test", mixed: "Case" });
    assert.equal(got.ETag, put.ETag);
    const { createHash } = await import("node:crypto");
    assert.equal(got.ETag, `"${createHash("md5").update("a,b\n1,2\n").digest("hex")}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: "dir/a.csv" }));
    assert.equal(head.ContentLength, 8);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "dir/a.csv" }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: "dir/a.csv" }));
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: "dir/a.csv" })))).status, 404);
  });

  it("stores empty objects and odd but valid UTF-8 keys without escaping the bucket", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const keys = ["../../etc/passwd", "/abs/path", "a\\b", "..", ".", "x/../../y", "ünï cødé/😀 ?#&=+%", "sp ace", "a//b"];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: `v:${k}` }));
    for (const k of keys) {
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: k }));
      assert.equal((await bodyBytes(got.Body)).toString(), `v:${k}`);
    }
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "empty", Body: "" }));
    const e = await s3.send(new GetObjectCommand({ Bucket: b, Key: "empty" }));
    assert.equal((await bodyBytes(e.Body)).length, 0);
    assert.equal(e.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
  });

  it("answers conditional requests with 304 and 412", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "hello" }));
    const etag = put.ETag as string;
    await s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfMatch: etag }));
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfMatch: '"nope"' })))).status, 412);
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfNoneMatch: etag })))).status, 304);
    const future = new Date(Date.now() + 3600_000);
    const past = new Date(Date.now() - 3600_000);
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfModifiedSince: future })))).status, 304);
    await s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfModifiedSince: past }));
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfUnmodifiedSince: past })))).status, 412);
    await s3.send(new GetObjectCommand({ Bucket: b, Key: "k", IfUnmodifiedSince: future }));
    const e = await s3Error(s3.send(new PutObjectCommand({ Bucket: b, Key: "k", Body: "again", IfNoneMatch: "*" })));
    assert.equal(e.status, 412);
  });

  it("serves byte ranges with 206 and rejects unsatisfiable ones with 416", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "r", Body: "0123456789" }));
    const cases: Array<[string, string, string]> = [
      ["bytes=2-5", "2345", "bytes 2-5/10"],
      ["bytes=7-", "789", "bytes 7-9/10"],
      ["bytes=-3", "789", "bytes 7-9/10"],
      ["bytes=5-100", "56789", "bytes 5-9/10"],
    ];
    for (const [range, body, cr] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "r", Range: range }));
      assert.equal(got.$metadata.httpStatusCode, 206, range);
      assert.equal(got.ContentRange, cr);
      assert.equal((await bodyBytes(got.Body)).toString(), body);
    }
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket: b, Key: "r", Range: "bytes=10-20" })));
    assert.equal(e.code, "InvalidRange");
    assert.equal(e.status, 416);
  });

  it("copies objects, keeping or replacing metadata", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "src key", Body: "data", ContentType: "text/plain", Metadata: { a: "1" } }));
    const c1 = await s3.send(new CopyObjectCommand({ Bucket: b, Key: "dst", CopySource: `${b}/${encodeURIComponent("src key")}` }));
    assert.ok(c1.CopyObjectResult?.ETag);
    const h1 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: "dst" }));
    assert.deepEqual(h1.Metadata, { a: "1" });
    assert.equal(h1.ContentType, "text/plain");
    await s3.send(new CopyObjectCommand({ Bucket: b, Key: "dst2", CopySource: `${b}/src%20key`, MetadataDirective: "REPLACE", Metadata: { b: "2" }, ContentType: "x/y" }));
    const h2 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: "dst2" }));
    assert.deepEqual(h2.Metadata, { b: "2" });
    assert.equal(h2.ContentType, "x/y");
    const self = await s3Error(s3.send(new CopyObjectCommand({ Bucket: b, Key: "dst", CopySource: `${b}/dst` })));
    assert.equal(self.code, "InvalidRequest");
  });
});
