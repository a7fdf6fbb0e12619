/**
 * Pure pieces of the S3 server: XML, key order, bucket names, listing,
 * SigV4 canonicalization (AWS documentation example), policies, POST
 * policies, ranges and the aws-chunked decoder.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aclAllows, cannedAcl } from "../../src/s3/acl.ts";
import { decodeAwsChunked } from "../../src/s3/chunked.ts";
import { parseRange } from "../../src/s3/conditional.ts";
import { S3Error } from "../../src/s3/errors.ts";
import { compareKeys, validateBucketName, validateKey } from "../../src/s3/keys.ts";
import { listPage } from "../../src/s3/listing.ts";
import { evaluatePolicy, parsePolicy } from "../../src/s3/policy.ts";
import { checkPostPolicy, parsePostPolicy } from "../../src/s3/post-policy.ts";
import { canonicalQueryString, canonicalRequest, parseQuery, signHex, signingKey, stringToSign, uriEncode } from "../../src/s3/sigv4.ts";
import { BucketIndex, type ObjectMeta } from "../../src/s3/store.ts";
import { splitPath } from "../../src/s3/server.ts";
import { childText, parseXml, x, xmlDocument } from "../../src/s3/xml.ts";

const user = (id: string) => ({ type: "user" as const, user: { accessKey: `AK-${id}`, secretKey: "s", id, displayName: id } });

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e.code;
    throw e;
  }
  return "none";
}

describe("s3 xml", () => {
  it("escapes text and parses request bodies", () => {
    assert.equal(x("Key", `a<b>&"c'\u0001`).raw, "<Key>a&lt;b&gt;&amp;&quot;c&apos;&#x1;</Key>");
    assert.match(xmlDocument("R", x("A", 1)), /^<\?xml version="1.0" encoding="UTF-8"\?>\n<R xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><A>1<\/A><\/R>$/);
    const doc = parseXml(`<?xml version="1.0"?><Delete xmlns="x"><Quiet>true</Quiet><Object><Key>a&amp;b &#233;</Key></Object><!-- c --><Object><Key><![CDATA[<raw>]]></Key></Object></Delete>`);
    assert.equal(doc.name, "Delete");
    assert.equal(childText(doc, "Quiet"), "true");
    assert.deepEqual(doc.children.filter((c) => c.name === "Object").map((o) => childText(o, "Key")), ["a&b \u00e9", "<raw>"]);
    for (const bad of ["", "<a>", "<a></b>", "<a>&unknown;</a>", '<!DOCTYPE a [<!ENTITY x "y">]><a/>', "<a/><b/>"]) {
      assert.equal(code(() => parseXml(bad)), "MalformedXML", bad);
    }
  });
});

describe("s3 keys and names", () => {
  it("orders keys by UTF-8 bytes", () => {
    const keys = ["\u{1F600}", "\uffff", "\u00e9", "Z", "a", "a/b", "a-b", "\ue000"];
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual([...keys].sort(compareKeys), byBytes);
  });

  it("validates bucket names and keys", () => {
    for (const ok of ["abc", "my.bucket-1", "a".repeat(63)]) validateBucketName(ok);
    for (const bad of ["ab", "ABC", "a_b", ".ab", "ab-", "a..b", "10.0.0.1", "xn--abc", "a-.b"]) {
      assert.equal(code(() => validateBucketName(bad)), "InvalidBucketName", bad);
    }
    validateKey("../../etc/passwd");
    assert.equal(code(() => validateKey("a\u0000b")), "InvalidArgument");
    assert.equal(code(() => validateKey("\ud800")), "InvalidArgument");
    assert.equal(code(() => validateKey("k".repeat(1025))), "KeyTooLongError");
  });

  it("splits path-style URLs", () => {
    assert.deepEqual(splitPath("/"), { bucket: undefined, key: undefined });
    assert.deepEqual(splitPath("/b"), { bucket: "b", key: undefined });
    assert.deepEqual(splitPath("/b/"), { bucket: "b", key: undefined });
    assert.deepEqual(splitPath("/b/a%2Fc/%E2%82%AC"), { bucket: "b", key: "a/c/\u20ac" });
    assert.equal(code(() => splitPath("/b/%E2%82")), "InvalidArgument");
  });
});

describe("s3 listing", () => {
  const index = new BucketIndex();
  for (const k of ["a/1", "a/2", "b", "c/d/e", "c/x", "d"]) index.set({ key: k } as ObjectMeta);

  it("rolls keys up into common prefixes and pages through them", () => {
    const p1 = listPage(index, { prefix: "", delimiter: "/", after: "", maxKeys: 2 });
    assert.deepEqual([p1.commonPrefixes, p1.contents.map((m) => m.key), p1.isTruncated, p1.last], [["a/"], ["b"], true, "b"]);
    const p2 = listPage(index, { prefix: "", delimiter: "/", after: "b", maxKeys: 2 });
    assert.deepEqual([p2.commonPrefixes, p2.contents.map((m) => m.key), p2.isTruncated], [["c/"], ["d"], false]);
    const p3 = listPage(index, { prefix: "c/", delimiter: "/", after: "", maxKeys: 10 });
    assert.deepEqual([p3.commonPrefixes, p3.contents.map((m) => m.key)], [["c/d/"], ["c/x"]]);
    const after = listPage(index, { prefix: "", delimiter: "/", after: "a/", maxKeys: 10 });
    assert.deepEqual(after.commonPrefixes, ["c/"]);
    assert.equal(listPage(index, { prefix: "", delimiter: "", after: "", maxKeys: 0 }).isTruncated, false);
  });

  it("keeps the index sorted through inserts and deletes", () => {
    const i = new BucketIndex();
    for (const k of ["m", "c", "x", "a", "c"]) i.set({ key: k } as ObjectMeta);
    i.delete("x");
    i.delete("nope");
    assert.deepEqual(i.keys, ["a", "c", "m"]);
  });
});

describe("s3 sigv4", () => {
  it("reproduces the AWS documentation GET Object example signature", () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (GET Object example)
    const headers = new Map([
      ["host", ["examplebucket.s3.amazonaws.com"]],
      ["range", ["bytes=0-9"]],
      ["x-amz-content-sha256", ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]],
      ["x-amz-date", ["20130524T000000Z"]],
    ]);
    const signed = ["host", "range", "x-amz-content-sha256", "x-amz-date"];
    const creq = canonicalRequest({
      method: "GET",
      canonicalUri: "/test.txt",
      canonicalQuery: "",
      canonicalHeaders: signed.map((h) => `${h}:${headers.get(h)?.[0]}\n`).join(""),
      signedHeaders: signed.join(";"),
      payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
    const key = signingKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3");
    const sig = signHex(key, stringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", creq));
    assert.equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  });

  it("canonicalizes query strings", () => {
    assert.equal(canonicalQueryString(parseQuery("prefix=a%20b&max-keys=2&acl")), "acl=&max-keys=2&prefix=a%20b");
    assert.equal(canonicalQueryString(parseQuery("X-Amz-Signature=abc&b=2"), "X-Amz-Signature"), "b=2");
    assert.equal(uriEncode("a b/ü~", true), "a%20b/%C3%BC~");
  });
});

describe("s3 aws-chunked", () => {
  async function decode(body: string): Promise<string> {
    const out: Buffer[] = [];
    async function* src(): AsyncGenerator<Buffer> {
      for (const c of body) yield Buffer.from(c, "latin1");
    }
    for await (const b of decodeAwsChunked(src(), { trailer: true })) out.push(b);
    return Buffer.concat(out).toString("latin1");
  }
  it("decodes unsigned chunks with trailers split at any byte", async () => {
    assert.equal(await decode("5\r\nhello\r\n3\r\n wo\r\n0\r\nx-amz-checksum-crc32:abc=\r\n\r\n"), "hello wo");
    await assert.rejects(decode("5\r\nhel"), (e: unknown) => e instanceof S3Error && e.code === "IncompleteBody");
  });
});

describe("s3 ranges", () => {
  it("parses satisfiable, suffix, open and unsatisfiable ranges", () => {
    assert.deepEqual(parseRange("bytes=0-0", 10), { start: 0, end: 0 });
    assert.deepEqual(parseRange("bytes=-4", 10), { start: 6, end: 9 });
    assert.deepEqual(parseRange("bytes=8-", 10), { start: 8, end: 9 });
    assert.equal(parseRange("items=1-2", 10), undefined);
    assert.equal(parseRange("bytes=5-2", 10), undefined);
    assert.equal(code(() => parseRange("bytes=10-", 10)), "InvalidRange");
    assert.equal(code(() => parseRange("bytes=0-1", 0)), "InvalidRange");
  });
});

describe("s3 acl and policy", () => {
  it("grants canned ACL permissions", () => {
    const acl = cannedAcl("public-read", "owner");
    assert.ok(aclAllows(acl, { type: "anonymous" }, "READ"));
    assert.ok(!aclAllows(acl, { type: "anonymous" }, "WRITE"));
    assert.ok(aclAllows(acl, user("owner"), "WRITE_ACP"));
    const auth = cannedAcl("authenticated-read", "owner");
    assert.ok(aclAllows(auth, user("x"), "READ"));
    assert.ok(!aclAllows(auth, { type: "anonymous" }, "READ"));
    assert.equal(code(() => cannedAcl("bogus", "o")), "InvalidArgument");
  });

  it("evaluates Allow, Deny, principals, wildcards and conditions", () => {
    const p = parsePolicy(
      JSON.stringify({
        Statement: [
          { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/pub/*" },
          { Effect: "Allow", Principal: { AWS: ["arn:aws:iam::1:user/alice"] }, Action: "s3:*", Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"] },
          { Effect: "Deny", Principal: { AWS: "*" }, Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/pub/keep?" },
          { Effect: "Allow", Principal: "*", Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Condition: { StringLike: { "s3:prefix": "pub/*" } } },
        ],
      }),
      "b",
    );
    const ev = (principal: ReturnType<typeof user> | { type: "anonymous" }, action: string, resource: string, ctx: Record<string, string> = {}) =>
      evaluatePolicy(p, { principal, action, resource, context: new Map(Object.entries(ctx).map(([k, v]) => [k, [v]])) });
    assert.equal(ev({ type: "anonymous" }, "s3:GetObject", "arn:aws:s3:::b/pub/x"), "Allow");
    assert.equal(ev({ type: "anonymous" }, "s3:GetObject", "arn:aws:s3:::b/priv/x"), "None");
    assert.equal(ev(user("alice"), "s3:PutObject", "arn:aws:s3:::b/any"), "Allow");
    assert.equal(ev(user("alice"), "s3:DeleteObject", "arn:aws:s3:::b/pub/keep1"), "Deny");
    assert.equal(ev(user("bob"), "s3:PutObject", "arn:aws:s3:::b/any"), "None");
    assert.equal(ev({ type: "anonymous" }, "s3:ListBucket", "arn:aws:s3:::b", { "s3:prefix": "pub/a" }), "Allow");
    assert.equal(ev({ type: "anonymous" }, "s3:ListBucket", "arn:aws:s3:::b", { "s3:prefix": "x" }), "None");
    for (const bad of ["nope", "{}", JSON.stringify({ Statement: [{ Effect: "Maybe", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }] })]) {
      assert.equal(code(() => parsePolicy(bad, "b")), "MalformedPolicy");
    }
  });

  it("checks POST policy conditions", () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64");
    const policy = parsePostPolicy(enc({ expiration: "2099-01-01T00:00:00Z", conditions: [{ bucket: "b" }, ["starts-with", "$key", "up/"], ["content-length-range", 0, 10]] }));
    const form = (o: Record<string, string>) => new Map(Object.entries(o));
    checkPostPolicy(policy, form({ key: "up/a", policy: "x", awsaccesskeyid: "k", signature: "s" }), "b", Date.now());
    assert.equal(code(() => checkPostPolicy(policy, form({ key: "down/a" }), "b", Date.now())), "AccessDenied");
    assert.equal(code(() => checkPostPolicy(policy, form({ key: "up/a", extra: "1" }), "b", Date.now())), "AccessDenied");
    assert.equal(code(() => checkPostPolicy(policy, form({ key: "up/a", "x-ignore-me": "1" }), "other", Date.now())), "AccessDenied");
    assert.equal(code(() => checkPostPolicy(policy, form({ key: "up/a" }), "b", Date.parse("2100-01-01"))), "AccessDenied");
    assert.equal(code(() => parsePostPolicy(enc({ conditions: [] }))), "InvalidPolicyDocument");
    assert.equal(code(() => parsePostPolicy(enc({ expiration: "2099-01-01T00:00:00Z", conditions: [["content-length-range", 0]] }))), "InvalidPolicyDocument");
  });
});
