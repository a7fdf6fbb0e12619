/**
 * Hostile request documents: the XML parser on deep nesting, element
 * floods, truncated and mutated documents and entity/CDATA oddities; the
 * server answering such DeleteObjects and CompleteMultipartUpload bodies
 * (and oversized ones) with S3's 400 errors without holding its event loop;
 * and a short seeded fuzz of the whole request path (bench/fuzz-s3.ts runs
 * it for longer).
 */
import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../support/node-sha256.ts";
import { runFuzz } from "../../bench/fuzz-s3.ts";
import { XML_BODY_LIMITS, receiveBuffer } from "../../src/s3/body.ts";
import { S3Error } from "../../src/s3/errors.ts";
import type { RequestLog } from "../../src/s3/server.ts";
import { type XmlElement, XML_LIMITS, childText, childrenNamed, parseXml } from "../../src/s3/xml.ts";
import { type TestServer, USERS, bucketName, startTestServer } from "./helpers.ts";

const MiB = 1024 * 1024;

/** Asserts that parsing throws S3Error MalformedXML (and nothing else: no RangeError, no TypeError). */
function assertMalformed(doc: string | Buffer, limits?: Parameters<typeof parseXml>[1]): void {
  assert.throws(
    () => parseXml(doc, limits),
    (e: unknown) => e instanceof S3Error && e.code === "MalformedXML" && e.status === 400,
    `expected MalformedXML for ${JSON.stringify(String(doc).slice(0, 80))}`,
  );
}

function nested(root: string, depth: number, close = true): string {
  return `<${root}>${"<a>".repeat(depth)}${close ? "</a>".repeat(depth) : ""}</${root}>`;
}

/**
 * Runs `f` and measures the CPU time this process spent on it (not wall
 * time: other processes on a loaded machine must not fail these tests; the
 * bounds are 10x above what the parser needs and 10x below what a quadratic
 * one would).
 */
function timed<T>(f: () => T): { value: T | undefined; error: unknown; ms: number } {
  const t = process.cpuUsage();
  const ms = (): number => {
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1000;
  };
  try {
    const value = f();
    return { value, error: undefined, ms: ms() };
  } catch (error) {
    return { value: undefined, error, ms: ms() };
  }
}

/** A small seeded PRNG (mulberry32) for reproducible mutations. */
function rng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const DELETE_DOC =
  `<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>` +
  `<Object><Key>a&amp;b &#233; &#x1F600;</Key><VersionId>null</VersionId></Object><!-- c --><Object><Key><![CDATA[<raw>&amp;]]></Key></Object></Delete>`;

describe("s3 xml parser: hostile documents", () => {
  it("rejects 200,000 levels of nesting with MalformedXML, closed or not, in milliseconds", () => {
    for (const doc of [nested("Delete", 200_000), nested("Delete", 200_000, false), "<a>".repeat(200_000)]) {
      const r = timed(() => parseXml(doc));
      assert.ok(r.error instanceof S3Error && r.error.code === "MalformedXML", String(r.error));
      assert.ok(r.ms < 500, `took ${r.ms} ms`);
    }
  });

  it("parses 200,000 levels without recursion when the depth limit is lifted", () => {
    const doc = parseXml(nested("Delete", 200_000), { maxDepth: Infinity, maxElements: Infinity });
    let depth = 0;
    for (let el: XmlElement | undefined = doc; el !== undefined; el = el.children[0]) depth++;
    assert.equal(depth, 200_001);
  });

  it("accepts nesting to maxDepth (32 by default) and refuses one level more", () => {
    assert.equal(XML_LIMITS.maxDepth, 32);
    parseXml("<a>".repeat(32) + "</a>".repeat(32));
    parseXml("<a>".repeat(31) + "<b/>" + "</a>".repeat(31));
    assertMalformed("<a>".repeat(33) + "</a>".repeat(33));
    parseXml("<a><b><c/></b></a>", { maxDepth: 3 });
    assertMalformed("<a><b><c></c></b></a>", { maxDepth: 2 });
  });

  it("bounds the element count and stops early on a huge flat body", () => {
    parseXml(`<r>${"<a/>".repeat(99_999)}</r>`);
    assertMalformed(`<r>${"<a/>".repeat(100_000)}</r>`);
    assertMalformed("<r><a/><a/></r>", { maxElements: 2 });
    const flood = `<Delete>${"<a/>".repeat((19 * MiB) / 4)}</Delete>`;
    const r = timed(() => parseXml(flood));
    assert.ok(r.error instanceof S3Error && r.error.code === "MalformedXML", String(r.error));
    assert.ok(r.ms < 1000, `19 MiB of empty elements took ${r.ms} ms`);
  });

  it("parses in linear time: four times the text and entities take about four times as long", () => {
    const soup = (mib: number): string => `<Delete><Object><Key>${"a&amp;&#x41;&lt;".repeat((mib * MiB) / 16)}</Key></Object></Delete>`;
    const small = soup(2);
    const big = soup(8);
    parseXml(small); // warm up
    const tSmall = Math.min(timed(() => parseXml(small)).ms, timed(() => parseXml(small)).ms);
    const r = timed(() => parseXml(big));
    assert.equal(r.error, undefined);
    assert.equal(childText(childrenNamed(r.value as XmlElement, "Object")[0] as XmlElement, "Key")?.slice(0, 8), "a&A<a&A<");
    // Linear would be ~4x; quadratic ~16x. Allow generous noise.
    assert.ok(r.ms < Math.max(10 * tSmall, 100), `2 MiB: ${tSmall.toFixed(0)} ms, 8 MiB: ${r.ms.toFixed(0)} ms`);
    const text = `<a>${"x".repeat(19 * MiB)}</a>`;
    assert.ok(timed(() => parseXml(text)).ms < 1000);
  });

  it("scans forward only: 300,000 short texts and attributes before a single late `&` stay linear", () => {
    // A search for the next "&" from each text would rescan the rest of the document every time (quadratic: minutes).
    const unlimited = { maxElements: Infinity };
    for (const doc of [`<r>${"<a/>x".repeat(300_000)}&amp;</r>`, `<r>${"<a b='1'/>".repeat(300_000)}&amp;</r>`]) {
      const r = timed(() => parseXml(doc, unlimited));
      assert.equal(r.error, undefined);
      assert.equal(r.value?.children.length, 300_000);
      assert.ok(r.ms < 2000, `took ${r.ms.toFixed(0)} ms`);
    }
  });

  it("fits S3's largest legal documents within the limits", () => {
    const parts = Array.from({ length: 10_000 }, (_, i) => `<Part><ETag>&quot;${"0".repeat(32)}&quot;</ETag><PartNumber>${i + 1}</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumSHA256>${"A".repeat(43)}=</ChecksumSHA256></Part>`);
    const complete = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n  ${parts.join("\n  ")}\n</CompleteMultipartUpload>`;
    assert.ok(Buffer.byteLength(complete) < XML_BODY_LIMITS.completeMultipartUpload, `${Buffer.byteLength(complete)} bytes`);
    assert.equal(childrenNamed(parseXml(complete), "Part").length, 10_000);
    const objects = Array.from({ length: 1000 }, (_, i) => `<Object><Key>${String(i).padStart(4, "0")}${"k&amp;".repeat(204)}</Key><VersionId>${"v".repeat(32)}</VersionId></Object>`);
    const del = `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>false</Quiet>${objects.join("")}</Delete>`;
    assert.ok(Buffer.byteLength(del) < XML_BODY_LIMITS.delete, `${Buffer.byteLength(del)} bytes`);
    const keys = childrenNamed(parseXml(del), "Object").map((o) => childText(o, "Key") ?? "");
    assert.equal(keys.length, 1000);
    assert.equal(keys[0]?.length, 4 + 2 * 204);
  });

  it("rejects every truncation of a valid document with MalformedXML", () => {
    assert.equal(childrenNamed(parseXml(DELETE_DOC), "Object").length, 2);
    for (let n = 0; n < DELETE_DOC.length; n++) assertMalformed(DELETE_DOC.slice(0, n));
    const bytes = Buffer.from(DELETE_DOC);
    for (let n = 0; n < bytes.length; n++) assertMalformed(bytes.subarray(0, n));
  });

  it("answers seeded random mutations with a tree or MalformedXML, never another error", () => {
    const tokens = ["<", ">", "/>", "</", "&", "&amp;", "&#x110000;", "&#99999999999999;", "&#;", "&#x;", "&constructor;", "&__proto__;", "<![CDATA[", "]]>", "<!--", "-->", "<?", "?>", "<!DOCTYPE x>", "\"", "'", "=", " a='1'", "\u0000", "\ud800", "<a", "</a>", "<a>"];
    const next = rng(42);
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      let s = DELETE_DOC;
      for (let k = 1 + next(4); k > 0; k--) {
        const at = next(s.length + 1);
        const op = next(4);
        if (op === 0) s = s.slice(0, at) + String.fromCharCode(next(128)) + s.slice(at + 1);
        else if (op === 1) s = s.slice(0, at) + (tokens[next(tokens.length)] ?? "") + s.slice(at);
        else if (op === 2) s = s.slice(0, at) + s.slice(at + 1 + next(6));
        else s = s.slice(0, at) + s.slice(at, at + 20).repeat(3) + s.slice(at + 20);
      }
      try {
        parseXml(s);
        parsed++;
      } catch (e) {
        assert.ok(e instanceof S3Error && e.code === "MalformedXML", `${String(e)} for ${JSON.stringify(s)}`);
      }
    }
    assert.ok(parsed > 100 && parsed < 4900, `parsed ${parsed} of 5000`);
  });

  it("decodes the predefined entities and character references, and refuses every other reference", () => {
    const doc = parseXml(`<a b="&quot;&apos;&#x3c;">&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;&#0000000067;</a>`);
    assert.equal(doc.text, `<>&"'AB\u{1F600}C`);
    assert.equal(doc.attrs["b"], `"'<`);
    for (const ref of ["&#x110000;", "&#1114112;", "&#99999999999999999999;", "&#;", "&#x;", "&#xZZ;", "&#12a;", "&bogus;", "&constructor;", "&__proto__;", "&toString;", "&AMP;", "&amp", "&", "& amp;", "&#x41"]) {
      assertMalformed(`<a>x${ref}y</a>`);
      assertMalformed(`<a b="${ref}"/>`);
    }
    assertMalformed(`<a>&#x${"0".repeat(40)}41;</a>`);
  });

  it("refuses DOCTYPE and entity declarations (no entity expansion)", () => {
    assertMalformed(`<!DOCTYPE a [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>`);
    assertMalformed(`<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>`);
    assertMalformed(`<a><!ENTITY x "y"></a>`);
    assertMalformed(`<a><!DOCTYPE a></a>`);
  });

  it("keeps CDATA verbatim and refuses unterminated or misplaced CDATA", () => {
    assert.equal(parseXml("<a><![CDATA[<b>&amp;</b>]]></a>").text, "<b>&amp;</b>");
    assert.equal(parseXml("<a>x<![CDATA[]]]]><![CDATA[>]]>y</a>").text, "x]]>y");
    assert.equal(parseXml("<a><![CDATA[]]></a>").text, "");
    assert.equal(parseXml("<a>1<b/>2<![CDATA[3]]><!-- no -->4<?pi x?>5</a>").text, "12345");
    assertMalformed("<a><![CDATA[never closed</a>");
    assertMalformed("<a><![CDATA[x]]</a>");
    assertMalformed("<![CDATA[x]]><a/>");
    assertMalformed("<a/><![CDATA[x]]>");
    assertMalformed("<a><![cdata[x]]></a>");
  });

  it("checks tags, attributes and what surrounds the root", () => {
    assert.equal(parseXml("\ufeff<?xml version='1.0'?><!-- c -->\n<x:Delete xmlns:x='u'><x:Key>k</x:Key ></x:Delete>\n<!-- t -->\n").name, "Delete");
    assert.equal(parseXml(`<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"/>`).attrs["type"], "CanonicalUser");
    for (const bad of [
      "", "   ", "text", "<a>", "<a></b>", "<a></a><b></b>", "<a/>trailing", "<a></ a>", "<x:a></a>", "<a></x:a>", "<a></ab>", "<ab></a>",
      "<1a/>", "<-a/>", "<a b/>", "<a b=1/>", "<a b=\"1\"c=\"2\"/>", "<a b=\"1\" b=\"2\"/>", "<a b=\"x<y\"/>", "<a b=\"unterminated/>", "<a <b/>",
      "<a><!-- never closed</a>", "<a><? never closed</a>", "<!-- c --><?pi", "<a>\u0000", "</a>", "<a/ >", "<>", "< a/>",
    ]) assertMalformed(bad);
    assertMalformed(`<a ${Array.from({ length: 65 }, (_, i) => `b${i}="v"`).join(" ")}/>`);
    parseXml(`<a ${Array.from({ length: 64 }, (_, i) => `b${i}="v"`).join(" ")}/>`);
  });

  it("keeps the parse of the documents S3 clients send", () => {
    const doc = parseXml(DELETE_DOC);
    assert.equal(doc.name, "Delete");
    assert.equal(childText(doc, "Quiet"), "true");
    assert.deepEqual(childrenNamed(doc, "Object").map((o) => childText(o, "Key")), ["a&b \u00e9 \u{1F600}", "<raw>&amp;"]);
    assert.equal(parseXml(Buffer.from("<a>\u00e9t\u00e9</a>", "utf8")).text, "\u00e9t\u00e9");
  });
});

describe("s3 request bodies: size caps of XML operations", () => {
  /** A body that fails the test if anything reads it. */
  const unread = (): Readable =>
    new Readable({
      read() {
        this.destroy(new Error("the body was read"));
      },
    });
  const tooBig = (e: unknown): boolean => e instanceof S3Error && e.code === "MaxMessageLengthExceeded" && e.status === 400 && e.message === "Your request was too big.";

  it("refuses a declared Content-Length or x-amz-decoded-content-length over the cap before reading", async () => {
    await assert.rejects(receiveBuffer(unread(), { payload: { type: "unsigned" }, maxSize: 10, tooLarge: "MaxMessageLengthExceeded", contentLength: 11 }), tooBig);
    const streaming = { type: "streaming", signed: false, trailer: false } as const;
    await assert.rejects(receiveBuffer(unread(), { payload: streaming, maxSize: 10, tooLarge: "MaxMessageLengthExceeded", decodedLength: 11, contentLength: 5 }), tooBig);
  });

  it("refuses a body that grows past the cap while streaming, and keeps EntityTooLarge for object data", async () => {
    await assert.rejects(receiveBuffer(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), { payload: { type: "unsigned" }, maxSize: 10, tooLarge: "MaxMessageLengthExceeded" }), tooBig);
    await assert.rejects(receiveBuffer(Readable.from([Buffer.alloc(11)]), { payload: { type: "unsigned" }, maxSize: 10 }), (e: unknown) => e instanceof S3Error && e.code === "EntityTooLarge");
    const ok = await receiveBuffer(Readable.from([Buffer.from("<a/>")]), { payload: { type: "unsigned" }, maxSize: 10, tooLarge: "MaxMessageLengthExceeded", contentLength: 4 });
    assert.equal(ok.toString(), "<a/>");
  });
});


describe("s3 server: hostile XML request bodies", () => {
  let t: TestServer;
  const logs: RequestLog[] = [];
  let bucket: string;
  let uploadId: string;

  before(async () => {
    t = await startTestServer({ minPartSize: 1, onRequest: (l) => logs.push(l) });
    bucket = bucketName("hostile");
    const s3 = t.client();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "mp" }))).UploadId ?? "";
  });
  after(async () => t.close());

  /** A signed POST (UNSIGNED-PAYLOAD, so the body is not hashed) with a raw body. */
  async function post(path: string, query: Record<string, string>, body: Buffer | ReadableStream<Uint8Array>): Promise<{ status: number; code: string | undefined; ms: number }> {
    const u = new URL(t.url);
    const signer = new SignatureV4({ credentials: { accessKeyId: USERS.main.accessKey, secretAccessKey: USERS.main.secretKey }, region: "us-east-1", service: "s3", sha256: Sha256, uriEscapePath: false });
    const signed = await signer.sign({ method: "POST", protocol: "http:", hostname: u.hostname, port: Number(u.port), path, query, headers: { host: u.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } });
    const { host: _h, ...headers } = signed.headers as Record<string, string>;
    const qs = Object.entries(query).map(([k, v]) => (v === "" ? k : `${k}=${encodeURIComponent(v)}`)).join("&");
    const started = performance.now();
    const res = await fetch(`${t.url}${path}?${qs}`, { method: "POST", headers, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
    const text = await res.text();
    return { status: res.status, code: /<Error><Code>([^<]+)<\/Code>/.exec(text)?.[1], ms: performance.now() - started };
  }

  function stream(total: number, piece: Buffer): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream({
      pull(c) {
        if (sent >= total) return c.close();
        sent += piece.length;
        c.enqueue(new Uint8Array(piece));
      },
    });
  }

  type Sent = Record<string, { status: number; code: string | undefined; ms: number; stallMs?: number }>;

  /**
   * Sends each request in turn, returning the answers, each with the longest
   * event-loop stall while it was in flight, and the longest overall (ms).
   * Server and client share this process, so a stall is the server's or
   * the client's (fetch streaming the body), never another process's.
   */
  async function sendAll(requests: Record<string, () => Promise<Sent[string]>>): Promise<{ results: Sent; maxDelayMs: number }> {
    const results: Sent = {};
    let maxDelayMs = 0;
    for (const [name, send] of Object.entries(requests)) {
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const r = await send();
      delay.disable();
      results[name] = { ...r, stallMs: delay.max / 1e6 };
      maxDelayMs = Math.max(maxDelayMs, delay.max / 1e6);
    }
    return { results, maxDelayMs };
  }

  const summary = (results: Sent): Record<string, string> => Object.fromEntries(Object.entries(results).map(([k, r]) => [k, `${r.status} ${r.code}`]));
  const timings = (results: Sent): string => Object.entries(results).map(([k, r]) => `${k} ${r.ms.toFixed(0)} ms (stall ${r.stallMs?.toFixed(0)} ms)`).join(", ");

  // Event-loop stalls are printed as diagnostics, not asserted: wall-clock
  // bounds fail on a loaded machine. What bounds the stall is asserted
  // instead: oversized bodies are refused by the size cap before any parse,
  // deep ones by the depth bound at level 33 (numbers: docs/benchmarks.md).
  it("answers 200k-level and 19 MiB DeleteObjects and CompleteMultipartUpload bodies with 400 (size cap before parsing, depth bound)", async (ctx) => {
    const deepDelete = Buffer.from(nested("Delete", 200_000));
    const deepComplete = Buffer.from(nested("CompleteMultipartUpload", 200_000));
    const hugeDelete = Buffer.from(`<Delete>${"<a/>".repeat((19 * MiB) / 4)}</Delete>`);
    const hugeComplete = Buffer.from(`<CompleteMultipartUpload>${"<Part></Part>".repeat((19 * MiB) / 13)}</CompleteMultipartUpload>`);
    const { results, maxDelayMs } = await sendAll({
      deepDelete: () => post(`/${bucket}`, { delete: "" }, deepDelete),
      deepComplete: () => post(`/${bucket}/mp`, { uploadId }, deepComplete),
      hugeDelete: () => post(`/${bucket}`, { delete: "" }, hugeDelete),
      hugeComplete: () => post(`/${bucket}/mp`, { uploadId }, hugeComplete),
      // No Content-Length (Transfer-Encoding: chunked): refused while streaming in.
      streamedDelete: () => post(`/${bucket}`, { delete: "" }, stream(19 * MiB, Buffer.from("<a/>".repeat(16384)))),
    });
    ctx.diagnostic(`max event-loop delay ${maxDelayMs.toFixed(0)} ms; ${timings(results)}`);
    assert.deepEqual(summary(results), {
      deepDelete: "400 MalformedXML",
      deepComplete: "400 MalformedXML",
      hugeDelete: "400 MaxMessageLengthExceeded",
      hugeComplete: "400 MaxMessageLengthExceeded",
      streamedDelete: "400 MaxMessageLengthExceeded",
    });
    assert.deepEqual(logs.filter((l) => l.status >= 500), []);
  });

  it("answers the costliest bodies just under the size caps with the proper errors", async (ctx) => {
    const { delete: del, completeMultipartUpload: complete } = XML_BODY_LIMITS;
    const elementFlood = Buffer.from(`<Delete>${"<Object/>".repeat(Math.floor((del - 32) / 9))}</Delete>`);
    const entityFlood = Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${"&amp;".repeat(Math.floor((complete - 128) / 5))}</ETag></Part></CompleteMultipartUpload>`);
    const cdataEtag = Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag><![CDATA[${"&".repeat(complete - 256)}]]></ETag></Part></CompleteMultipartUpload>`);
    // A 2 MiB key is echoed back, escaped (8 MiB), in the DeleteResult.
    const cdataKey = Buffer.from(`<Delete><Object><Key><![CDATA[${"<".repeat(del - 256)}]]></Key></Object></Delete>`);
    const { results, maxDelayMs } = await sendAll({
      elementFlood: () => post(`/${bucket}`, { delete: "" }, elementFlood),
      entityFlood: () => post(`/${bucket}/mp`, { uploadId }, entityFlood),
      cdataEtag: () => post(`/${bucket}/mp`, { uploadId }, cdataEtag),
      cdataKey: () => post(`/${bucket}`, { delete: "" }, cdataKey),
    });
    ctx.diagnostic(`max event-loop delay ${maxDelayMs.toFixed(0)} ms; ${timings(results)}`);
    assert.deepEqual(summary(results), { elementFlood: "400 MalformedXML", entityFlood: "400 InvalidPart", cdataEtag: "400 InvalidPart", cdataKey: "200 undefined" });
    // Typically ~100 ms here (the linear parse of 5 MiB of entities); seconds before the rewrite.
  });

  it("serves DeleteObjects and CompleteMultipartUpload normally right after", async () => {
    const s3 = t.client();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "x&y", Body: "1" }));
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "x&y" }, { Key: "absent" }] } }));
    assert.deepEqual(del.Deleted?.map((d) => d.Key).sort(), ["absent", "x&y"]);
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: "mp", UploadId: uploadId, PartNumber: 1, Body: "part" }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: "mp", UploadId: uploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag ?? "" }] } }));
    assert.match(done.ETag ?? "", /-1"$/);
  });

  it("answers a seeded fuzz of the request path with well-formed responses below 500 and keeps serving", async () => {
    const before = logs.length;
    const report = await runFuzz({ url: t.url, credentials: USERS.main, iterations: 1500, seed: 7, concurrency: 8 });
    assert.deepEqual(report.failures, []);
    assert.equal(report.cases, 1500);
    const fiveHundreds = logs.slice(before).filter((l) => l.status >= 500 && l.error?.code !== "NotImplemented");
    assert.deepEqual(fiveHundreds.map((l) => `${l.method} ${l.url} ${l.status} ${String(l.error?.cause ?? l.error?.message)}`), []);
    assert.ok((report.codes["MalformedXML"] ?? 0) > 100, JSON.stringify(report.codes));
    assert.ok((report.statuses["200"] ?? 0) > 10, JSON.stringify(report.statuses));
  });
});
