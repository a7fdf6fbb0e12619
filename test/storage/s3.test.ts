/**
 * s3:// backend: the conformance suite against a real S3-compatible server on
 * loopback — Shoal's own (`startS3Server` from src/s3), or, when
 * SHOAL_TEST_S3_ENDPOINT is set (e.g. a local moto_server), that endpoint.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import * as storage from "../../src/storage/index.ts";
import { NotFoundError, PermissionError, closeS3Clients, resolveS3Options, s3Client, type StorageOptions } from "../../src/storage/index.ts";
import { startS3Server } from "../../src/s3/index.ts";
import { runConformance } from "./conformance.ts";

const ACCESS = "shoalstorage";
const SECRET = "shoalstorage-secret-key";

interface Endpoint {
  opts: StorageOptions;
  kind: "shoal" | "external";
  close(): Promise<void>;
}

/** Start Shoal's S3 server on loopback, or use SHOAL_TEST_S3_ENDPOINT. */
async function startEndpoint(): Promise<Endpoint> {
  const external = process.env.SHOAL_TEST_S3_ENDPOINT;
  const creds = { accessKeyId: ACCESS, secretAccessKey: SECRET };
  if (external) {
    return { kind: "external", opts: { s3: { endpoint: external, region: "us-east-1", credentials: creds } }, close: async () => {} };
  }
  const root = await mkdtemp(join(tmpdir(), "shoal-s3-store-"));
  const srv = await startS3Server({ root, host: "127.0.0.1", port: 0, users: [{ accessKey: ACCESS, secretKey: SECRET }], region: "us-east-1" });
  return {
    kind: "shoal",
    opts: { s3: { endpoint: srv.url, region: "us-east-1", credentials: creds } },
    close: async () => {
      await srv.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Empty and delete a bucket. */
async function dropBucket(opts: StorageOptions, bucket: string): Promise<void> {
  const c = s3Client(opts);
  for (;;) {
    const r = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (!r.Contents?.length) break;
    for (const o of r.Contents) await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
  }
  await c.send(new DeleteBucketCommand({ Bucket: bucket }));
}

function bucketName(): string {
  return `shoal-test-${randomBytes(6).toString("hex")}`;
}

let endpoint: Endpoint | undefined;
let refs = 0;
async function acquire(): Promise<Endpoint> {
  refs += 1;
  if (endpoint === undefined) endpoint = await startEndpoint();
  return endpoint;
}
async function release(): Promise<void> {
  refs -= 1;
  if (refs === 0 && endpoint) {
    const ep = endpoint;
    endpoint = undefined; // the next suite starts a fresh server
    closeS3Clients(); // drop keep-alive sockets so the process can exit promptly
    await ep.close();
  }
}

runConformance("s3", async () => {
  const ep = await acquire();
  const bucket = bucketName();
  // Small parts so that the multi-MiB tests exercise multipart upload.
  const opts: StorageOptions = { s3: { ...ep.opts.s3, partSize: 5 * 1024 * 1024 } };
  await s3Client(opts).send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    root: `s3://${bucket}/run/`,
    opts,
    writable: true,
    cleanup: async () => {
      await dropBucket(opts, bucket);
      await release();
    },
  };
});

describe("s3 backend specifics", () => {
  let ep: Endpoint | null = null;
  let bucket = "";
  before(async () => {
    ep = await acquire();
    if (ep) {
      bucket = bucketName();
      await s3Client(ep.opts).send(new CreateBucketCommand({ Bucket: bucket }));
    }
  });
  after(async () => {
    if (ep) await dropBucket(ep.opts, bucket);
    await release();
  });

  it("a failed multipart write aborts the upload (no parts left behind)", async (t) => {
    assert.ok(ep);
    const opts: StorageOptions = { s3: { ...ep.opts.s3, partSize: 5 * 1024 * 1024 } };
    const chunk = Buffer.alloc(1024 * 1024, 1);
    await assert.rejects(
      storage.write(
        `s3://${bucket}/mpu.bin`,
        (async function* () {
          for (let i = 0; i < 12; i++) yield chunk;
          throw new Error("stop");
        })(),
        opts,
      ),
      /stop/,
    );
    const r = await s3Client(opts).send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(r.Uploads?.length ?? 0, 0);
    assert.equal(await storage.exists(`s3://${bucket}/mpu.bin`, opts), false);
  });

  it("a missing bucket is a NotFoundError that says so", async (t) => {
    assert.ok(ep);
    await assert.rejects(
      storage.read(`s3://${bucketName()}/x`, ep.opts),
      (e: unknown) => e instanceof NotFoundError && /bucket does not exist/.test(e.message),
    );
  });

  it("wrong credentials give PermissionError (Shoal's server checks signatures)", async (t) => {
    assert.ok(ep);
    if (ep.kind !== "shoal") return t.skip("external endpoint may not check signatures");
    const bad: StorageOptions = { s3: { ...ep.opts.s3, credentials: { accessKeyId: ACCESS, secretAccessKey: "wrong" } } };
    await assert.rejects(storage.stat(`s3://${bucket}/x`, bad), PermissionError);
  });

  it("anonymous reads work for public-read objects and are denied otherwise", async (t) => {
    assert.ok(ep);
    if (ep.kind !== "shoal") return t.skip("external endpoint may not enforce ACLs");
    const c = s3Client(ep.opts);
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: "public.csv", Body: "a,b\n1,2\n", ACL: "public-read" }));
    await storage.write(`s3://${bucket}/private.csv`, "secret", ep.opts);
    const anon: StorageOptions = { s3: { endpoint: ep.opts.s3?.endpoint, region: "us-east-1", anonymous: true } };
    assert.equal((await storage.read(`s3://${bucket}/public.csv`, anon)).toString(), "a,b\n1,2\n");
    assert.equal((await storage.readRange(`s3://${bucket}/public.csv`, 4, 7, anon)).toString(), "1,2");
    await assert.rejects(storage.read(`s3://${bucket}/private.csv`, anon), PermissionError);
  });

  it("lists buckets at s3://", async (t) => {
    assert.ok(ep);
    const l = await storage.list("s3://", ep.opts);
    assert.ok(l.some((e) => e.type === "directory" && e.url === `s3://${bucket}/`));
  });
});

describe("s3 configuration", () => {
  const saved = { ...process.env };
  const restoreEnv = (): void => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  };
  after(restoreEnv);

  it("resolves endpoint, region, path style and anonymous from env and options", (t) => {
    t.after(restoreEnv);
    for (const k of ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "SHOAL_S3_FORCE_PATH_STYLE", "AWS_NO_SIGN_REQUEST", "SHOAL_S3_ANONYMOUS"]) {
      delete process.env[k];
    }
    let r = resolveS3Options({});
    assert.equal(r.endpoint, undefined);
    assert.equal(r.forcePathStyle, false);
    assert.equal(r.anonymous, false);
    process.env.AWS_ENDPOINT_URL = "http://127.0.0.1:1";
    process.env.AWS_DEFAULT_REGION = "eu-west-3";
    r = resolveS3Options({});
    assert.equal(r.endpoint, "http://127.0.0.1:1");
    assert.equal(r.region, "eu-west-3");
    assert.equal(r.forcePathStyle, true, "custom endpoint implies path style");
    process.env.AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:2";
    process.env.SHOAL_S3_FORCE_PATH_STYLE = "false";
    process.env.AWS_NO_SIGN_REQUEST = "true";
    r = resolveS3Options({});
    assert.equal(r.endpoint, "http://127.0.0.1:2", "AWS_ENDPOINT_URL_S3 wins");
    assert.equal(r.forcePathStyle, false);
    assert.equal(r.anonymous, true);
    r = resolveS3Options({ s3: { endpoint: "http://127.0.0.1:3", region: "us-west-2", forcePathStyle: true, anonymous: false } });
    assert.deepEqual([r.endpoint, r.region, r.forcePathStyle, r.anonymous], ["http://127.0.0.1:3", "us-west-2", true, false]);
  });

  it("anonymous requests carry no Authorization header; signed ones do", async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { "content-length": "5", "last-modified": new Date().toUTCString(), etag: '"abc"' });
      res.end(req.method === "HEAD" ? undefined : "hello");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const anon = await storage.read("s3://pub/k.txt", { s3: { endpoint: endpointUrl, region: "us-east-1", anonymous: true } });
      assert.equal(anon.toString(), "hello");
      await storage.stat("s3://pub/k.txt", {
        s3: { endpoint: endpointUrl, region: "us-east-1", credentials: { accessKeyId: "AK", secretAccessKey: "SK" } },
      });
      assert.equal(seen[0], undefined, JSON.stringify(seen));
      assert.match(seen[1] ?? "", /^AWS4-HMAC-SHA256 Credential=AK\//);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
