/**
 * Decoder for `Content-Encoding: aws-chunked` bodies: the signed variant
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]), whose every chunk carries a
 * signature chained from the request's seed signature, and the unsigned
 * variant with trailing checksums (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
 */
import { createHash } from "node:crypto";
import type { ChunkSigningContext } from "./auth.ts";
import { S3Error } from "./errors.ts";
import { EMPTY_SHA256, signHex, signaturesEqual } from "./sigv4.ts";

/** Options for {@link decodeAwsChunked}. */
export interface ChunkedOptions {
  /** Present for signed streaming payloads: every chunk signature is verified. */
  signing?: ChunkSigningContext;
  /** Whether trailing headers follow the final chunk. */
  trailer: boolean;
  /** Collects trailing headers (e.g. x-amz-checksum-crc32) when given. */
  trailers?: Map<string, string>;
}

const MAX_LINE = 16 * 1024;

class ByteQueue {
  private bufs: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length > 0) {
      this.bufs.push(b);
      this.length += b.length;
    }
  }
  /** Removes and returns up to n bytes. */
  take(n: number): Buffer {
    const out: Buffer[] = [];
    let need = n;
    while (need > 0 && this.bufs.length > 0) {
      const b = this.bufs[0] as Buffer;
      if (b.length <= need) {
        out.push(b);
        this.bufs.shift();
        need -= b.length;
      } else {
        out.push(b.subarray(0, need));
        this.bufs[0] = b.subarray(need);
        need = 0;
      }
    }
    const r = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
    this.length -= r.length;
    return r;
  }
  /** Removes and returns a line ending in CRLF (without it), or undefined if not complete yet. */
  takeLine(): string | undefined {
    const all = this.bufs.length === 1 ? (this.bufs[0] as Buffer) : Buffer.concat(this.bufs);
    this.bufs = all.length > 0 ? [all] : [];
    const i = all.indexOf("\r\n");
    if (i < 0) {
      if (all.length > MAX_LINE) throw new S3Error("InvalidRequest", "aws-chunked line too long");
      return undefined;
    }
    const line = all.subarray(0, i).toString("latin1");
    this.take(i + 2);
    return line;
  }
}

function chunkStringToSign(ctx: ChunkSigningContext, prev: string, dataHash: string): string {
  return ["AWS4-HMAC-SHA256-PAYLOAD", ctx.amzDate, ctx.scope, prev, EMPTY_SHA256, dataHash].join("\n");
}

interface ChunkHeader {
  size: number;
  signature: string | undefined;
}

function parseChunkHeader(line: string, signed: boolean): ChunkHeader {
  const [sizeHex = "", ...exts] = line.split(";");
  if (!/^[0-9a-fA-F]{1,16}$/.test(sizeHex.trim())) throw new S3Error("IncompleteBody", `bad aws-chunked chunk header '${line.slice(0, 80)}'`);
  let signature: string | undefined;
  for (const e of exts) {
    const [k, v] = e.split("=");
    if (k?.trim() === "chunk-signature") signature = v?.trim();
  }
  if (signed && signature === undefined) throw new S3Error("SignatureDoesNotMatch", "chunk signature missing");
  return { size: parseInt(sizeHex.trim(), 16), signature };
}

/**
 * Decodes an aws-chunked body, yielding the payload bytes. Throws S3Error
 * SignatureDoesNotMatch on a bad chunk signature and IncompleteBody on a
 * truncated stream.
 */
export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, opts: ChunkedOptions): AsyncGenerator<Buffer> {
  const q = new ByteQueue();
  const it = source[Symbol.asyncIterator]();
  let prevSig = opts.signing?.seedSignature ?? "";
  const more = async (): Promise<boolean> => {
    const r = await it.next();
    if (r.done === true) return false;
    q.push(r.value);
    return true;
  };
  const line = async (): Promise<string> => {
    for (;;) {
      const l = q.takeLine();
      if (l !== undefined) return l;
      if (!(await more())) throw new S3Error("IncompleteBody");
    }
  };
  for (;;) {
    const h = parseChunkHeader(await line(), opts.signing !== undefined);
    const hash = opts.signing ? createHash("sha256") : undefined;
    let left = h.size;
    while (left > 0) {
      if (q.length === 0 && !(await more())) throw new S3Error("IncompleteBody");
      const part = q.take(Math.min(left, q.length));
      left -= part.length;
      hash?.update(part);
      if (part.length > 0) yield part;
    }
    if (opts.signing && hash) {
      const expected = signHex(opts.signing.key, chunkStringToSign(opts.signing, prevSig, hash.digest("hex")));
      if (!signaturesEqual(expected, h.signature ?? "")) throw new S3Error("SignatureDoesNotMatch", "chunk signature does not match");
      prevSig = expected;
    }
    if (h.size === 0) break;
    if ((await line()) !== "") throw new S3Error("IncompleteBody", "aws-chunked chunk not followed by CRLF");
  }
  await readTrailers(line, opts);
}

async function readTrailers(line: () => Promise<string>, opts: ChunkedOptions): Promise<void> {
  for (let n = 0; n < 64; n++) {
    let l: string;
    try {
      l = await line();
    } catch (e) {
      // Some clients end the body right after the final chunk header.
      if (e instanceof S3Error && e.code === "IncompleteBody") return;
      throw e;
    }
    if (l === "") return;
    const i = l.indexOf(":");
    if (i > 0 && opts.trailers) opts.trailers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
}
