/**
 * Wire-level behaviour checked with hand-made requests: aws-chunked signed
 * uploads (chunk signatures computed here from the SigV4 spec), browser POST
 * uploads with a signed policy, dropped connections, and persistence across
 * a restart.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../support/node-sha256.ts";
import { type TestServer, USERS, bodyBytes, bucketName, s3Error, startTestServer } from "./helpers.ts";


const hex = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");
const hmac = (k: Buffer | string, d: string): Buffer => createHmac("sha256", k).update(d).digest();

function signingKey(secret: string, date: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), "us-east-1"), "s3"), "aws4_request");
}

/** Builds an aws-chunked body whose chunk signatures chain from `seed`. */
function chunkedBody(chunks: Buffer[], seed: string, amzDate: string, key: Buffer, corruptAt = -1): Buffer {
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  let prev = seed;
  const out: Buffer[] = [];
  for (const [i, c] of [...chunks, Buffer.alloc(0)].entries()) {
    const sts = ["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, prev, hex(""), hex(c)].join("\n");
    let sig = createHmac("sha256", key).update(sts).digest("hex");
    prev = sig;
    if (i === corruptAt) sig = sig.replace(/^./, sig[0] === "0" ? "1" : "0");
    out.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c, Buffer.from("\r\n"));
  }
  return Buffer.concat(out);
}

async function rawRequest(url: string, method: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, text: await res.text() };
}

describe("s3 wire: chunked uploads, POST policy, dropped connections, restart", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(async () => t.close());

  async function signedChunkedPut(bucket: string, key: string, chunks: Buffer[], corruptAt = -1): Promise<{ status: number; text: string }> {
    const total = chunks.reduce((a, c) => a + c.length, 0);
    const u = new URL(`${t.url}/${bucket}/${key}`);
    const signer = new SignatureV4({ credentials: { accessKeyId: USERS.main.accessKey, secretAccessKey: USERS.main.secretKey }, region: "us-east-1", service: "s3", sha256: Sha256, uriEscapePath: false });
    const now = new Date();
    const bodyLen = chunkedBody(chunks, "0".repeat(64), "20000101T000000Z", Buffer.alloc(32)).length;
    const signed = await signer.sign(
      {
        method: "PUT",
        protocol: "http:",
        hostname: u.hostname,
        port: Number(u.port),
        path: u.pathname,
        headers: {
          host: u.host,
          "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
          "content-encoding": "aws-chunked",
          "x-amz-decoded-content-length": String(total),
          "content-length": String(bodyLen),
        },
      },
      { signingDate: now },
    );
    const h = signed.headers as Record<string, string>;
    const seed = /Signature=([0-9a-f]+)/.exec(h["authorization"] ?? "")?.[1] ?? "";
    const amzDate = h["x-amz-date"] ?? "";
    const body = chunkedBody(chunks, seed, amzDate, signingKey(USERS.main.secretKey, amzDate.slice(0, 8)), corruptAt);
    const { host: _h, ...rest } = h;
    return rawRequest(u.toString(), "PUT", rest, body);
  }

  it("accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploads and verifies every chunk signature", async () => {
    const s3 = t.client();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const chunks = [Buffer.alloc(65536, 1), Buffer.alloc(65536, 2), Buffer.from("tail")];
    const ok = await signedChunkedPut(b, "chunked", chunks);
    assert.equal(ok.status, 200, ok.text);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "chunked" }));
    assert.ok((await bodyBytes(got.Body)).equals(Buffer.concat(chunks)));
    assert.equal(got.ContentEncoding, undefined);
    const bad = await signedChunkedPut(b, "bad", chunks, 1);
    assert.equal(bad.status, 403);
    assert.match(bad.text, /SignatureDoesNotMatch/);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: "bad" })))).status, 404);
  });

  it("accepts STREAMING-UNSIGNED-PAYLOAD-TRAILER uploads with a trailing checksum", async () => {
    const s3 = t.client();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b, ACL: "public-read-write" }));
    const data = Buffer.from("hello trailer world");
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from("\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"),
    ]);
    const r = await rawRequest(`${t.url}/${b}/trailer`, "PUT", {
      "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(data.length),
      "x-amz-trailer": "x-amz-checksum-crc32",
    }, body);
    assert.equal(r.status, 200, r.text);
    assert.equal((await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: b, Key: "trailer" }))).Body)).toString(), data.toString());
  });

  it("verifies x-amz-content-sha256 of signed payloads", async () => {
    const b = bucketName();
    const s3 = t.client();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const u = new URL(`${t.url}/${b}/k`);
    const signer = new SignatureV4({ credentials: { accessKeyId: USERS.main.accessKey, secretAccessKey: USERS.main.secretKey }, region: "us-east-1", service: "s3", sha256: Sha256 });
    const signed = await signer.sign({
      method: "PUT",
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      headers: { host: u.host, "x-amz-content-sha256": hex("expected body") },
    });
    const { host: _h, ...headers } = signed.headers as Record<string, string>;
    const r = await rawRequest(u.toString(), "PUT", headers, Buffer.from("another body!"));
    assert.equal(r.status, 400);
    assert.match(r.text, /XAmzContentSHA256Mismatch/);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: "k" })))).status, 404);
  });

  it("accepts browser POST uploads with a SigV4-signed policy and enforces its conditions", async () => {
    const s3 = t.client();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const credential = `${USERS.main.accessKey}/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const policy = (maxSize: number): string =>
      Buffer.from(
        JSON.stringify({
          expiration: new Date(Date.now() + 600_000).toISOString(),
          conditions: [
            { bucket: b },
            ["starts-with", "$key", "uploads/"],
            { "x-amz-algorithm": "AWS4-HMAC-SHA256" },
            { "x-amz-credential": credential },
            { "x-amz-date": amzDate },
            ["starts-with", "$Content-Type", "text/"],
            ["content-length-range", 0, maxSize],
            { success_action_status: "201" },
          ],
        }),
      ).toString("base64");
    const post = async (p: string, key: string, content: string): Promise<Response> => {
      const form = new FormData();
      const fields: Record<string, string> = {
        key,
        "Content-Type": "text/plain",
        success_action_status: "201",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": credential,
        "x-amz-date": amzDate,
        policy: p,
        "x-amz-signature": createHmac("sha256", signingKey(USERS.main.secretKey, amzDate.slice(0, 8))).update(p).digest("hex"),
      };
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      form.append("file", new Blob([content]), "local.txt");
      return fetch(`${t.url}/${b}`, { method: "POST", body: form });
    };
    const ok = await post(policy(100), "uploads/${filename}", "posted content");
    assert.equal(ok.status, 201);
    assert.match(await ok.text(), /<Key>uploads\/local.txt<\/Key>/);
    const got = await s3.send(new GetObjectCommand({ Bucket: b, Key: "uploads/local.txt" }));
    assert.equal((await bodyBytes(got.Body)).toString(), "posted content");
    assert.equal(got.ContentType, "text/plain");
    assert.equal((await post(policy(100), "elsewhere/x", "c")).status, 403);
    assert.equal((await post(policy(3), "uploads/big", "too large")).status, 400);
    const tampered = await post(policy(100).replace(/.$/, "A"), "uploads/t", "c");
    assert.ok([400, 403].includes(tampered.status));
  });

  it("leaves no object and no temp files when a client drops mid-upload", async () => {
    const s3 = t.client();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b, ACL: "public-read-write" }));
    await new Promise<void>((resolve) => {
      const u = new URL(`${t.url}/${b}/partial`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "PUT", headers: { "content-length": "1000000" } });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(300000, 7), () => setTimeout(() => req.destroy(), 50));
      req.on("close", () => resolve());
    });
    const tmp = join(t.root, ".shoal-s3", "tmp");
    for (let i = 0; i < 100 && (await readdir(tmp)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await readdir(tmp), []);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: b, Key: "partial" })))).status, 404);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: b }));
    assert.equal(list.KeyCount, 0);
  });

  it("keeps buckets, objects, policies and uploads across a restart", async () => {
    const first = await startTestServer();
    const s3 = first.client();
    const b = bucketName();
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const k of ["b", "a", "c/d", "\u00e9"]) await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: `v-${k}`, Metadata: { k: "1" } }));
    const policy = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: `arn:aws:s3:::${b}/*` }] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: "mp" }));
    const root = first.root;
    await first.server.close();
    const second = await startTestServer({ root });
    try {
      const s3b = second.client();
      const list = await s3b.send(new ListObjectsV2Command({ Bucket: b }));
      assert.deepEqual(list.Contents?.map((c) => c.Key), ["a", "b", "c/d", "\u00e9"]);
      const got = await s3b.send(new GetObjectCommand({ Bucket: b, Key: "c/d" }));
      assert.equal((await bodyBytes(got.Body)).toString(), "v-c/d");
      assert.deepEqual(got.Metadata, { k: "1" });
      assert.equal(await (await fetch(`${second.url}/${b}/a`)).text(), "v-a");
      const ups = await s3b.send(new ListMultipartUploadsCommand({ Bucket: b }));
      assert.deepEqual(ups.Uploads?.map((u) => u.UploadId), [UploadId]);
    } finally {
      await second.close();
      await first.close().catch(() => undefined);
    }
  });
});
