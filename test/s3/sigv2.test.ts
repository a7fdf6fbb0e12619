/**
 * Signature Version 2 (header `Authorization: AWS AK:sig` and presigned
 * `AWSAccessKeyId`/`Expires`/`Signature` URLs): the known-answer examples of
 * AWS's "Signing and authenticating REST requests", verification through
 * authenticate(), hand-signed requests against the in-process server, and
 * botocore's own SigV2 signer (`signature_version='s3'`) when boto3 is
 * installed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type AuthInput, type AuthResult, authenticate } from "../../src/s3/auth.ts";
import { S3Error } from "../../src/s3/errors.ts";
import {
  SIGV2_SUBRESOURCES,
  canonicalizedAmzHeaders,
  canonicalizedResource,
  parseAuthorizationHeaderV2,
  signV2,
  stringToSignV2,
} from "../../src/s3/sigv2.ts";
import { headerMap, parseQuery } from "../../src/s3/sigv4.ts";
import { UserDirectory } from "../../src/s3/users.ts";
import { type TestServer, USERS, bucketName, startTestServer } from "./helpers.ts";

/** The (non-working) credentials of AWS's SigV2 examples. */
const EXAMPLE = { accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const exampleUsers = new UserDirectory([EXAMPLE]);

/** Raw header pairs (as Node's rawHeaders) to the lowercase map the server uses. */
function headers(...pairs: [string, string][]): Map<string, string[]> {
  return headerMap(pairs.flat());
}

/** The string to sign of a header-signed request, built from the module's canonicalization. */
function headerStringToSign(method: string, url: string, h: Map<string, string[]>, virtualHostBucket?: string): string {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const params = parseQuery(q < 0 ? "" : url.slice(q + 1));
  return stringToSignV2({
    method,
    contentMd5: h.get("content-md5")?.join(",") ?? "",
    contentType: h.get("content-type")?.join(",") ?? "",
    date: h.has("x-amz-date") ? "" : (h.get("date")?.join(",") ?? ""),
    amzHeaders: canonicalizedAmzHeaders(h),
    resource: canonicalizedResource(path, params, virtualHostBucket === undefined ? {} : { virtualHostBucket }),
  });
}

function authInput(method: string, url: string, h: Map<string, string[]>, now: number): AuthInput {
  const q = url.indexOf("?");
  return { method, rawPath: q < 0 ? url : url.slice(0, q), params: parseQuery(q < 0 ? "" : url.slice(q + 1)), headers: h, now };
}

function authError(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  assert.fail("expected an S3Error");
}

function principalKey(r: AuthResult): string {
  return r.principal.type === "user" ? r.principal.user.accessKey : "anonymous";
}

describe("sigv2 known answers (AWS 'Signing and authenticating REST requests' examples)", () => {
  // Each row: the documented request, the documented StringToSign, the documented signature.
  const examples: { name: string; method: string; url: string; host?: string; h: Map<string, string[]>; sts: string; sig: string }[] = [
    {
      name: "Object GET (johnsmith, the original example)",
      method: "GET",
      url: "/photos/puppy.jpg",
      host: "johnsmith",
      h: headers(["Host", "johnsmith.s3.amazonaws.com"], ["Date", "Tue, 27 Mar 2007 19:36:42 +0000"]),
      sts: "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
      sig: "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
    },
    {
      name: "Object GET (awsexamplebucket1)",
      method: "GET",
      url: "/photos/puppy.jpg",
      host: "awsexamplebucket1",
      h: headers(["Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"], ["Date", "Tue, 27 Mar 2007 19:36:42 +0000"]),
      sts: "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
      sig: "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
    },
    {
      name: "Object PUT",
      method: "PUT",
      url: "/photos/puppy.jpg",
      host: "awsexamplebucket1",
      h: headers(["Content-Type", "image/jpeg"], ["Content-Length", "94328"], ["Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"], ["Date", "Tue, 27 Mar 2007 21:15:45 +0000"]),
      sts: "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/awsexamplebucket1/photos/puppy.jpg",
      sig: "iqRzw+ileNPu1fhspnRs8nOjjIA=",
    },
    {
      name: "List (query parameters that are not sub-resources are not signed)",
      method: "GET",
      url: "/?prefix=photos&max-keys=50&marker=puppy",
      host: "awsexamplebucket1",
      h: headers(["User-Agent", "Mozilla/5.0"], ["Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"], ["Date", "Tue, 27 Mar 2007 19:42:41 +0000"]),
      sts: "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/awsexamplebucket1/",
      sig: "m0WP8eCtspQl5Ahe6L1SozdX9YA=",
    },
    {
      name: "Fetch (the ?acl sub-resource is signed)",
      method: "GET",
      url: "/?acl",
      host: "awsexamplebucket1",
      h: headers(["Host", "awsexamplebucket1.s3.us-west-1.amazonaws.com"], ["Date", "Tue, 27 Mar 2007 19:44:46 +0000"]),
      sts: "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/awsexamplebucket1/?acl",
      sig: "82ZHiFIjc+WbcwFKGUVEQspPn+0=",
    },
    {
      name: "Upload (x-amz-* headers lowercased, sorted, repeated values joined; CNAME bucket)",
      method: "PUT",
      url: "/db-backup.dat.gz",
      host: "static.johnsmith.net",
      h: headers(
        ["User-Agent", "curl/7.15.5"],
        ["Host", "static.johnsmith.net:8080"],
        ["Date", "Tue, 27 Mar 2007 21:06:08 +0000"],
        ["x-amz-acl", "public-read"],
        ["content-type", "application/x-download"],
        ["Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="],
        ["X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"],
        ["X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"],
        ["X-Amz-Meta-FileChecksum", "0x02661779"],
        ["X-Amz-Meta-ChecksumAlgorithm", "crc32"],
        ["Content-Disposition", "attachment; filename=database.dat"],
        ["Content-Encoding", "gzip"],
        ["Content-Length", "5913339"],
      ),
      sts:
        "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n" +
        "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n" +
        "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz",
      sig: "ilyl83RwaSoYIEdixDQcA4OnAnc=",
    },
    {
      name: "List all my buckets",
      method: "GET",
      url: "/",
      h: headers(["Host", "s3.us-west-1.amazonaws.com"], ["Date", "Wed, 28 Mar 2007 01:29:59 +0000"]),
      sts: "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
      sig: "qGdzdERIC03wnaRNKh6OqZehG9s=",
    },
    {
      name: "Unicode keys (the path is signed literally, escapes and their case kept)",
      method: "GET",
      url: "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
      h: headers(["Host", "s3.us-west-1.amazonaws.com"], ["Date", "Wed, 28 Mar 2007 01:49:49 +0000"]),
      sts: "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
      sig: "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
    },
  ];
  for (const ex of examples) {
    it(ex.name, () => {
      const sts = headerStringToSign(ex.method, ex.url, ex.h, ex.host);
      assert.equal(sts, ex.sts);
      assert.equal(signV2(EXAMPLE.secretKey, sts), ex.sig);
    });
  }

  it("query string request authentication (Expires replaces Date)", () => {
    const sts = stringToSignV2({ method: "GET", contentMd5: "", contentType: "", date: "1175139620", amzHeaders: "", resource: canonicalizedResource("/photos/puppy.jpg", [], { virtualHostBucket: "johnsmith" }) });
    assert.equal(sts, "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
    assert.equal(signV2(EXAMPLE.secretKey, sts), "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
  });

  it("parses the Authorization header", () => {
    assert.deepEqual(parseAuthorizationHeaderV2("AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="), {
      accessKey: "AKIAIOSFODNN7EXAMPLE",
      signature: "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=",
    });
    for (const bad of ["AWS ", "AWS AKIAIOSFODNN7EXAMPLE", "AWS :sig", "AWS AK:", "AWS AK :sig"]) {
      assert.equal(authError(() => parseAuthorizationHeaderV2(bad)).code, "InvalidArgument", bad);
    }
  });
});

describe("sigv2 canonicalization", () => {
  it("signs the documented sub-resources and response-* overrides, sorted, with decoded values", () => {
    for (const s of ["acl", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy", "requestPayment", "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website"]) {
      assert.ok(SIGV2_SUBRESOURCES.has(s), s);
    }
    const params = parseQuery("uploadId=abc%2Fdef&prefix=x&partNumber=2&response-content-type=text%2Fplain%3B%20charset%3Dutf-8&max-keys=5&response-expires=Thu%2C%2001%20Dec%201994");
    assert.equal(
      canonicalizedResource("/b/my%20key", params),
      "/b/my%20key?partNumber=2&response-content-type=text/plain; charset=utf-8&response-expires=Thu, 01 Dec 1994&uploadId=abc/def",
    );
    // byte order: uploadId < uploads, versionId < versioning < versions
    assert.equal(canonicalizedResource("/b", parseQuery("uploads&uploadId=1")), "/b?uploadId=1&uploads");
    assert.equal(canonicalizedResource("/b", parseQuery("versions&versioning&versionId=v")), "/b?versionId=v&versioning&versions");
    assert.equal(canonicalizedResource("/b/", parseQuery("delete")), "/b/?delete");
    assert.equal(canonicalizedResource("/b/k", parseQuery("acl"), { emptyValue: "equals" }), "/b/k?acl=");
    // names are case-sensitive; unknown parameters are not signed
    assert.equal(canonicalizedResource("/b/k", parseQuery("ACL&foo=bar&encoding-type=url")), "/b/k");
    // virtual-hosted: the Host's bucket is prefixed
    assert.equal(canonicalizedResource("/", parseQuery("location"), { virtualHostBucket: "b" }), "/b/?location");
  });

  it("canonicalizes x-amz-* headers: lowercase, sorted, repeated values joined, trimmed, unfolded", () => {
    const h = headers(["X-Amz-Meta-B", " two "], ["x-amz-meta-a", "one"], ["X-AMZ-META-B", "three"], ["Content-Type", "text/plain"], ["x-amz-meta-c", "long\r\n  folded"]);
    assert.equal(canonicalizedAmzHeaders(h), "x-amz-meta-a:one\nx-amz-meta-b:two,three\nx-amz-meta-c:long folded\n");
    assert.equal(canonicalizedAmzHeaders(h, new Set(["x-amz-meta-b"])), "x-amz-meta-a:one\nx-amz-meta-c:long folded\n");
  });
});

describe("sigv2 verification (authenticate)", () => {
  const unicode = "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re";
  const unicodeDate = "Wed, 28 Mar 2007 01:49:49 +0000";
  const unicodeNow = Date.parse(unicodeDate);

  it("accepts the documented header-signed examples (path-style)", () => {
    const h = headers(["Host", "s3.us-west-1.amazonaws.com"], ["Date", unicodeDate], ["Authorization", "AWS AKIAIOSFODNN7EXAMPLE:DNEZGsoieTZ92F3bUfSPQcbGmlM="]);
    const r = authenticate(authInput("GET", unicode, h, unicodeNow + 60_000), exampleUsers);
    assert.equal(principalKey(r), EXAMPLE.accessKey);
    assert.deepEqual(r.payload, { type: "unsigned" });
    const all = headers(["Date", "Wed, 28 Mar 2007 01:29:59 +0000"], ["Authorization", "AWS AKIAIOSFODNN7EXAMPLE:qGdzdERIC03wnaRNKh6OqZehG9s="]);
    assert.equal(principalKey(authenticate(authInput("GET", "/", all, Date.parse("Wed, 28 Mar 2007 01:29:59 +0000")), exampleUsers)), EXAMPLE.accessKey);
  });

  it("x-amz-date overrides Date (the spec's form and the form of AWS's DELETE example)", () => {
    const path = "/awsexamplebucket1/photos/puppy.jpg";
    const amzDate = "Tue, 27 Mar 2007 21:20:26 +0000";
    const now = Date.parse(amzDate);
    // AWS's example: the x-amz-date value in the Date position.
    const doc = headers(["Date", "Tue, 27 Mar 2007 21:20:27 +0000"], ["x-amz-date", amzDate], ["Authorization", "AWS AKIAIOSFODNN7EXAMPLE:XbyTlbQdu9Xw5o8P4iMwPktxQd8="]);
    assert.equal(principalKey(authenticate(authInput("DELETE", path, doc, now), exampleUsers)), EXAMPLE.accessKey);
    // The spec's rule: empty Date position, x-amz-date signed among the x-amz-* headers.
    const sts = `DELETE\n\n\n\nx-amz-date:${amzDate}\n${path}`;
    const spec = headers(["Date", "Mon, 01 Jan 2001 00:00:00 +0000"], ["x-amz-date", amzDate], ["Authorization", `AWS ${EXAMPLE.accessKey}:${signV2(EXAMPLE.secretKey, sts)}`]);
    assert.equal(principalKey(authenticate(authInput("DELETE", path, spec, now), exampleUsers)), EXAMPLE.accessKey);
    // The Date header is not what is signed once x-amz-date is present.
    const withDate = `DELETE\n\n\nMon, 01 Jan 2001 00:00:00 +0000\nx-amz-date:${amzDate}\n${path}`;
    const wrong = headers(["Date", "Mon, 01 Jan 2001 00:00:00 +0000"], ["x-amz-date", amzDate], ["Authorization", `AWS ${EXAMPLE.accessKey}:${signV2(EXAMPLE.secretKey, withDate)}`]);
    assert.equal(authError(() => authenticate(authInput("DELETE", path, wrong, now), exampleUsers)).code, "SignatureDoesNotMatch");
  });

  it("accepts the documented presigned URL until Expires, then 'Request has expired'", () => {
    const url = "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    const h = headers(["Host", "s3.amazonaws.com"]);
    assert.equal(principalKey(authenticate(authInput("GET", url, h, 1175139620_000 - 1000), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(principalKey(authenticate(authInput("GET", url, h, 1175139620_000), exampleUsers)), EXAMPLE.accessKey);
    const expired = authError(() => authenticate(authInput("GET", url, h, 1175139620_000 + 1000), exampleUsers));
    assert.equal(expired.code, "AccessDenied");
    assert.equal(expired.status, 403);
    assert.equal(expired.message, "Request has expired");
  });

  it("rejects tampered signatures, other requests, unknown keys and skewed clocks", () => {
    const url = "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=";
    const now = 1175139620_000 - 1000;
    const h = headers();
    const tampered = authError(() => authenticate(authInput("GET", `${url}NpgCjnDzrM%2BWFzoENXmpNDUsSn9%3D`, h, now), exampleUsers));
    assert.equal(tampered.code, "SignatureDoesNotMatch");
    assert.equal(tampered.status, 403);
    assert.equal(tampered.extra.StringToSign, "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg");
    // The same signature does not authorize another key, method, expiry or sub-resource.
    const good = "NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    assert.equal(authError(() => authenticate(authInput("GET", `/johnsmith/photos/kitten.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=${good}`, h, now), exampleUsers)).code, "SignatureDoesNotMatch");
    assert.equal(authError(() => authenticate(authInput("DELETE", `${url}${good}`, h, now), exampleUsers)).code, "SignatureDoesNotMatch");
    assert.equal(authError(() => authenticate(authInput("GET", `/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139621&Signature=${good}`, h, now), exampleUsers)).code, "SignatureDoesNotMatch");
    assert.equal(authError(() => authenticate(authInput("GET", `${url}${good}&acl`, h, now), exampleUsers)).code, "SignatureDoesNotMatch");
    assert.equal(authError(() => authenticate(authInput("GET", `${url}${good}`, headers(["x-amz-acl", "public-read"]), now), exampleUsers)).code, "SignatureDoesNotMatch");
    // A non-sub-resource parameter is not signed, as in S3.
    assert.equal(principalKey(authenticate(authInput("GET", `${url}${good}&x-id=GetObject`, h, now), exampleUsers)), EXAMPLE.accessKey);

    const unknown = authError(() => authenticate(authInput("GET", `/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKNOBODY&Expires=1175139620&Signature=${good}`, h, now), exampleUsers));
    assert.equal(unknown.code, "InvalidAccessKeyId");
    assert.equal(unknown.status, 403);
    assert.equal(unknown.extra.AWSAccessKeyId, "AKNOBODY");
    assert.equal(authError(() => authenticate(authInput("GET", `/a/b?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=${good}`, h, now), exampleUsers)).code, "AccessDenied");
    assert.equal(authError(() => authenticate(authInput("GET", `/a/b?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=soon&Signature=${good}`, h, now), exampleUsers)).code, "AccessDenied");

    const hdr = (sig: string, date = unicodeDate) => headers(["Date", date], ["Authorization", `AWS AKIAIOSFODNN7EXAMPLE:${sig}`]);
    assert.equal(authError(() => authenticate(authInput("GET", unicode, hdr("DNEZGsoieTZ92F3bUfSPQcbGmlN="), unicodeNow), exampleUsers)).code, "SignatureDoesNotMatch");
    assert.equal(authError(() => authenticate(authInput("GET", unicode, hdr("DNEZGsoieTZ92F3bUfSPQcbGmlM="), unicodeNow + 16 * 60_000), exampleUsers)).code, "RequestTimeTooSkewed");
    assert.equal(authError(() => authenticate(authInput("GET", unicode, headers(["Authorization", "AWS AKIAIOSFODNN7EXAMPLE:DNEZGsoieTZ92F3bUfSPQcbGmlM="]), unicodeNow), exampleUsers)).code, "AccessDenied");
    assert.equal(authError(() => authenticate(authInput("GET", unicode, headers(["Date", unicodeDate], ["Authorization", "AWS AKIAIOSFODNN7EXAMPLE"]), unicodeNow), exampleUsers)).code, "InvalidArgument");
  });

  it("verifies sub-resources (bare or '=') and the path re-encoded from its decoded form", () => {
    const date = "Tue, 27 Mar 2007 19:44:46 +0000";
    const now = Date.parse(date);
    const sign = (sts: string) => headers(["Date", date], ["Authorization", `AWS ${EXAMPLE.accessKey}:${signV2(EXAMPLE.secretKey, sts)}`]);
    const aclSigned = sign(`GET\n\n\n${date}\n/b/k?acl`);
    assert.equal(principalKey(authenticate(authInput("GET", "/b/k?acl", aclSigned, now), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(principalKey(authenticate(authInput("GET", "/b/k?acl=", aclSigned, now), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(principalKey(authenticate(authInput("GET", "/b/k?acl=", sign(`GET\n\n\n${date}\n/b/k?acl=`), now), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(authError(() => authenticate(authInput("GET", "/b/k?acl", sign(`GET\n\n\n${date}\n/b/k`), now), exampleUsers)).code, "SignatureDoesNotMatch");
    const parts = sign(`PUT\n\n\n${date}\n/b/k?partNumber=3&uploadId=u/1`);
    assert.equal(principalKey(authenticate(authInput("PUT", "/b/k?uploadId=u%2F1&partNumber=3", parts, now), exampleUsers)), EXAMPLE.accessKey);
    // A path-style bucket request is signed as "/bucket/" by botocore (S3's bucket resource ends in "/").
    assert.equal(principalKey(authenticate(authInput("PUT", "/b", sign(`PUT\n\n\n${date}\n/b/`), now), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(principalKey(authenticate(authInput("PUT", "/b", sign(`PUT\n\n\n${date}\n/b`), now), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(authError(() => authenticate(authInput("PUT", "/b/", sign(`PUT\n\n\n${date}\n/c/`), now), exampleUsers)).code, "SignatureDoesNotMatch");
    // A client that signed "%7E" for a key sent as "~" (or the reverse) still names the same object.
    const tilde = sign(`GET\n\n\n${date}\n/b/a~b`);
    assert.equal(principalKey(authenticate(authInput("GET", "/b/a%7Eb", tilde, now), exampleUsers)), EXAMPLE.accessKey);
  });

  it("takes presigned x-amz-* and Content-Type from the query string when not sent as headers", () => {
    const sts = "PUT\n\ntext/csv\n2000000000\nx-amz-acl:public-read\n/b/k.csv";
    const sig = encodeURIComponent(signV2(EXAMPLE.secretKey, sts));
    const url = `/b/k.csv?AWSAccessKeyId=${EXAMPLE.accessKey}&Expires=2000000000&Signature=${sig}&content-type=text%2Fcsv&x-amz-acl=public-read`;
    assert.equal(principalKey(authenticate(authInput("PUT", url, headers(), 1_900_000_000_000), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(principalKey(authenticate(authInput("PUT", url, headers(["Content-Type", "text/csv"]), 1_900_000_000_000), exampleUsers)), EXAMPLE.accessKey);
    assert.equal(authError(() => authenticate(authInput("PUT", url, headers(["Content-Type", "text/html"]), 1_900_000_000_000), exampleUsers)).code, "SignatureDoesNotMatch");
  });

  it("refuses aws-chunked signed payloads (they need a SigV4 seed signature)", () => {
    const date = "Tue, 27 Mar 2007 19:44:46 +0000";
    const sts = `PUT\n\n\n${date}\nx-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n/b/k`;
    const h = headers(["Date", date], ["x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"], ["Authorization", `AWS ${EXAMPLE.accessKey}:${signV2(EXAMPLE.secretKey, sts)}`]);
    assert.equal(authError(() => authenticate(authInput("PUT", "/b/k", h, Date.parse(date)), exampleUsers)).code, "InvalidRequest");
  });
});

/** Percent-encodes a key as clients put it in a path: everything but unreserved characters and '/'. */
function encodePath(key: string): string {
  return key
    .split("/")
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function rawRequest(base: string, method: string, path: string, hdrs: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers: hdrs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}

/** A SigV2 presigned URL path computed here from the documented formula. */
function presign(user: { accessKey: string; secretKey: string }, method: string, path: string, expires: number, query = ""): string {
  const params = parseQuery(query);
  const sts = `${method}\n\n\n${expires}\n${canonicalizedResource(path, params)}`;
  const sig = createHmac("sha1", user.secretKey).update(sts).digest("base64");
  const extra = query === "" ? "" : `${query}&`;
  return `${path}?${extra}AWSAccessKeyId=${encodeURIComponent(user.accessKey)}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
}

describe("sigv2 against the server", () => {
  let t: TestServer;
  const b = bucketName("v2");
  const key = "dir/sp ace+ü~(1).csv";
  const path = `/${b}/${encodePath(key)}`;
  const content = "Id,Score\n1,10\n";
  before(async () => {
    t = await startTestServer();
    const c = t.client();
    await c.send(new CreateBucketCommand({ Bucket: b }));
    await c.send(new PutObjectCommand({ Bucket: b, Key: key, Body: content, ContentType: "text/csv" }));
  });
  after(async () => {
    await t.close();
  });
  const nowS = () => Math.floor(Date.now() / 1000);

  it("serves a presigned GET, with a signed response-content-type override", async () => {
    const ok = await rawRequest(t.url, "GET", presign(USERS.main, "GET", path, nowS() + 300), {});
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.body, content);
    assert.equal(ok.headers["content-type"], "text/csv");
    const q = "response-content-type=application%2Fx-test%3B%20a%3Db&response-content-disposition=attachment";
    const over = await rawRequest(t.url, "GET", presign(USERS.main, "GET", path, nowS() + 300, q), {});
    assert.equal(over.status, 200, over.body);
    assert.equal(over.headers["content-type"], "application/x-test; a=b");
    assert.equal(over.headers["content-disposition"], "attachment");
    // The override is signed: changing it breaks the signature.
    const tamperedOverride = presign(USERS.main, "GET", path, nowS() + 300, q).replace("x-test", "x-evil");
    assert.equal(errorCode((await rawRequest(t.url, "GET", tamperedOverride, {})).body), "SignatureDoesNotMatch");
  });

  it("answers 403 for expired, tampered and unknown-key presigned URLs, and checks the principal's rights", async () => {
    const expired = await rawRequest(t.url, "GET", presign(USERS.main, "GET", path, nowS() - 5), {});
    assert.equal(expired.status, 403);
    assert.equal(errorCode(expired.body), "AccessDenied");
    assert.match(expired.body, /<Message>Request has expired<\/Message>/);

    const good = presign(USERS.main, "GET", path, nowS() + 300);
    const sig = /Signature=([^&]*)/.exec(good)?.[1] ?? "";
    const flipped = sig.startsWith("A") ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
    const tampered = await rawRequest(t.url, "GET", good.replace(`Signature=${sig}`, `Signature=${flipped}`), {});
    assert.equal(tampered.status, 403);
    assert.equal(errorCode(tampered.body), "SignatureDoesNotMatch");
    assert.match(tampered.body, /<StringToSign>GET\n\n\n\d+\n/);

    const unknown = await rawRequest(t.url, "GET", presign({ accessKey: "AKNOBODY", secretKey: "x" }, "GET", path, nowS() + 300), {});
    assert.equal(unknown.status, 403);
    assert.equal(errorCode(unknown.body), "InvalidAccessKeyId");

    // Signed correctly by a user who may not read the object: authenticated, then denied.
    const alt = await rawRequest(t.url, "GET", presign(USERS.alt, "GET", path, nowS() + 300), {});
    assert.equal(alt.status, 403);
    assert.equal(errorCode(alt.body), "AccessDenied");
  });

  it("accepts header-signed requests: PUT with Content-MD5/Content-Type/x-amz-meta, GET ?acl, DELETE", async () => {
    const body = Buffer.from("a,b\n1,2\n");
    const md5 = createHash("md5").update(body).digest("base64");
    const objPath = `/${b}/${encodePath("hdr/é.csv")}`;
    const sign = (method: string, resource: string, date: string, extra: { md5?: string; type?: string; amz?: string } = {}) => {
      const sts = `${method}\n${extra.md5 ?? ""}\n${extra.type ?? ""}\n${date}\n${extra.amz ?? ""}${resource}`;
      return `AWS ${USERS.main.accessKey}:${createHmac("sha1", USERS.main.secretKey).update(sts).digest("base64")}`;
    };
    const date = new Date().toUTCString();
    const put = await rawRequest(
      t.url,
      "PUT",
      objPath,
      {
        Date: date,
        "Content-MD5": md5,
        "Content-Type": "text/csv",
        "X-Amz-Meta-Source": "sigv2",
        "Content-Length": String(body.length),
        Authorization: sign("PUT", objPath, date, { md5, type: "text/csv", amz: "x-amz-meta-source:sigv2\n" }),
      },
      body,
    );
    assert.equal(put.status, 200, put.body);

    const amzDate = new Date().toUTCString();
    const get = await rawRequest(t.url, "GET", objPath, { "x-amz-date": amzDate, Authorization: sign("GET", objPath, "", { amz: `x-amz-date:${amzDate}\n` }) });
    assert.equal(get.status, 200, get.body);
    assert.equal(get.body, body.toString());
    assert.equal(get.headers["x-amz-meta-source"], "sigv2");

    const acl = await rawRequest(t.url, "GET", `${objPath}?acl`, { Date: date, Authorization: sign("GET", `${objPath}?acl`, date) });
    assert.equal(acl.status, 200, acl.body);
    assert.match(acl.body, /<AccessControlPolicy/);
    const unsignedSub = await rawRequest(t.url, "GET", `${objPath}?acl`, { Date: date, Authorization: sign("GET", objPath, date) });
    assert.equal(errorCode(unsignedSub.body), "SignatureDoesNotMatch");

    const skewed = new Date(Date.now() - 20 * 60_000).toUTCString();
    const old = await rawRequest(t.url, "GET", objPath, { Date: skewed, Authorization: sign("GET", objPath, skewed) });
    assert.equal(old.status, 403);
    assert.equal(errorCode(old.body), "RequestTimeTooSkewed");

    const del = await rawRequest(t.url, "DELETE", objPath, { Date: date, Authorization: sign("DELETE", objPath, date) });
    assert.equal(del.status, 204, del.body);
  });
});

const run = promisify(execFile);

/** The interpreter with the newest botocore (Debian 12's 1.29 has a SigV2 bug, below). */
async function pythonWithBoto3(): Promise<string | undefined> {
  let best: { py: string; version: number[] } | undefined;
  for (const py of [...(existsSync("/usr/bin/python3") ? ["/usr/bin/python3"] : []), "python3"]) {
    try {
      const { stdout } = await run(py, ["-c", "import boto3, botocore; print(botocore.__version__)"], { timeout: 30_000 });
      const version = stdout.trim().split(".").map(Number);
      if (!best || compareVersions(version, best.version) > 0) best = { py, version };
    } catch {
      // try the next interpreter
    }
  }
  // botocore before 1.43 (seen: Debian 12's 1.29.27) signs a path-style
  // sub-resource twice ("/b/k?acl?acl"), its own bug, which S3 rejects too
  return best && compareVersions(best.version, [1, 43]) >= 0 ? best.py : undefined;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** botocore's own SigV2 signer (HmacV1Auth / HmacV1QueryAuth) against the server. */
const BOTO3_SIGV2 = String.raw`
import sys, urllib.error, urllib.request
import boto3
from botocore.config import Config

endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version="s3", s3={"addressing_style": "path"}))
key = "dir/é ü+x (1).txt"
s3.create_bucket(Bucket=bucket)
s3.put_object(Bucket=bucket, Key=key, Body=b"hello v2", ContentType="text/plain", Metadata={"k": "v"})
got = s3.get_object(Bucket=bucket, Key=key)
assert got["Body"].read() == b"hello v2"
assert got["Metadata"] == {"k": "v"}, got["Metadata"]
assert s3.get_object_acl(Bucket=bucket, Key=key)["Owner"]["ID"]
assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="dir/")["Contents"]] == [key]

up = s3.create_multipart_upload(Bucket=bucket, Key="mp.bin")
part = s3.upload_part(Bucket=bucket, Key="mp.bin", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 1000)
s3.complete_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=up["UploadId"],
                             MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
assert s3.head_object(Bucket=bucket, Key="mp.bin")["ContentLength"] == 1000

url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key, "ResponseContentType": "application/x-v2"}, ExpiresIn=300)
assert "AWSAccessKeyId=" in url and "Signature=" in url and "X-Amz-" not in url, url
res = urllib.request.urlopen(url)
assert res.read() == b"hello v2"
assert res.headers["Content-Type"] == "application/x-v2", res.headers["Content-Type"]

def status(u):
    try:
        return urllib.request.urlopen(u).status, ""
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

code, body = status(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-60))
assert code == 403 and "<Message>Request has expired</Message>" in body, (code, body)
code, body = status(url.replace("Signature=", "Signature=A"))
assert code == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, (code, body)

s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key}, {"Key": "mp.bin"}]})
s3.delete_bucket(Bucket=bucket)
print("OK")
`;

describe("sigv2 with botocore (signature_version='s3')", () => {
  let t: TestServer;
  let dir: string;
  before(async () => {
    t = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "shoal-s3-sigv2-"));
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("signs headers and presigned URLs that the server verifies", async (tc) => {
    const py = await pythonWithBoto3();
    if (py === undefined) {
      tc.skip("no python3 with boto3/botocore >= 1.43 (older botocore signs path-style sub-resources twice; pip install boto3)");
      return;
    }
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: USERS.main.accessKey,
      AWS_SECRET_ACCESS_KEY: USERS.main.secretKey,
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(dir, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    };
    const { stdout } = await run(py, ["-c", BOTO3_SIGV2, t.url, bucketName("botov2")], { env, timeout: 90_000 });
    assert.equal(stdout.trim(), "OK");
  });
});
