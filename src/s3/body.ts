/**
 * Reading request bodies: decoding aws-chunked payloads, hashing (MD5 for the
 * ETag, SHA-256 when the payload is signed), checking Content-MD5 and
 * writing object data durably to a temp file.
 */
import { createHash } from "node:crypto";
import { open, unlink } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { ChunkSigningContext, PayloadMode } from "./auth.ts";
import { decodeAwsChunked } from "./chunked.ts";
import { S3Error } from "./errors.ts";

/** What to verify while reading a body. */
export interface BodyChecks {
  payload: PayloadMode;
  chunkSigning?: ChunkSigningContext;
  /** Content-MD5 header value (base64), if sent. */
  contentMd5?: string;
  /** x-amz-decoded-content-length for aws-chunked bodies. */
  decodedLength?: number;
  /** Largest body accepted (decoded payload bytes). */
  maxSize?: number;
  /**
   * The error code for a body over `maxSize`: EntityTooLarge (the default,
   * for object data) or MaxMessageLengthExceeded (for request documents).
   */
  tooLarge?: "EntityTooLarge" | "MaxMessageLengthExceeded";
  /** Content-Length header; checked against `maxSize` before reading when the payload is not aws-chunked. */
  contentLength?: number;
  /** Receives trailing headers of aws-chunked bodies. */
  trailers?: Map<string, string>;
}

const MiB = 1024 * 1024;

/**
 * Largest request bodies of the operations that send an XML document; a
 * larger one is MaxMessageLengthExceeded before any of it is parsed.
 * Generous next to S3's own bounds (a legal document is at most ~2 MiB),
 * small enough that the linear-time parser holds the event loop for about
 * 100 ms on the costliest body of that size (5 MiB of entity references).
 */
export const XML_BODY_LIMITS = {
  /** DeleteObjects: at most 1000 keys (of up to 1024 bytes each, escaped) with version ids. */
  delete: 2 * MiB,
  /** CompleteMultipartUpload: at most 10,000 parts, each with an ETag and checksums (~2 MiB). */
  completeMultipartUpload: 5 * MiB,
  /** AccessControlPolicy (at most 100 grants), CreateBucketConfiguration, OwnershipControls. */
  other: 1 * MiB,
} as const;

/** A body written to a temp file. */
export interface ReceivedFile {
  path: string;
  size: number;
  /** Binary MD5 of the payload. */
  md5: Buffer;
}

function expectedMd5(contentMd5: string | undefined): Buffer | undefined {
  if (contentMd5 === undefined) return undefined;
  const b = Buffer.from(contentMd5, "base64");
  if (b.length !== 16 || b.toString("base64") !== contentMd5.trim()) throw new S3Error("InvalidDigest");
  return b;
}

function payloadSource(req: Readable, checks: BodyChecks): AsyncIterable<Buffer> {
  if (checks.payload.type !== "streaming") return req as AsyncIterable<Buffer>;
  return decodeAwsChunked(req as AsyncIterable<Buffer>, {
    ...(checks.chunkSigning ? { signing: checks.chunkSigning } : {}),
    trailer: checks.payload.trailer,
    ...(checks.trailers ? { trailers: checks.trailers } : {}),
  });
}

/** Hashes chunks as they pass and checks the digests at the end. */
class BodyVerifier {
  private readonly md5 = createHash("md5");
  private readonly sha = createHash("sha256");
  private readonly wantMd5: Buffer | undefined;
  size = 0;

  constructor(private readonly checks: BodyChecks) {
    this.wantMd5 = expectedMd5(checks.contentMd5);
  }

  /** Refuses a body whose declared length is already over the limit, before reading any of it. */
  checkDeclared(): void {
    const c = this.checks;
    const declared = c.payload.type === "streaming" ? c.decodedLength : c.contentLength;
    if (declared !== undefined) this.checkSize(declared);
  }

  private checkSize(size: number): void {
    if (this.checks.maxSize === undefined || !(size > this.checks.maxSize)) return;
    if (this.checks.tooLarge === "MaxMessageLengthExceeded") throw new S3Error("MaxMessageLengthExceeded");
    throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.checkSize(this.size);
    this.md5.update(chunk);
    if (this.checks.payload.type === "sha256") this.sha.update(chunk);
  }

  finish(): Buffer {
    const md5 = this.md5.digest();
    const p = this.checks.payload;
    if (p.type === "sha256" && this.sha.digest("hex") !== p.hex) throw new S3Error("XAmzContentSHA256Mismatch");
    if (this.checks.decodedLength !== undefined && p.type === "streaming" && this.size !== this.checks.decodedLength) {
      throw new S3Error("IncompleteBody");
    }
    if (this.wantMd5 !== undefined && !this.wantMd5.equals(md5)) throw new S3Error("BadDigest");
    return md5;
  }
}

/**
 * Streams a request body to a new fsynced temp file at `path`. On any
 * failure (bad digest, bad chunk signature, dropped connection) the temp
 * file is removed and the error rethrown.
 */
export async function receiveToFile(req: Readable, path: string, checks: BodyChecks): Promise<ReceivedFile> {
  const v = new BodyVerifier(checks);
  const fh = await open(path, "w");
  let ok = false;
  try {
    for await (const chunk of payloadSource(req, checks)) {
      v.update(chunk);
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
    }
    const md5 = v.finish();
    await fh.sync();
    ok = true;
    return { path, size: v.size, md5 };
  } finally {
    await fh.close().catch(() => undefined);
    if (!ok) await unlink(path).catch(() => undefined);
  }
}

/** Reads a small request body (XML, JSON, form) into memory, with the same checks. */
export async function receiveBuffer(req: Readable, checks: BodyChecks): Promise<Buffer> {
  const v = new BodyVerifier({ maxSize: 20 * MiB, ...checks });
  v.checkDeclared();
  const parts: Buffer[] = [];
  for await (const chunk of payloadSource(req, checks)) {
    v.update(chunk);
    parts.push(chunk);
  }
  v.finish();
  return Buffer.concat(parts);
}
