/**
 * Byte-range blocks for parallel readers (DataFrame CSV / JSON lines, Bag text).
 *
 * `splitBlocks` cuts objects into nominal `[start, end)` ranges of about
 * `blocksize` bytes without reading them. `readBlock` aligns a range to whole
 * lines, Dask-style, so that every line of the object is produced by exactly one
 * block:
 *
 * - a block with `start > 0` skips up to and including the first delimiter that
 *   begins at or after `start` (that line belongs to the previous block);
 * - a block reads past `end` through the first delimiter that begins at or after
 *   `end` (or to the end of the object).
 *
 * Compressed objects (`.gz`) cannot be split: they form one block each, and
 * `readBlock` / `openDecompressed` / `readText` decompress them transparently.
 *
 * @module
 */
import type { Readable } from "node:stream";
import { createGunzip, gunzip as gunzipCb } from "node:zlib";
import { promisify } from "node:util";
import { InvalidArgumentError, StorageError } from "./errors.ts";
import { createReadStream, expandPaths, read, readRange, stat } from "./ops.ts";
import type { StorageOptions, UrlLike } from "./types.ts";
import { urlToString } from "./url.ts";

const gunzip = promisify(gunzipCb);

/** Compression codecs the storage layer understands. @example `readText(url, { compression: Compression.gzip })` */
export const Compression = { gzip: "gzip" } as const;
/** A compression codec name. @example `const c: Compression = "gzip";` */
export type Compression = (typeof Compression)[keyof typeof Compression];

/** Compression option: a codec, `null` for none, or `"infer"` from the file extension (default). @example `{ compression: null }` */
export type CompressionOption = Compression | null | "infer";

/**
 * The compression implied by a URL's extension (`.gz`, `.gzip`), or null.
 *
 * @example
 * ```ts
 * inferCompression("s3://b/q.csv.gz"); // "gzip"
 * ```
 */
export function inferCompression(url: string): Compression | null {
  const path = url.replace(/[?#].*$/, "").toLowerCase();
  return path.endsWith(".gz") || path.endsWith(".gzip") ? "gzip" : null;
}

function resolveCompression(url: string, c: CompressionOption | undefined): Compression | null {
  return c === undefined || c === "infer" ? inferCompression(url) : c;
}

/**
 * One nominal byte range of an object; see {@link readBlock}.
 *
 * @example
 * ```ts
 * const b: Block = { url: "data/q.csv", start: 0, end: 64 << 20, compression: null };
 * ```
 */
export interface Block {
  /** Object URL. */
  url: string;
  /** First byte (inclusive). */
  start: number;
  /** End (exclusive). For compressed objects, the compressed size. */
  end: number;
  /** Compression of the whole object; such a block always covers all of it. */
  compression: Compression | null;
}

/** Options for {@link splitBlocks}. @example `splitBlocks("logs/*.txt", 1 << 26, { compression: null })` */
export interface SplitOptions extends StorageOptions {
  /** Compression; default `"infer"` from the extension. Compressed objects form one block. */
  compression?: CompressionOption;
}

/**
 * Split objects (a URL, glob, directory or list — see `expandPaths`) into
 * nominal byte ranges of `blocksize` bytes. An empty object gives one empty block.
 *
 * @example
 * ```ts
 * const blocks = await splitBlocks("s3://b/questions-*.csv", 64 * 1024 * 1024);
 * const parts = await Promise.all(blocks.map((b) => readBlock(b.url, b.start, b.end)));
 * ```
 */
export async function splitBlocks(
  input: UrlLike | readonly UrlLike[],
  blocksize: number,
  opts: SplitOptions = {},
): Promise<Block[]> {
  if (!Number.isSafeInteger(blocksize) || blocksize <= 0) {
    throw new InvalidArgumentError(`blocksize must be a positive integer, got ${String(blocksize)}`);
  }
  const urls = await expandPaths(input, opts);
  const infos = await Promise.all(urls.map((u) => stat(u, opts)));
  const out: Block[] = [];
  for (const info of infos) {
    const compression = resolveCompression(info.url, opts.compression);
    if (compression !== null || info.size <= blocksize) {
      out.push({ url: info.url, start: 0, end: info.size, compression });
      continue;
    }
    for (let s = 0; s < info.size; s += blocksize) {
      out.push({ url: info.url, start: s, end: Math.min(s + blocksize, info.size), compression: null });
    }
  }
  return out;
}

/** Options for {@link readBlock}. @example `readBlock(u, s, e, { delimiter: "\r\n" })` */
export interface ReadBlockOptions extends StorageOptions {
  /** Record delimiter; default `"\n"`. `null` reads the exact byte range. Multi-byte delimiters must not overlap themselves (`"\r\n"` is fine; `"||"` with empty records is ambiguous). */
  delimiter?: string | Uint8Array | null;
  /** Skip the partial first record when `start > 0`; default true. */
  skipFirstPartialLine?: boolean;
  /** Compression; default `"infer"`. A compressed object must be read as one block (`start` 0). */
  compression?: CompressionOption;
  /** How far past `end` to read per request while looking for the end of the last record. Default 64 KiB. */
  lookahead?: number;
}

/**
 * Read the records of block `[start, end)` of an object, aligned to delimiters
 * (see the module overview): consecutive blocks produce every record exactly once.
 *
 * @example
 * ```ts
 * const text = (await readBlock("data/q.csv", 1 << 20, 2 << 20)).toString("utf8");
 * ```
 */
export async function readBlock(url: UrlLike, start: number, end: number, opts: ReadBlockOptions = {}): Promise<Buffer> {
  const u = urlToString(url);
  const compression = resolveCompression(u, opts.compression);
  if (compression !== null) {
    if (start !== 0) {
      throw new StorageError(
        `${u}: a ${compression}-compressed object cannot be split into byte ranges. Use splitBlocks(), which gives one block per compressed object.`,
        { url: u, code: "CompressedRange" },
      );
    }
    return decompressBuffer(u, await read(u, opts), compression);
  }
  if (opts.delimiter === null) return readRange(u, start, end, opts);
  const delim = Buffer.from(opts.delimiter ?? "\n");
  if (delim.length === 0) throw new InvalidArgumentError("delimiter must not be empty", u);
  const lookahead = Math.max(opts.lookahead ?? 64 * 1024, delim.length);
  const skipFirst = (opts.skipFirstPartialLine ?? true) && start > 0;

  // Fetch [start, end + lookahead) and extend until a delimiter that begins at or after `end` is complete.
  let fetchedTo = end + lookahead;
  let buf = await readRange(u, start, fetchedTo, opts);
  let eof = buf.length < fetchedTo - start;
  let from = 0;
  if (skipFirst) {
    const d = buf.indexOf(delim, 0);
    if (d < 0 || start + d >= end) return Buffer.alloc(0); // no record begins in this block
    from = d + delim.length;
  }
  const endRel = end - start;
  let stop: number;
  for (;;) {
    const d = buf.indexOf(delim, Math.max(endRel, from));
    if (d >= 0) {
      stop = d + delim.length;
      break;
    }
    if (eof) {
      stop = buf.length;
      break;
    }
    const step = Math.max(lookahead, buf.length - endRel);
    const more = await readRange(u, fetchedTo, fetchedTo + step, opts);
    eof = more.length < step;
    fetchedTo += step;
    buf = Buffer.concat([buf, more]);
  }
  return buf.subarray(from, stop);
}

async function decompressBuffer(url: string, data: Buffer, compression: Compression): Promise<Buffer> {
  try {
    switch (compression) {
      case "gzip":
        return await gunzip(data);
    }
  } catch (err) {
    throw new StorageError(`${url}: cannot decompress as ${compression} (${(err as Error).message}). Is the file really compressed? Pass {compression: null} to read raw bytes.`, {
      url,
      cause: err,
      code: "BadCompression",
    });
  }
}

/** Options for {@link openDecompressed} and {@link readText}. @example `readText("x.dat", { compression: "gzip" })` */
export interface DecompressOptions extends StorageOptions {
  /** Compression; default `"infer"` from the extension. */
  compression?: CompressionOption;
}

/**
 * A stream of the object's bytes, gunzipped when it is compressed (`.gz`).
 *
 * @example
 * ```ts
 * for await (const chunk of openDecompressed("s3://b/log.jsonl.gz")) handle(chunk);
 * ```
 */
export function openDecompressed(url: UrlLike, opts: DecompressOptions = {}): Readable {
  const u = urlToString(url);
  const raw = createReadStream(u, opts);
  const compression = resolveCompression(u, opts.compression);
  if (compression === null) return raw;
  const gz = createGunzip();
  raw.on("error", (err) => gz.destroy(err));
  gz.on("close", () => raw.destroy());
  return raw.pipe(gz);
}

/**
 * The whole object as text (UTF-8 by default), decompressed when compressed.
 *
 * @example
 * ```ts
 * const csv = await readText("https://example.org/data.csv.gz");
 * ```
 */
export async function readText(url: UrlLike, opts: DecompressOptions & { encoding?: BufferEncoding } = {}): Promise<string> {
  const u = urlToString(url);
  const compression = resolveCompression(u, opts.compression);
  const raw = await read(u, opts);
  const data = compression === null ? raw : await decompressBuffer(u, raw, compression);
  return data.toString(opts.encoding ?? "utf8");
}

/**
 * Iterate the lines (without their `\n` / `\r\n`) of an object, decompressing it when compressed.
 *
 * @example
 * ```ts
 * for await (const line of readLines("s3://b/events.jsonl")) JSON.parse(line);
 * ```
 */
export async function* readLines(url: UrlLike, opts: DecompressOptions = {}): AsyncGenerator<string> {
  let rest = "";
  const decoder = new TextDecoder("utf-8");
  for await (const chunk of openDecompressed(url, opts) as AsyncIterable<Buffer>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      yield line.endsWith("\r") ? line.slice(0, -1) : line;
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}
