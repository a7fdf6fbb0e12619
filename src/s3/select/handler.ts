/**
 * SelectObjectContent (`POST /bucket/key?select&select-type=2`): reads the
 * request, streams the object (or its ScanRange) through decompression,
 * the record reader and the evaluator, and answers with an AWS event
 * stream. Memory stays bounded: one read chunk, one incomplete record and
 * at most {@link FLUSH_BYTES} of output are held at a time, and writes wait
 * for the client to drain.
 */
import { createReadStream } from "node:fs";
import type { ServerResponse } from "node:http";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { PassThrough, type Readable } from "node:stream";
import bz2 from "unbzip2-stream";
import { authorize } from "../access.ts";
import { readXmlBody } from "../bucket-ops.ts";
import type { S3Request, ServerContext } from "../context.ts";
import { S3Error, type S3ErrorCode } from "../errors.ts";
import { requireObject } from "../object-ops.ts";
import type { Bucket, ObjectMeta } from "../store.ts";
import { parseXml } from "../xml.ts";
import { SelectEngine } from "./engine.ts";
import { SelectError } from "./errors.ts";
import { contEvent, endEvent, errorMessage, progressEvent, recordsEvent, type ScanCounters, statsEvent } from "./event-stream.ts";
import { CsvReader, MAX_RECORD } from "./readers.ts";
import { readSelectRequest, type SelectRequest } from "./request.ts";
import { RangeCutter, resolveScanRange } from "./scan-range.ts";
import { parquetChunks } from "./parquet.ts";

/** Output is sent as a Records event once this much is pending. */
export const FLUSH_BYTES = 256 * 1024;
/** A Progress event is sent each time this many more bytes were scanned. */
export const PROGRESS_EVERY = 4 * 1024 * 1024;
/** A Cont (keep-alive) event is sent when nothing was sent for this long. */
export const KEEPALIVE_MS = 1000;
const READ_CHUNK = 256 * 1024;

function toS3(e: SelectError): S3Error {
  return new S3Error(e.code as S3ErrorCode, e.message, { cause: e });
}

/** POST /bucket/key?select&select-type=2 */
export async function selectObjectContent(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  const selectType = r.q("select-type");
  if (selectType !== undefined && selectType !== "2") throw new S3Error("InvalidArgument", `select-type must be 2, not '${selectType}'`);
  const found = requireObject(ctx, r, b, key);
  authorize(r, { action: "s3:GetObject", bucket: b, key, objectAcl: found.acl, permission: "READ" });
  const body = await readXmlBody(r);
  let req: SelectRequest;
  try {
    req = readSelectRequest(parseXml(body));
    SelectEngine.check(req);
  } catch (e) {
    if (e instanceof SelectError) throw toS3(e);
    throw e;
  }
  const range = resolveScanRange(req.scanRange, found.size);
  const header = req.input.kind === "csv" && req.input.csv.fileHeaderInfo !== "NONE" && range !== undefined && range.start > 0 ? await readHeader(ctx, b, found, req) : undefined;
  const res = r.res;
  res.writeHead(200, { "Content-Type": "application/octet-stream" });
  const out = new EventWriter(res, req.progress);
  try {
    const engine = new SelectEngine(req);
    if (header !== undefined) engine.setHeader(header);
    if (req.input.kind === "parquet") await runParquet(ctx.store.dataPath(b.meta.name, found), engine, out);
    else await runText(ctx.store.dataPath(b.meta.name, found), found, req, range, engine, out);
    await out.finish();
  } catch (e) {
    if (res.destroyed) return;
    const se = e instanceof SelectError ? e : undefined;
    await out.flushRecords().catch(() => undefined);
    res.end(errorMessage(se?.code ?? "InternalError", se?.message ?? "We encountered an internal error. Please try again."));
  }
}

/** The first record of the object (the CSV header) when ScanRange starts past it. */
async function readHeader(ctx: ServerContext, b: Bucket, m: ObjectMeta, req: SelectRequest): Promise<string[] | undefined> {
  if (req.input.kind !== "csv") return undefined;
  const csv = req.input.csv;
  const reader = new CsvReader(csv);
  const stream = createReadStream(ctx.store.dataPath(b.meta.name, m), { start: 0, end: Math.min(m.size, 1 << 20) - 1, highWaterMark: 64 * 1024 });
  const dec = new StringDecoder("utf8");
  let header: string[] | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      reader.feed(dec.write(chunk), false, (f) => {
        header = f;
        return false;
      });
      if (header !== undefined) break;
    }
  } finally {
    stream.destroy();
  }
  return header;
}

async function runText(path: string, m: ObjectMeta, req: SelectRequest, range: ReturnType<typeof resolveScanRange>, engine: SelectEngine, out: EventWriter): Promise<void> {
  const rd = Buffer.from(req.input.kind === "csv" ? req.input.csv.recordDelimiter : "\n", "utf8");
  const cutter = range === undefined ? undefined : new RangeCutter(rd, range.start, range.end);
  const readFrom = cutter?.readFrom ?? 0;
  if (m.size === 0 || readFrom >= m.size) {
    const { out: text } = engine.feed("", true);
    await out.records(text);
    return;
  }
  // With a ScanRange, the last record that starts in range ends within MAX_RECORD bytes of its end.
  const readTo = range === undefined ? undefined : Math.min(m.size - 1, range.end + MAX_RECORD + rd.length);
  const file = createReadStream(path, { start: readFrom, ...(readTo !== undefined ? { end: readTo } : {}), highWaterMark: range === undefined ? READ_CHUNK : Math.min(READ_CHUNK, 64 * 1024) });
  const counted = file as Readable;
  // Compressed input: count the bytes read from disk as they go into the decompressor.
  if (req.compression !== "NONE") file.on("data", (c: Buffer | string) => out.scanned(c.length));
  let source: Readable = counted;
  if (req.compression === "GZIP") source = counted.pipe(createGunzip());
  else if (req.compression === "BZIP2") {
    // unbzip2-stream is a classic (through) stream: pipe it into a PassThrough to iterate it.
    const t = bz2();
    const pt = new PassThrough();
    t.on("error", (e: Error) => pt.destroy(e));
    counted.pipe(t as unknown as NodeJS.WritableStream);
    t.pipe(pt);
    source = pt;
  }
  if (source !== counted) counted.on("error", (e) => source.destroy(e));
  const dec = new StringDecoder("utf8");
  try {
    for await (const raw of source as AsyncIterable<Buffer>) {
      if (source === counted) out.scanned(raw.length);
      let chunk = raw;
      let last = false;
      if (cutter !== undefined) {
        const cut = cutter.push(raw);
        chunk = cut.data;
        last = cut.done;
      }
      out.processed(chunk.length);
      const { out: text, done } = engine.feed(dec.write(chunk), last);
      await out.records(text);
      if (done || last || out.closed) return;
    }
    if (cutter !== undefined && !cutter.done && readTo !== undefined && readTo < m.size - 1) {
      throw new SelectError("OverMaxRecordSize", `the last record of the ScanRange is longer than ${MAX_RECORD} bytes`);
    }
    const { out: text } = engine.feed(dec.end(), true);
    await out.records(text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "Z_DATA_ERROR" || (e as NodeJS.ErrnoException).code === "Z_BUF_ERROR") {
      throw new SelectError("InvalidCompressionFormat", `the object is not valid ${req.compression} data: ${(e as Error).message}`, { cause: e });
    }
    if (e instanceof Error && !(e instanceof SelectError) && req.compression === "BZIP2") {
      throw new SelectError("InvalidCompressionFormat", `the object is not valid BZIP2 data: ${e.message}`, { cause: e });
    }
    throw e;
  } finally {
    file.destroy();
    source.destroy();
  }
}

async function runParquet(path: string, engine: SelectEngine, out: EventWriter): Promise<void> {
  for await (const { text, bytes } of parquetChunks(path)) {
    out.scanned(bytes);
    out.processed(bytes);
    const { out: o, done } = engine.feed(text, false);
    await out.records(o);
    if (done || out.closed) return;
  }
  const { out: o } = engine.feed("", true);
  await out.records(o);
}

/** Frames output as events and writes them with backpressure. */
class EventWriter {
  private pending: string[] = [];
  private pendingLen = 0;
  private lastSent = Date.now();
  private lastProgress = 0;
  readonly counters: ScanCounters = { bytesScanned: 0, bytesProcessed: 0, bytesReturned: 0 };

  constructor(
    private readonly res: ServerResponse,
    private readonly progress: boolean,
  ) {}

  get closed(): boolean {
    return this.res.destroyed;
  }

  scanned(n: number): void {
    this.counters.bytesScanned += n;
  }

  processed(n: number): void {
    this.counters.bytesProcessed += n;
  }

  /** Queues output text; sends when enough is pending, plus Progress and Cont events as due. */
  async records(text: string): Promise<void> {
    if (text.length > 0) {
      this.pending.push(text);
      this.pendingLen += text.length;
    }
    if (this.pendingLen >= FLUSH_BYTES) await this.flushRecords();
    if (this.progress && this.counters.bytesScanned - this.lastProgress >= PROGRESS_EVERY) {
      this.lastProgress = this.counters.bytesScanned;
      await this.write(progressEvent(this.counters));
    }
    if (Date.now() - this.lastSent > KEEPALIVE_MS) await this.write(contEvent());
  }

  async flushRecords(): Promise<void> {
    if (this.pendingLen === 0) return;
    const payload = Buffer.from(this.pending.join(""), "utf8");
    this.pending = [];
    this.pendingLen = 0;
    this.counters.bytesReturned += payload.length;
    await this.write(recordsEvent(payload));
  }

  async finish(): Promise<void> {
    await this.flushRecords();
    if (this.progress) await this.write(progressEvent(this.counters));
    await this.write(statsEvent(this.counters));
    this.res.end(endEvent());
  }

  private async write(buf: Buffer): Promise<void> {
    this.lastSent = Date.now();
    if (this.res.destroyed) return;
    if (this.res.write(buf)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.on("drain", done);
      this.res.on("close", done);
    });
  }
}
