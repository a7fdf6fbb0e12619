/**
 * Authentication and authorization: SigV4 failures, presigned URLs,
 * several users, anonymous access, canned ACLs and bucket policies.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  S3Client,
  type S3Client as S3ClientType,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { type TestServer, USERS, bodyBytes, bucketName, s3Error, startTestServer } from "./helpers.ts";

describe("s3 auth, ACLs and policies", () => {
  let t: TestServer;
  let main: S3ClientType;
  let alt: S3ClientType;
  before(async () => {
    t = await startTestServer();
    main = t.client("main");
    alt = t.client("alt");
  });
  after(async () => t.close());

  async function bucketWithObject(acl?: "public-read" | "private" | "authenticated-read" | "public-read-write"): Promise<string> {
    const b = bucketName();
    await main.send(new CreateBucketCommand({ Bucket: b, ...(acl ? { ACL: acl } : {}) }));
    await main.send(new PutObjectCommand({ Bucket: b, Key: "obj.txt", Body: "secret" }));
    return b;
  }

  it("rejects a wrong secret and an unknown access key", async () => {
    const b = await bucketWithObject();
    const bad = new S3Client({ endpoint: t.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: USERS.main.accessKey, secretAccessKey: "wrong" } });
    const e1 = await s3Error(bad.send(new GetObjectCommand({ Bucket: b, Key: "obj.txt" })));
    assert.equal(e1.code, "SignatureDoesNotMatch");
    assert.equal(e1.status, 403);
    const unknown = new S3Client({ endpoint: t.url, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "NOSUCHKEY", secretAccessKey: "x" } });
    const e2 = await s3Error(unknown.send(new GetObjectCommand({ Bucket: b, Key: "obj.txt" })));
    assert.equal(e2.code, "InvalidAccessKeyId");
    bad.destroy();
    unknown.destroy();
  });

  it("returns S3 XML error documents with a RequestId", async () => {
    const res = await fetch(`${t.url}/${bucketName("none")}/k`);
    assert.equal(res.status, 404);
    const text = await res.text();
    assert.match(text, /<Code>NoSuchBucket<\/Code>/);
    assert.match(text, /<RequestId>[0-9A-F]+<\/RequestId>/);
    assert.ok(res.headers.get("x-amz-request-id"));
  });

  it("denies anonymous and other users by default", async () => {
    const b = await bucketWithObject();
    assert.equal((await fetch(`${t.url}/${b}/obj.txt`)).status, 403);
    assert.equal((await s3Error(alt.send(new GetObjectCommand({ Bucket: b, Key: "obj.txt" })))).code, "AccessDenied");
    assert.equal((await s3Error(alt.send(new PutObjectCommand({ Bucket: b, Key: "x", Body: "x" })))).code, "AccessDenied");
    assert.equal((await s3Error(t.anonymous().send(new ListObjectsV2Command({ Bucket: b })))).code, "AccessDenied");
  });

  it("serves presigned GET and PUT URLs and refuses expired ones", async () => {
    const b = await bucketWithObject();
    const getUrl = await getSignedUrl(main, new GetObjectCommand({ Bucket: b, Key: "obj.txt" }), { expiresIn: 300 });
    const r = await fetch(getUrl);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "secret");
    const putUrl = await getSignedUrl(main, new PutObjectCommand({ Bucket: b, Key: "up.txt" }), { expiresIn: 300 });
    assert.equal((await fetch(putUrl, { method: "PUT", body: "uploaded" })).status, 200);
    assert.equal(await (await fetch(await getSignedUrl(main, new GetObjectCommand({ Bucket: b, Key: "up.txt" })))).text(), "uploaded");
    const old = await getSignedUrl(main, new GetObjectCommand({ Bucket: b, Key: "obj.txt" }), { expiresIn: 60, signingDate: new Date(Date.now() - 3600_000) });
    const expired = await fetch(old);
    assert.equal(expired.status, 403);
    const body = await expired.text();
    assert.match(body, /<Code>AccessDenied<\/Code>/);
    assert.match(body, /Request has expired/);
    const tampered = getUrl.replace("obj.txt", "other.txt");
    assert.match(await (await fetch(tampered)).text(), /SignatureDoesNotMatch/);
  });

  it("applies canned ACLs on buckets and objects", async () => {
    const pub = await bucketWithObject("public-read");
    const anon = t.anonymous();
    const listed = await anon.send(new ListObjectsV2Command({ Bucket: pub }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ["obj.txt"]);
    // Bucket public-read does not make private objects readable.
    assert.equal((await fetch(`${t.url}/${pub}/obj.txt`)).status, 403);
    await main.send(new PutObjectAclCommand({ Bucket: pub, Key: "obj.txt", ACL: "public-read" }));
    assert.equal(await (await fetch(`${t.url}/${pub}/obj.txt`)).text(), "secret");
    const oacl = await main.send(new GetObjectAclCommand({ Bucket: pub, Key: "obj.txt" }));
    assert.deepEqual(oacl.Grants?.map((g) => [g.Grantee?.URI ?? g.Grantee?.ID, g.Permission]), [
      ["http://acs.amazonaws.com/groups/global/AllUsers", "READ"],
      ["main-id", "FULL_CONTROL"],
    ]);
    const authd = await bucketWithObject("authenticated-read");
    await alt.send(new ListObjectsV2Command({ Bucket: authd }));
    assert.equal((await s3Error(anon.send(new ListObjectsV2Command({ Bucket: authd })))).status, 403);
    const rw = await bucketWithObject("public-read-write");
    await anon.send(new PutObjectCommand({ Bucket: rw, Key: "anon.txt", Body: "hi" }));
    await main.send(new PutBucketAclCommand({ Bucket: rw, ACL: "private" }));
    const bacl = await main.send(new GetBucketAclCommand({ Bucket: rw }));
    assert.deepEqual(bacl.Grants?.map((g) => g.Permission), ["FULL_CONTROL"]);
    assert.equal(bacl.Owner?.ID, "main-id");
    assert.equal((await s3Error(anon.send(new PutObjectCommand({ Bucket: rw, Key: "anon2.txt", Body: "hi" })))).status, 403);
  });

  it("evaluates bucket policies: public-read, named users, explicit Deny", async () => {
    const b = await bucketWithObject();
    const publicRead = {
      Version: "2012-10-17",
      Statement: [{ Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${b}/*`] }],
    };
    await main.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(publicRead) }));
    assert.equal(await (await fetch(`${t.url}/${b}/obj.txt`)).text(), "secret");
    assert.equal((await fetch(`${t.url}/${b}?list-type=2`)).status, 403);
    const got = await main.send(new GetBucketPolicyCommand({ Bucket: b }));
    assert.deepEqual(JSON.parse(got.Policy as string), publicRead);
    const users = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { AWS: [USERS.alt.accessKey] }, Action: "s3:PutObject", Resource: `arn:aws:s3:::${b}/uploads/*` },
        { Effect: "Allow", Principal: { AWS: `arn:aws:iam::000000000000:user/${USERS.alt.accessKey}` }, Action: "s3:ListBucket", Resource: `arn:aws:s3:::${b}` },
        { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: `arn:aws:s3:::${b}/private/*` },
      ],
    };
    await main.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify(users) }));
    await alt.send(new PutObjectCommand({ Bucket: b, Key: "uploads/a", Body: "a" }));
    assert.equal((await s3Error(alt.send(new PutObjectCommand({ Bucket: b, Key: "elsewhere", Body: "a" })))).status, 403);
    await alt.send(new ListObjectsV2Command({ Bucket: b }));
    await main.send(new PutObjectCommand({ Bucket: b, Key: "public.txt", Body: "p" }));
    // Explicit Deny wins even over the bucket owner.
    assert.equal((await s3Error(main.send(new PutObjectCommand({ Bucket: b, Key: "private/x", Body: "a" })))).status, 403);
    assert.equal((await s3Error(t.client("third").send(new ListObjectsV2Command({ Bucket: b })))).status, 403);
    await main.send(new DeleteBucketPolicyCommand({ Bucket: b }));
    assert.equal((await s3Error(main.send(new GetBucketPolicyCommand({ Bucket: b })))).code, "NoSuchBucketPolicy");
    const bad = await s3Error(main.send(new PutBucketPolicyCommand({ Bucket: b, Policy: "{not json" })));
    assert.equal(bad.code, "MalformedPolicy");
    const other = await s3Error(
      main.send(new PutBucketPolicyCommand({ Bucket: b, Policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::other/*" }] }) })),
    );
    assert.equal(other.code, "MalformedPolicy");
    assert.equal((await s3Error(alt.send(new GetBucketPolicyCommand({ Bucket: b })))).status, 403);
  });

  it("lets only the bucket owner read objects written by others when ACLs say so", async () => {
    const b = await bucketWithObject("public-read-write");
    await alt.send(new PutObjectCommand({ Bucket: b, Key: "by-alt", Body: "alt data" }));
    const acl = await alt.send(new GetObjectAclCommand({ Bucket: b, Key: "by-alt" }));
    assert.equal(acl.Owner?.ID, "alt-id");
    assert.equal(await bodyBytes((await main.send(new GetObjectCommand({ Bucket: b, Key: "by-alt" }))).Body).then(String), "alt data");
    assert.equal((await s3Error(t.client("third").send(new GetObjectCommand({ Bucket: b, Key: "by-alt" })))).status, 403);
  });
});
