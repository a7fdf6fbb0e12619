/**
 * A deterministic, seeded fuzz of the S3 server's request path: mutated and
 * hostile XML bodies for DeleteObjects and CompleteMultipartUpload, bad
 * Content-Length headers, broken aws-chunked signing framing, and garbage
 * request lines, query strings and headers, each sent on its own raw TCP
 * connection. Every answer must be a well-formed HTTP response whose status
 * is below 500 (501 NotImplemented is the one S3 5xx allowed) and whose
 * error document, if any, names a code with that status; the server must
 * keep serving throughout.
 *
 *     npx tsx bench/fuzz-s3.ts [--iterations 100000] [--seed 1] [--concurrency 16]
 *
 * prints counts of status codes (and S3 error codes) and every failure.
 * test/s3/xml-hostile.test.ts runs a short fuzz from here in CI.
 */
import { createHash, createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../test/support/node-sha256.ts";
import { S3_ERROR_STATUS } from "../src/s3/errors.ts";
import { startS3Server } from "../src/s3/index.ts";
import { rng as prng } from "../test/support/rng.ts";

/** Credentials the fuzz signs with (a user of the server under test). */
export interface FuzzCredentials {
  accessKey: string;
  secretKey: string;
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Base URL of a running server, e.g. `http://127.0.0.1:9000`. */
  url: string;
  credentials: FuzzCredentials;
  /** Number of fuzz cases (default 1000). */
  iterations?: number;
  /** Seed of the case generator (default 1): the same seed gives the same cases. */
  seed?: number;
  /** Cases in flight at once (default 8). */
  concurrency?: number;
  /** Per-case limit on waiting for the answer, in ms (default 10,000). */
  caseTimeoutMs?: number;
}

/** One case that broke a rule. */
export interface FuzzFailure {
  index: number;
  kind: string;
  reason: string;
  /** The first bytes of the request, for reproducing it. */
  request: string;
  /** The first bytes of the answer. */
  response: string;
}

/** What {@link runFuzz} saw. */
export interface FuzzReport {
  cases: number;
  /** Count per HTTP status ("closed" when the server closed without answering an incomplete request). */
  statuses: Record<string, number>;
  /** Count per S3 error code in error documents. */
  codes: Record<string, number>;
  /** Count per kind of case. */
  kinds: Record<string, number>;
  failures: FuzzFailure[];
  ms: number;
}

// ---------------------------------------------------------------------------
// Seeded randomness


class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[this.int(xs.length)] as T;
  }
}

// ---------------------------------------------------------------------------
// Case generation

const XML_TOKENS = [
  "<", ">", "/>", "</", "&", "&amp;", "&lt;", "&#x110000;", "&#99999999999999;", "&#0;", "&#x;", "&constructor;", "&__proto__;",
  "&bogus;", "<![CDATA[", "]]>", "<![CDATA[x]]>", "<!--", "-->", "<?", "?>", "<?xml version=\"1.0\"?>", "<!DOCTYPE a [<!ENTITY e \"x\">]>",
  "<!ENTITY", "\"", "'", "=", " a=\"1\"", " a=\"1\" a=\"2\"", " xmlns:x=\"u\"", "\u0000", "\uffff", "\ud800", "\ufeff", "\r\n", "\t",
  "<Object>", "</Object>", "<Key>", "</Key>", "<Part>", "</Part>", "<PartNumber>1</PartNumber>", "<ETag>\"e\"</ETag>", "<x:Key>", "</x:Key>",
  "<Quiet>true</Quiet>", "<Delete>", "</Delete>", "<CompleteMultipartUpload>", "</CompleteMultipartUpload>", "<a", "<1a>", "<-a>", "</ a>",
];

function validDelete(rng: Rng): string {
  const n = 1 + rng.int(5);
  const objs = Array.from({ length: n }, (_, i) => `<Object><Key>fuzz-${i}&amp;${rng.int(1000)}</Key>${rng.chance(0.3) ? "<VersionId>null</VersionId>" : ""}</Object>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rng.chance(0.5) ? "<Quiet>true</Quiet>" : ""}${objs.join("")}</Delete>`;
}

function validComplete(rng: Rng): string {
  const n = 1 + rng.int(4);
  const parts = Array.from({ length: n }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>&quot;${createHash("md5").update(String(rng.int(1e6))).digest("hex")}&quot;</ETag></Part>`);
  return `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join("")}</CompleteMultipartUpload>`;
}

/** A hostile document: deep nesting, a flood of elements, entity floods, huge attributes. */
function hostileXml(rng: Rng, root: string): string {
  const n = 1000 + rng.int(50_000);
  switch (rng.int(6)) {
    case 0:
      return `<${root}>${"<a>".repeat(n)}${"</a>".repeat(rng.chance(0.5) ? n : rng.int(n))}</${root}>`;
    case 1:
      return `<${root}>${"<Object/>".repeat(n * 3)}</${root}>`;
    case 2:
      return `<${root}><Object><Key>${"&amp;&#x41;".repeat(n)}</Key></Object></${root}>`;
    case 3:
      return `<${root} ${Array.from({ length: 100 }, (_, i) => `a${i}="v"`).join(" ")}/>`;
    case 4:
      return `<${root}>${"<!---->".repeat(n)}${"<![CDATA[]]>".repeat(n)}</${root}>`;
    default:
      return `<${root}><Object><Key>${"x".repeat(n * 10)}`;
  }
}

/** Applies 1-4 random mutations: flips, insertions of XML tokens, deletions, truncation, duplication. */
function mutate(rng: Rng, doc: string): string {
  let s = doc;
  const rounds = 1 + rng.int(4);
  for (let i = 0; i < rounds; i++) {
    const at = rng.int(s.length + 1);
    switch (rng.int(6)) {
      case 0:
        s = s.slice(0, at) + String.fromCharCode(rng.int(128)) + s.slice(at + 1);
        break;
      case 1:
        s = s.slice(0, at) + rng.pick(XML_TOKENS) + s.slice(at);
        break;
      case 2:
        s = s.slice(0, at) + s.slice(at + 1 + rng.int(8));
        break;
      case 3:
        s = s.slice(0, at);
        break;
      case 4: {
        const len = rng.int(40);
        s = s.slice(0, at) + s.slice(at, at + len).repeat(2 + rng.int(4)) + s.slice(at + len);
        break;
      }
      default:
        s = rng.pick(XML_TOKENS) + s;
    }
  }
  return s;
}

const GARBAGE_QUERIES = [
  "", "?", "?&&&", "?=", "?==&=", "?delete", "?delete=%zz", "?uploads", "?uploadId=", "?uploadId=%ff%fe", "?partNumber=99999999999999999999&uploadId=x",
  "?partNumber=-1&uploadId=x", "?list-type=2&max-keys=-5", "?list-type=2&max-keys=abc&continuation-token=%%%", "?list-type=2&start-after=%C0%80",
  "?max-uploads=1e9&uploads", "?versions&key-marker=%00", "?acl", "?policy", "?location", "?tagging", "?lifecycle", "?X-Amz-Algorithm=AWS4-HMAC-SHA256",
  "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Date=x&X-Amz-Expires=99999999999&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
  "?X-Amz-Signature=zz", "?prefix=%&delimiter=%E2%82", "?encoding-type=url&prefix=\u00e9", "?response-content-type=%0d%0aX:1", `?${"a".repeat(9000)}`,
];

const GARBAGE_PATHS = ["/", "//", "/%", "/%zz", "/%00", "/b/%ff", "/../../etc/passwd", "/{bucket}", "/{bucket}/", "/{bucket}/%2e%2e/x", "/{bucket}/k%", "/*", "/{bucket}/" + "k".repeat(2000), "/A_B", "/{bucket}/a//b"];

const GARBAGE_HEADERS: readonly (readonly [string, string])[] = [
  ["Authorization", "AWS4-HMAC-SHA256"],
  ["Authorization", "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature="],
  ["Authorization", "AWS4-HMAC-SHA256 Credential=AK/20000101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=zz"],
  ["Authorization", "AWS AK:sig"],
  ["Authorization", "Bearer x"],
  ["x-amz-date", "not-a-date"],
  ["x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"],
  ["x-amz-content-sha256", "zz"],
  ["x-amz-decoded-content-length", "-1"],
  ["x-amz-decoded-content-length", "99999999999999999999"],
  ["Content-Encoding", "aws-chunked"],
  ["Content-MD5", "!!!"],
  ["Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="],
  ["Range", "bytes=9-1"],
  ["Range", "bytes=-"],
  ["Range", "bytes=0-1,2-3"],
  ["x-amz-copy-source", "%zz"],
  ["x-amz-copy-source", "/nobucket/key?versionId=1"],
  ["x-amz-copy-source-range", "bytes=x"],
  ["x-amz-acl", "bogus"],
  ["x-amz-grant-read", "id=\"\", uri=\"x\""],
  ["x-amz-meta-a", "\u00e9"],
  ["If-Match", "*"],
  ["If-None-Match", "\"x\""],
  ["If-Modified-Since", "yesterday"],
  ["x-amz-object-ownership", "Nope"],
  ["Content-Type", "multipart/form-data; boundary="],
  ["Content-Type", "multipart/form-data; boundary=x"],
  ["Expect", "100-continue"],
  ["Transfer-Encoding", "chunked"],
];

/** A request as bytes, and whether it is complete (its body as long as it says). */
interface WireRequest {
  kind: string;
  bytes: Buffer;
  complete: boolean;
}

// ---------------------------------------------------------------------------
// Signing


const hex = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");
const hmac = (k: Buffer | string, d: string): Buffer => createHmac("sha256", k).update(d).digest();

/** Builds raw HTTP/1.1 requests signed with SigV4 for one server and user. */
class WireSigner {
  private readonly signer: SignatureV4;
  private readonly host: string;

  constructor(
    url: string,
    private readonly creds: FuzzCredentials,
  ) {
    this.host = new URL(url).host;
    this.signer = new SignatureV4({ credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey }, region: "us-east-1", service: "s3", sha256: Sha256, uriEscapePath: false });
  }

  /** Signs method + path + query with the given headers; the returned headers include Authorization. */
  async sign(method: string, path: string, query: Record<string, string>, headers: Record<string, string>): Promise<Record<string, string>> {
    const signed = await this.signer.sign({ method, protocol: "http:", hostname: this.host.split(":")[0] ?? "", path, query, headers: { host: this.host, ...headers } });
    return signed.headers as Record<string, string>;
  }

  /** The aws-chunked body for `data` whose chunk signatures chain from the request's seed signature. */
  chunkedBody(chunks: readonly Buffer[], headers: Record<string, string>): Buffer {
    const amzDate = headers["x-amz-date"] ?? "";
    const seed = /Signature=([0-9a-f]+)/.exec(headers["authorization"] ?? "")?.[1] ?? "";
    const date = amzDate.slice(0, 8);
    const key = hmac(hmac(hmac(hmac(`AWS4${this.creds.secretKey}`, date), "us-east-1"), "s3"), "aws4_request");
    const scope = `${date}/us-east-1/s3/aws4_request`;
    let prev = seed;
    const out: Buffer[] = [];
    for (const c of [...chunks, Buffer.alloc(0)]) {
      const sig = createHmac("sha256", key).update(["AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, prev, hex(""), hex(c)].join("\n")).digest("hex");
      prev = sig;
      out.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c, Buffer.from("\r\n"));
    }
    return Buffer.concat(out);
  }
}

function rawRequest(method: string, target: string, headers: Record<string, string> | readonly (readonly [string, string])[], body: Buffer): Buffer {
  const list = Array.isArray(headers) ? (headers as readonly (readonly [string, string])[]) : Object.entries(headers);
  const head = `${method} ${target} HTTP/1.1\r\n${list.map(([k, v]) => `${k}: ${v}\r\n`).join("")}Connection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

function queryString(q: Record<string, string>): string {
  const e = Object.entries(q);
  return e.length === 0 ? "" : `?${e.map(([k, v]) => (v === "" ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join("&")}`;
}

/** The fixtures every case may target: a bucket, an object and an open multipart upload. */
interface FuzzTarget {
  bucket: string;
  uploadKey: string;
  uploadId: string;
}

class CaseMaker {
  constructor(
    private readonly signer: WireSigner,
    private readonly host: string,
    private readonly target: FuzzTarget,
  ) {}

  async make(rng: Rng): Promise<WireRequest> {
    const r = rng.int(100);
    if (r < 40) return this.xmlBody(rng);
    if (r < 55) return this.contentLength(rng);
    if (r < 70) return this.chunked(rng);
    return this.garbageLine(rng);
  }

  /** A signed DeleteObjects or CompleteMultipartUpload with a mutated or hostile body (UNSIGNED-PAYLOAD, so the body may be anything). */
  private async xmlBody(rng: Rng): Promise<WireRequest> {
    const del = rng.chance(0.5);
    const base = del ? validDelete(rng) : validComplete(rng);
    const root = del ? "Delete" : "CompleteMultipartUpload";
    const bodyText = rng.chance(0.08) ? hostileXml(rng, root) : rng.chance(0.1) ? base : mutate(rng, base);
    const body = Buffer.from(bodyText, rng.chance(0.05) ? "latin1" : "utf8");
    const path = del ? `/${this.target.bucket}` : `/${this.target.bucket}/${this.target.uploadKey}`;
    const query: Record<string, string> = del ? { delete: "" } : { uploadId: this.target.uploadId };
    const headers = await this.signer.sign("POST", path, query, { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
    const { host: _h, ...rest } = headers;
    return { kind: del ? "xml-delete" : "xml-complete", bytes: rawRequest("POST", path + queryString(query), { Host: this.host, ...rest, "Content-Length": String(body.length) }, body), complete: true };
  }

  /** A signed DeleteObjects with a valid body and a wrong or odd Content-Length. */
  private async contentLength(rng: Rng): Promise<WireRequest> {
    const body = Buffer.from(validDelete(rng));
    const path = `/${this.target.bucket}`;
    const signed = await this.signer.sign("POST", path, { delete: "" }, { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
    const { host: _h, ...rest } = signed;
    const variants: readonly (readonly [string, string][] | undefined)[] = [
      [["Content-Length", String(body.length + 1 + rng.int(100))]],
      [["Content-Length", String(Math.max(0, body.length - 1 - rng.int(body.length)))]],
      [["Content-Length", "-1"]],
      [["Content-Length", "abc"]],
      [["Content-Length", "1e3"]],
      [["Content-Length", "99999999999999999999"]],
      [["Content-Length", String(body.length)], ["Content-Length", String(body.length + 1)]],
      [["Content-Length", String(body.length)], ["Transfer-Encoding", "chunked"]],
      [["Transfer-Encoding", "chunked"]],
      [["Transfer-Encoding", "gzip, chunked"]],
      undefined,
    ];
    const v = rng.pick(variants);
    let sent = body;
    let complete = true;
    const cl = v?.find(([k]) => k === "Content-Length")?.[1];
    const te = v?.some(([k]) => k === "Transfer-Encoding") === true;
    if (te) {
      const framed = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
      sent = rng.chance(0.3) ? framed.subarray(0, rng.int(framed.length)) : framed;
      complete = sent.length === framed.length;
    } else if (cl !== undefined && /^\d+$/.test(cl) && Number(cl) > body.length) complete = false;
    const headers: [string, string][] = [["Host", this.host], ...Object.entries(rest), ...(v ?? [])];
    return { kind: "content-length", bytes: rawRequest("POST", `${path}?delete`, headers, sent), complete };
  }

  /** A signed aws-chunked upload (PutObject or DeleteObjects) with broken framing. */
  private async chunked(rng: Rng): Promise<WireRequest> {
    const del = rng.chance(0.4);
    const data = del ? Buffer.from(validDelete(rng)) : Buffer.alloc(1 + rng.int(3000), 0x61);
    const chunks: Buffer[] = [];
    for (let off = 0; off < data.length; ) {
      const n = 1 + rng.int(Math.max(1, data.length));
      chunks.push(data.subarray(off, off + n));
      off += n;
    }
    const path = del ? `/${this.target.bucket}` : `/${this.target.bucket}/chunked-${rng.int(10)}`;
    const query: Record<string, string> = del ? { delete: "" } : {};
    const method = del ? "POST" : "PUT";
    const signed = await this.signer.sign(method, path, query, {
      "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      "content-encoding": "aws-chunked",
      "x-amz-decoded-content-length": String(rng.chance(0.15) ? data.length + rng.int(10) - 5 : data.length),
    });
    const good = this.signer.chunkedBody(chunks, signed);
    let body = good;
    switch (rng.int(7)) {
      case 0: {
        const at = rng.int(body.length);
        body = Buffer.from(body);
        body[at] = rng.int(256);
        break;
      }
      case 1:
        body = body.subarray(0, rng.int(body.length));
        break;
      case 2:
        body = Buffer.from(body.toString("latin1").replace(/\r\n/, rng.pick(["\n", "", "\r\r\n", ";\r\n"])), "latin1");
        break;
      case 3:
        body = Buffer.from(body.toString("latin1").replace(/^[0-9a-f]+/, rng.pick(["zz", "-1", "ffffffffffffffff", "", "0"])), "latin1");
        break;
      case 4:
        body = Buffer.from(body.toString("latin1").replace(/chunk-signature=[0-9a-f]+/, rng.pick(["chunk-signature=", "chunk-signature", "x=y", "chunk-signature=" + "0".repeat(64)])), "latin1");
        break;
      case 5:
        body = Buffer.concat([Buffer.from(`${"f".repeat(rng.int(20_000))}\r\n`), body]);
        break;
      default:
        break;
    }
    const { host: _h, ...rest } = signed;
    const clVariant = rng.int(4);
    const cl = clVariant === 0 ? body.length + 1 + rng.int(10) : body.length;
    return { kind: "chunked", bytes: rawRequest(method, path + queryString(query), { Host: this.host, ...rest, "Content-Length": String(cl) }, body), complete: cl <= body.length };
  }

  /** An unsigned or wrongly signed request with a random method, path, query and headers. */
  private async garbageLine(rng: Rng): Promise<WireRequest> {
    const method = rng.pick(["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "PROPFIND", "get", "G\u00e9T"]);
    const path = rng.pick(GARBAGE_PATHS).replace("{bucket}", this.target.bucket);
    const query = rng.pick(GARBAGE_QUERIES);
    const headers: [string, string][] = [["Host", this.host]];
    for (let i = rng.int(5); i > 0; i--) headers.push([...rng.pick(GARBAGE_HEADERS)]);
    if (rng.chance(0.3)) {
      const signed = await this.signer.sign(method.toUpperCase(), path.split("?")[0] ?? "/", {}, { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
      for (const [k, v] of Object.entries(signed)) if (k !== "host") headers.push([k, v]);
    }
    let body = Buffer.alloc(0);
    if (rng.chance(0.4)) {
      body = Buffer.from(mutate(rng, rng.chance(0.5) ? validDelete(rng) : "--x\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--x--\r\n"));
    }
    const chunkedTe = headers.some(([k]) => k === "Transfer-Encoding");
    if (!chunkedTe) headers.push(["Content-Length", String(body.length)]);
    const bytes = chunkedTe ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]) : body;
    const line = rng.chance(0.05) ? rng.pick([`${method} ${path}${query}`, `${method}  ${path}${query} HTTP/1.1`, `${method} ${path}${query} HTTP/9.9`]) : undefined;
    const req = rawRequest(method, path + query, headers, bytes);
    const fixed = line === undefined ? req : Buffer.concat([Buffer.from(`${line}\r\n`, "latin1"), req.subarray(req.indexOf("\r\n") + 2)]);
    return { kind: "garbage", bytes: fixed, complete: true };
  }
}

// ---------------------------------------------------------------------------
// Sending and checking

const STATUS_LINE = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n/;

/** Drops interim 1xx responses (e.g. 100 Continue) from the front of what the server sent. */
function finalResponse(data: Buffer): Buffer {
  let d = data;
  for (;;) {
    const m = STATUS_LINE.exec(d.subarray(0, 64).toString("latin1"));
    if (!m || !(m[1] ?? "").startsWith("1")) return d;
    const end = d.indexOf("\r\n\r\n");
    if (end < 0) return d;
    d = d.subarray(end + 4);
  }
}

/** Whether `data` holds a whole final response with a Content-Length body. */
function responseDone(data: Buffer, isHead: boolean): boolean {
  const d = finalResponse(data);
  const end = d.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const head = d.subarray(0, end).toString("latin1");
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  return cl !== undefined && (isHead || d.length - end - 4 >= Number(cl));
}

/**
 * Sends bytes on a fresh connection and collects the answer: until a whole
 * response arrived, the server closed the connection, or `timeoutMs`. The
 * client does not half-close (Node's server aborts a request still being
 * handled when its client sends FIN), except for an incomplete request,
 * which it ends after 200 ms without an answer.
 */
function exchange(url: string, req: WireRequest, timeoutMs: number): Promise<{ data: Buffer; timedOut: boolean }> {
  const u = new URL(url);
  const isHead = req.bytes.subarray(0, 5).toString("latin1") === "HEAD ";
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let settled = false;
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    const finish = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(endTimer);
      sock.destroy();
      resolve({ data: Buffer.concat(got), timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    const endTimer = setTimeout(() => {
      if (!req.complete && got.length === 0) sock.end();
    }, 200);
    sock.on("data", (d: Buffer) => {
      got.push(d);
      if (responseDone(Buffer.concat(got), isHead)) finish(false);
    });
    sock.on("error", () => undefined);
    sock.on("close", () => finish(false));
    sock.write(req.bytes);
  });
}

/** Checks one answer; returns the status (or "closed") and the S3 error code, or a reason it is wrong. */
function check(raw: Buffer, req: WireRequest): { status: string; code?: string } | { reason: string } {
  const data = finalResponse(raw);
  if (raw.length === 0) return req.complete ? { reason: "connection closed without an answer to a complete request" } : { status: "closed" };
  const text = data.toString("latin1");
  const m = STATUS_LINE.exec(text);
  if (!m) return { reason: "not an HTTP/1.1 status line" };
  const status = Number(m[1]);
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd < 0) return { reason: "response head not terminated" };
  const head = text.slice(0, headEnd);
  for (const line of head.split("\r\n").slice(1)) if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: ?[^\r\n]*$/.test(line)) return { reason: `bad header line ${JSON.stringify(line.slice(0, 80))}` };
  const body = data.subarray(Buffer.byteLength(head, "latin1") + 4);
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  // A HEAD answer or one with no body (1xx/204/304) carries none; otherwise the body is exactly Content-Length.
  const isHead = req.bytes.subarray(0, 5).toString("latin1") === "HEAD ";
  if (cl !== undefined && !isHead && status !== 304 && status !== 204 && body.length < Number(cl)) return { reason: `body shorter than Content-Length (${body.length} < ${cl})` };
  const code = /<Error><Code>([^<]*)<\/Code>/.exec(body.toString("utf8"))?.[1];
  if (code !== undefined) {
    const want = (S3_ERROR_STATUS as Record<string, number>)[code];
    if (want !== status) return { reason: `error code ${code} with status ${status}` };
  }
  // 501 NotImplemented is S3's answer to unsupported sub-resources; a HEAD answer has no body to name its code.
  if (status >= 500 && !(status === 501 && (code === "NotImplemented" || isHead))) return { reason: `status ${status}${code ? ` ${code}` : ""}` };
  return code !== undefined ? { status: String(status), code } : { status: String(status) };
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/** Sends a signed request with a small body and returns status and body text. */
async function signedCall(url: string, signer: WireSigner, method: string, path: string, query: Record<string, string>, body = ""): Promise<{ status: number; text: string }> {
  const headers = await signer.sign(method, path, query, { "x-amz-content-sha256": hex(body) });
  const { host: _h, ...rest } = headers;
  const res = await fetch(`${url}${path}${queryString(query)}`, { method, headers: rest, ...(body !== "" ? { body } : {}) });
  return { status: res.status, text: await res.text() };
}

async function setUp(url: string, signer: WireSigner, seed: number): Promise<FuzzTarget> {
  const bucket = `fuzz-${seed >>> 0}-${Date.now().toString(36)}`;
  const made = await signedCall(url, signer, "PUT", `/${bucket}`, {});
  if (made.status !== 200) throw new Error(`fuzz set-up: CreateBucket answered ${made.status}: ${made.text}`);
  return { bucket, uploadKey: "mp", uploadId: await newUpload(url, signer, bucket) };
}

async function newUpload(url: string, signer: WireSigner, bucket: string): Promise<string> {
  const up = await signedCall(url, signer, "POST", `/${bucket}/mp`, { uploads: "" });
  const id = /<UploadId>([^<]+)<\/UploadId>/.exec(up.text)?.[1];
  if (up.status !== 200 || id === undefined) throw new Error(`fuzz set-up: CreateMultipartUpload answered ${up.status}: ${up.text}`);
  return id;
}

/**
 * Runs `iterations` seeded cases against the server at `url`, `concurrency`
 * at a time, checking every answer, and a signed ListObjectsV2 every 100
 * cases and at the end to show the server still serves.
 */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  const seed = opts.seed ?? 1;
  const iterations = opts.iterations ?? 1000;
  const concurrency = opts.concurrency ?? 8;
  const timeoutMs = opts.caseTimeoutMs ?? 10_000;
  const signer = new WireSigner(opts.url, opts.credentials);
  const target = await setUp(opts.url, signer, seed);
  const maker = new CaseMaker(signer, new URL(opts.url).host, target);
  const report: FuzzReport = { cases: 0, statuses: {}, codes: {}, kinds: {}, failures: [], ms: 0 };
  const alive = async (index: number): Promise<void> => {
    const r = await signedCall(opts.url, signer, "GET", `/${target.bucket}`, { "list-type": "2" });
    if (r.status !== 200) report.failures.push({ index, kind: "alive", reason: `ListObjectsV2 answered ${r.status}`, request: "", response: r.text.slice(0, 300) });
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= iterations) return;
      const rng = new Rng((seed * 0x9e3779b1 + i) >>> 0);
      const req = await maker.make(rng);
      const { data, timedOut } = await exchange(opts.url, req, timeoutMs);
      report.cases++;
      bump(report.kinds, req.kind);
      const c = timedOut ? { reason: `no answer within ${timeoutMs} ms` } : check(data, req);
      if ("reason" in c) {
        report.failures.push({ index: i, kind: req.kind, reason: c.reason, request: req.bytes.subarray(0, 600).toString("latin1"), response: data.subarray(0, 600).toString("latin1") });
        bump(report.statuses, "failed");
        continue;
      }
      bump(report.statuses, c.status);
      if (c.code !== undefined) bump(report.codes, c.code);
      if (req.kind === "xml-complete" && (c.status === "200" || c.code === "NoSuchUpload")) target.uploadId = await newUpload(opts.url, signer, target.bucket);
      if (i % 100 === 99) await alive(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  await alive(iterations);
  report.ms = Math.round(performance.now() - started);
  return report;
}

// ---------------------------------------------------------------------------
// Command line

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { iterations: { type: "string", default: "10000" }, seed: { type: "string", default: "1" }, concurrency: { type: "string", default: "16" } },
  });
  const iterations = Number(values.iterations);
  const seed = Number(values.seed);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(iterations) || iterations < 1) throw new TypeError("--iterations must be a positive integer");
  if (!Number.isInteger(seed)) throw new TypeError("--seed must be an integer");
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError("--concurrency must be a positive integer");
  const root = await mkdtemp(join(tmpdir(), "shoal-s3-fuzz-"));
  const credentials = { accessKey: "AKFUZZ0000000000", secretKey: "fuzz-secret-key-00000000000000000000000" };
  const internal: string[] = [];
  const server = await startS3Server({
    root,
    port: 0,
    users: [{ ...credentials, id: "fuzz-id", displayName: "fuzz" }],
    onRequest: (r) => {
      if (r.status >= 500 && r.error?.code !== "NotImplemented") internal.push(`${r.method} ${r.url.slice(0, 200)} -> ${r.status} ${r.error?.code ?? ""}: ${String((r.error?.cause as Error | undefined)?.stack ?? r.error?.message)}`);
    },
  });
  try {
    const report = await runFuzz({ url: server.url, credentials, iterations, seed, concurrency });
    console.log(`fuzz-s3: ${report.cases} cases, seed ${seed}, ${report.ms} ms (${Math.round((report.cases / report.ms) * 1000)}/s)`);
    console.log("kinds:", report.kinds);
    console.log("statuses:", report.statuses);
    console.log("error codes:", report.codes);
    console.log(`5xx answers logged by the server: ${internal.length}`);
    for (const line of internal.slice(0, 20)) console.log("  ", line);
    const byReason: Record<string, number> = {};
    for (const f of report.failures) bump(byReason, `${f.kind}: ${f.reason.replace(/\d+/g, "N")}`);
    console.log(`failures: ${report.failures.length}`, byReason);
    for (const f of report.failures.slice(0, 10)) console.log(JSON.stringify(f, null, 1));
    process.exitCode = report.failures.length > 0 || internal.length > 0 ? 1 : 0;
  } finally {
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
