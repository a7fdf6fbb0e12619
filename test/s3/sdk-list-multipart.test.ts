/**
 * Listing (v1, v2, versions, URL encoding, UTF-8 order), multi-object delete
 * and multipart uploads through the AWS SDK v3.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { type TestServer, bodyBytes, bucketName, s3Error, startTestServer } from "./helpers.ts";

const MiB = 1024 * 1024;

describe("s3 listing, multi-delete and multipart (AWS SDK v3)", () => {
  let t: TestServer;
  let s3: S3Client;
  before(async () => {
    t = await startTestServer();
    s3 = t.client();
  });
  after(async () => t.close());

  async function bucketWith(keys: string[]): Promise<string> {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await Promise.all(keys.map((k) => s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: k }))));
    return b;
  }

  it("lists v1 with prefix, delimiter, common prefixes and markers", async () => {
    const b = await bucketWith(["a/1", "a/2", "b/1", "c", "d/x/y", "e"]);
    const r = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: "/" }));
    assert.deepEqual(r.Contents?.map((c) => c.Key), ["c", "e"]);
    assert.deepEqual(r.CommonPrefixes?.map((c) => c.Prefix), ["a/", "b/", "d/"]);
    assert.equal(r.Contents?.[0]?.Owner?.ID, "main-id");
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket: b, Delimiter: "/", MaxKeys: 2, ...(marker ? { Marker: marker } : {}) }));
      seen.push(...(page.CommonPrefixes ?? []).map((c) => c.Prefix as string), ...(page.Contents ?? []).map((c) => c.Key as string));
      if (!page.IsTruncated) break;
      marker = page.NextMarker;
    }
    assert.deepEqual(seen.sort(), ["a/", "b/", "c", "d/", "e"]);
    const pre = await s3.send(new ListObjectsCommand({ Bucket: b, Prefix: "a/" }));
    assert.deepEqual(pre.Contents?.map((c) => c.Key), ["a/1", "a/2"]);
  });

  it("lists v2 with continuation tokens, start-after, max-keys and fetch-owner", async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    const b = await bucketWith(keys);
    const all: string[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 7, ...(token ? { ContinuationToken: token } : {}) }));
      all.push(...(page.Contents ?? []).map((c) => c.Key as string));
      assert.equal(page.KeyCount, page.Contents?.length ?? 0);
      assert.equal(page.Contents?.[0]?.Owner, undefined);
      if (!page.IsTruncated) break;
      token = page.NextContinuationToken;
    }
    assert.deepEqual(all, keys);
    const sa = await s3.send(new ListObjectsV2Command({ Bucket: b, StartAfter: "k020", FetchOwner: true }));
    assert.deepEqual(sa.Contents?.map((c) => c.Key), ["k021", "k022", "k023", "k024"]);
    assert.equal(sa.Contents?.[0]?.Owner?.DisplayName, "Main User");
    const zero = await s3.send(new ListObjectsV2Command({ Bucket: b, MaxKeys: 0 }));
    assert.equal(zero.KeyCount, 0);
    assert.equal(zero.IsTruncated, false);
  });

  it("lists in UTF-8 binary order and URL-encodes on request", async () => {
    const keys = ["z", "\u00e9", "\uffff", "\u{1F600}", "a b", "a+b", "A"];
    const b = await bucketWith(keys);
    const r = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(r.Contents?.map((c) => c.Key), expected);
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: b, EncodingType: "url", Prefix: "a" }));
    // The JS SDK leaves url-encoded keys as sent (botocore decodes them).
    assert.deepEqual(enc.Contents?.map((c) => c.Key), ["a%20b", "a%2Bb"]);
  });

  it("lists versions of an unversioned bucket as VersionId null", async () => {
    const b = await bucketWith(["x", "y"]);
    const v = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.deepEqual(v.Versions?.map((x) => [x.Key, x.VersionId, x.IsLatest]), [["x", "null", true], ["y", "null", true]]);
  });

  it("deletes many objects at once, quietly or not", async () => {
    const b = await bucketWith(["d1", "d2", "d3", "keep"]);
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: "d1" }, { Key: "d2" }, { Key: "absent" }] } }));
    assert.deepEqual(r.Deleted?.map((d) => d.Key).sort(), ["absent", "d1", "d2"]);
    const q = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Quiet: true, Objects: [{ Key: "d3" }] } }));
    assert.equal(q.Deleted, undefined);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(left.Contents?.map((c) => c.Key), ["keep"]);
  });

  it("completes a multipart upload with the S3 multipart ETag", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "big", ContentType: "application/x-test", Metadata: { m: "v" } }));
    const id = up.UploadId as string;
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: b, Key: "big", UploadId: id, PartNumber: i + 1, Body: p }));
      etags.push(r.ETag as string);
    }
    const lp = await s3.send(new ListPartsCommand({ Bucket: b, Key: "big", UploadId: id }));
    assert.deepEqual(lp.Parts?.map((p) => p.Size), [5 * MiB, 5 * MiB, 1234]);
    const lu = await s3.send(new ListMultipartUploadsCommand({ Bucket: b }));
    assert.deepEqual(lu.Uploads?.map((u) => u.UploadId), [id]);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: b, Key: "big", UploadId: id, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    const md5s = Buffer.concat(parts.map((p) => createHash("md5").update(p).digest()));
    assert.equal(done.ETag, `"${createHash("md5").update(md5s).digest("hex")}-3"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "big" }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(parts)));
    assert.equal(got.ContentType, "application/x-test");
    assert.deepEqual(got.Metadata, { m: "v" });
    const part2 = await s3.send(new GetObjectCommand({ Bucket: b, Key: "big", PartNumber: 2 }));
    assert.equal(part2.PartsCount, 3);
    assert.ok((await bodyBytes(part2.Body)).equals(parts[1] as Buffer));
    assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads, undefined);
  });

  it("rejects bad completions: EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "k" }));
    const id = UploadId as string;
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: "k", UploadId: id, PartNumber: 1, Body: "small" }))).ETag as string;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket: b, Key: "k", UploadId: id, PartNumber: 2, Body: "tail" }))).ETag as string;
    const complete = (parts: Array<{ ETag: string; PartNumber: number }>) =>
      s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: "k", UploadId: id, MultipartUpload: { Parts: parts } })));
    assert.equal((await complete([{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 2 }])).code, "EntityTooSmall");
    assert.equal((await complete([{ ETag: '"00000000000000000000000000000000"', PartNumber: 1 }])).code, "InvalidPart");
    assert.equal((await complete([{ ETag: e1, PartNumber: 3 }])).code, "InvalidPart");
    assert.equal((await complete([{ ETag: e2, PartNumber: 2 }, { ETag: e1, PartNumber: 1 }])).code, "InvalidPartOrder");
    await s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: "k", UploadId: id }));
    assert.equal((await complete([{ ETag: e1, PartNumber: 1 }])).code, "NoSuchUpload");
    const e = await s3Error(s3.send(new UploadPartCommand({ Bucket: b, Key: "k", UploadId: id, PartNumber: 1, Body: "x" })));
    assert.equal(e.status, 404);
  });

  it("copies parts with UploadPartCopy and ranges", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const src = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: "src", Body: src }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "dst" }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: "dst", UploadId, PartNumber: 1, CopySource: `${b}/src` }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: b, Key: "dst", UploadId, PartNumber: 2, CopySource: `${b}/src`, CopySourceRange: "bytes=0-9" }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: "dst",
        UploadId,
        MultipartUpload: { Parts: [{ ETag: p1.CopyPartResult?.ETag as string, PartNumber: 1 }, { ETag: p2.CopyPartResult?.ETag as string, PartNumber: 2 }] },
      }),
    );
    const got = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: b, Key: "dst" }))).Body);
    assert.ok(got.equals(Buffer.concat([src, src.subarray(0, 10)])));
  });

  it("uploads through lib-storage Upload (parallel parts)", async () => {
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const data = randomBytes(12 * MiB + 17);
    await new Upload({ client: s3, params: { Bucket: b, Key: "lib", Body: data }, partSize: 5 * MiB, queueSize: 3 }).done();
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "lib" }));
    assert.match(got.ETag as string, /-3"$/);
    assert.ok((await bodyBytes(got.Body)).equals(data));
  });
});
