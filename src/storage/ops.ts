/**
 * The storage operations: scheme dispatch plus the generic parts every backend
 * shares (argument checks, write streams, globbing, cross-backend copy).
 *
 * @module
 */
import { Readable, Writable } from "node:stream";
import { InvalidArgumentError, NoMatchesError, NotFoundError, StorageError } from "./errors.ts";
import { globBase, globToRegExp, hasGlob, unescapeGlob } from "./glob.ts";
import { backendFor } from "./registry.ts";
import type {
  FileInfo,
  ListEntry,
  ListOptions,
  ReadStreamOptions,
  StorageOptions,
  UrlLike,
  WriteData,
  WriteOptions,
  WriteResult,
} from "./types.ts";
import { splitBucketKey, urlToString } from "./url.ts";

function checkOffset(name: string, v: unknown, url: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${String(v)}`, url);
  }
  return v;
}

function checkRange(url: string, start: unknown, end: unknown): { start: number; end: number | undefined } {
  const s = start === undefined ? 0 : checkOffset("start", start, url);
  const e = end === undefined ? undefined : checkOffset("end", end, url);
  if (e !== undefined && e < s) throw new InvalidArgumentError(`end (${e}) must be >= start (${s})`, url);
  return { start: s, end: e };
}

/**
 * Metadata of the object at `url`.
 *
 * @example
 * ```ts
 * const { size, mtime } = await stat("s3://bucket/data.csv");
 * ```
 */
export async function stat(url: UrlLike, opts: StorageOptions = {}): Promise<FileInfo> {
  const u = urlToString(url);
  return backendFor(u).stat(u, opts);
}

/**
 * Whether an object (file) exists at `url`. Directories and prefixes are not objects.
 *
 * @example
 * ```ts
 * if (!(await exists("out/result.csv"))) await write("out/result.csv", csv);
 * ```
 */
export async function exists(url: UrlLike, opts: StorageOptions = {}): Promise<boolean> {
  try {
    await stat(url, opts);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/**
 * Bytes `[start, end)` of the object (end exclusive, clamped to its size; a
 * range past the end gives an empty buffer). Local files read only the range.
 *
 * @example
 * ```ts
 * const header = await readRange("s3://b/big.csv", 0, 4096);
 * ```
 */
export async function readRange(url: UrlLike, start: number, end?: number, opts: StorageOptions = {}): Promise<Buffer> {
  const u = urlToString(url);
  const r = checkRange(u, start, end);
  return backendFor(u).readRange(u, r.start, r.end, opts);
}

/**
 * The whole object as a Buffer.
 *
 * @example
 * ```ts
 * const text = (await read("https://example.org/a.txt")).toString("utf8");
 * ```
 */
export async function read(url: UrlLike, opts: StorageOptions = {}): Promise<Buffer> {
  const u = urlToString(url);
  return backendFor(u).readRange(u, 0, undefined, opts);
}

/**
 * A Node Readable (also an async iterable of Buffers) over bytes `[start, end)`.
 * The request starts on first read; errors (e.g. NotFoundError) arrive as `error` events
 * or as rejections of the iteration. Backpressure is respected.
 *
 * @example
 * ```ts
 * for await (const chunk of createReadStream("s3://b/log.txt", { start: 1024 })) process(chunk);
 * ```
 */
export function createReadStream(url: UrlLike, opts: ReadStreamOptions = {}): Readable {
  const u = urlToString(url);
  const r = checkRange(u, opts.start, opts.end);
  const backend = backendFor(u);
  async function* pull(): AsyncGenerator<Buffer> {
    const s = await backend.openReadStream(u, r.start, r.end, opts);
    for await (const c of s) yield Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
  }
  return Readable.from(pull(), { objectMode: false });
}

async function* toChunks(data: WriteData): AsyncGenerator<Uint8Array> {
  if (typeof data === "string") {
    yield Buffer.from(data, "utf8");
  } else if (data instanceof Uint8Array) {
    yield data;
  } else if (data !== null && typeof data === "object" && Symbol.asyncIterator in data) {
    for await (const c of data as AsyncIterable<Uint8Array | string>) {
      if (typeof c === "string") yield Buffer.from(c, "utf8");
      else if (c instanceof Uint8Array) yield c;
      else throw new InvalidArgumentError(`write() chunks must be Uint8Array or string, got ${typeof c}`);
    }
  } else {
    throw new InvalidArgumentError("data must be a string, a Uint8Array, a Readable or an AsyncIterable<Uint8Array>");
  }
}

/**
 * Wrap a write source so that, if the source itself throws, the caller gets the
 * source's own error back rather than the backend's wrapping of it.
 */
function trackSource(
  src: AsyncIterable<Uint8Array>,
  signal: AbortSignal | undefined,
): { source: AsyncIterable<Uint8Array>; rethrow: (err: unknown) => never } {
  let failed = false;
  let sourceError: unknown;
  const aborted = (): Error =>
    signal?.reason instanceof Error ? signal.reason : Object.assign(new Error("The write was aborted"), { name: "AbortError" });
  async function* tracked(): AsyncGenerator<Uint8Array> {
    const it = src[Symbol.asyncIterator]();
    let onAbort: (() => void) | undefined;
    const abortP = new Promise<never>((_, reject) => {
      onAbort = () => reject(aborted());
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    abortP.catch(() => undefined);
    try {
      for (;;) {
        if (signal?.aborted) throw aborted();
        const r = await Promise.race([it.next(), abortP]);
        if (r.done) return;
        yield r.value;
      }
    } catch (err) {
      failed = true;
      sourceError = err;
      void Promise.resolve(it.return?.()).catch(() => undefined); // not awaited: the source may be stalled
      throw err;
    } finally {
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }
  return {
    source: tracked(),
    rethrow(err: unknown): never {
      throw failed ? sourceError : err;
    },
  };
}

async function writeVia(u: string, src: AsyncIterable<Uint8Array>, opts: WriteOptions): Promise<WriteResult> {
  const backend = backendFor(u);
  const t = trackSource(src, opts.signal);
  try {
    return await backend.write(u, t.source, opts);
  } catch (err) {
    return t.rethrow(err);
  }
}

/**
 * Write an object atomically: it appears, whole, only when all data has been
 * written; if `data` (a stream or async iterable) throws, or `opts.signal`
 * aborts, nothing appears and the error is rethrown. Streams are consumed with
 * backpressure; S3 writes use multipart upload without buffering the object.
 *
 * @example
 * ```ts
 * await write("s3://b/out/part-0.csv", "a,b\n1,2\n");
 * await write("out/big.bin", createReadStream("s3://b/big.bin"));
 * ```
 */
export async function write(url: UrlLike, data: WriteData, opts: WriteOptions = {}): Promise<WriteResult> {
  const u = urlToString(url);
  return writeVia(u, toChunks(data), opts);
}

/** A chunk queue between a Writable and a backend's `write`, with backpressure. */
class Channel implements AsyncIterable<Uint8Array> {
  private queue: { chunk: Uint8Array; cb: () => void }[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  push(chunk: Uint8Array, cb: () => void): void {
    this.queue.push({ chunk, cb });
    this.notify();
  }
  end(): void {
    this.ended = true;
    this.notify();
  }
  fail(err: Error): void {
    this.error = err;
    this.notify();
  }
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.error) throw this.error;
      const item = this.queue.shift();
      if (item) {
        yield item.chunk;
        item.cb(); // the consumer asked for more: accept the next write
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
    }
  }
}

/**
 * A Writable whose `finish` event fires only after the object is committed.
 * `done` resolves with the write's result (or rejects with its error).
 *
 * @example
 * ```ts
 * const ws = createWriteStream("s3://b/out.csv");
 * ws.end("a,b\n");
 * const { size } = await ws.done;
 * ```
 */
export interface StorageWriteStream extends Writable {
  /** Settles when the write is committed (or has failed and been cleaned up). */
  readonly done: Promise<WriteResult>;
}

/**
 * A Writable that writes an object atomically: `finish` fires after the commit;
 * `destroy()` (with or without an error) before `end()` aborts the write and
 * leaves nothing.
 *
 * @example
 * ```ts
 * import { pipeline } from "node:stream/promises";
 * await pipeline(createReadStream("data/in.csv"), createWriteStream("s3://b/in.csv"));
 * ```
 */
export function createWriteStream(url: UrlLike, opts: WriteOptions = {}): StorageWriteStream {
  const u = urlToString(url);
  backendFor(u); // fail fast on an unknown scheme
  const channel = new Channel();
  let settled = false;
  const done = writeVia(u, channel, opts).finally(() => {
    settled = true;
  });
  done.catch(() => undefined); // observed through the stream's error / done
  const stream = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      channel.push(chunk, cb);
    },
    final(cb) {
      channel.end();
      done.then(
        () => cb(),
        (err: Error) => cb(err),
      );
    },
    destroy(err, cb) {
      if (settled) {
        cb(err);
        return;
      }
      channel.fail(err ?? new StorageError(`${u}: write aborted (stream destroyed before end()); nothing was written.`, { url: u, code: "Aborted" }));
      done.then(
        () => cb(err),
        () => cb(err),
      );
    },
  }) as StorageWriteStream;
  Object.defineProperty(stream, "done", { value: done, enumerable: false });
  // If the backend fails on its own (e.g. access denied) the writer must not wait forever for drain.
  done.catch((err: unknown) => {
    if (!stream.destroyed && !stream.writableEnded) stream.destroy(err as Error);
  });
  return stream;
}

function byUrl(a: { url: string }, b: { url: string }): number {
  return a.url < b.url ? -1 : a.url > b.url ? 1 : 0;
}

/**
 * List the directory (or S3 prefix) `url`. Non-recursive: the files and
 * directories directly inside (directory URLs end in `/`). Recursive: every
 * file below. Sorted by URL; `[]` when nothing is there.
 *
 * @example
 * ```ts
 * const files = (await list("s3://b/logs/", { recursive: true })).filter((e) => e.type === "file");
 * ```
 */
export async function list(url: UrlLike, opts: ListOptions = {}): Promise<ListEntry[]> {
  const u = urlToString(url);
  const entries = await backendFor(u).list(u, opts);
  return entries.sort(byUrl);
}

/**
 * URLs of the objects matching a glob pattern, sorted. Supports `*`, `?`, `**`,
 * `[abc]`, `[!abc]`, `{a,b}`; works for local paths, `s3://` and `memory://`.
 * A pattern without glob characters gives `[pattern]` if the object exists, else `[]`.
 *
 * @example
 * ```ts
 * await glob("s3://b/questions-*.csv");   // ["s3://b/questions-0.csv", ...]
 * await glob("data/**\/*.{csv,json}");
 * ```
 */
export async function glob(pattern: UrlLike, opts: StorageOptions = {}): Promise<string[]> {
  const p = urlToString(pattern);
  if (!hasGlob(p)) {
    const literal = unescapeGlob(p);
    return (await exists(literal, opts)) ? [literal] : [];
  }
  const { base, recursive } = globBase(p);
  const literalBase = unescapeGlob(base);
  const backend = backendFor(p);
  if (/^[a-z][a-z0-9+.-]*:\/\/$/i.test(literalBase) && backend.schemes.includes("s3") && recursive) {
    throw new InvalidArgumentError(`${p}: wildcards in bucket names are not supported; name the bucket literally`, p);
  }
  const re = globToRegExp(p);
  const firstWild = p.slice(base.length).search(/[*?[{\\]/);
  const namePrefix = firstWild > 0 ? p.slice(base.length, base.length + firstWild) : "";
  const entries = await backend.list(literalBase, { ...opts, recursive, namePrefix });
  const out: string[] = [];
  for (const e of entries) if (e.type === "file" && re.test(e.url)) out.push(e.url);
  return out.sort();
}

/**
 * Delete one object. Deleting a missing object is a no-op, as in S3.
 *
 * @example
 * ```ts
 * await del("s3://b/tmp/x.csv"); // exported as `delete` too: import { delete as del }
 * ```
 */
export async function remove(url: UrlLike, opts: StorageOptions = {}): Promise<void> {
  const u = urlToString(url);
  await backendFor(u).delete(u, opts);
}

/**
 * Options for {@link copy}.
 *
 * @example
 * ```ts
 * await copy("s3://a/x", "s3://b/x", { s3: dstS3, sourceOptions: { s3: srcS3 } });
 * ```
 */
export interface CopyOptions extends WriteOptions {
  /** Options for reading the source when they differ from the destination's (e.g. another S3 endpoint). */
  sourceOptions?: StorageOptions;
}

/**
 * Copy an object. Server-side when source and destination are on the same
 * backend and endpoint (S3 CopyObject, local copyFile), streaming otherwise.
 * The destination appears atomically.
 *
 * @example
 * ```ts
 * await copy("data/q.csv", "s3://b/q.csv");
 * await copy("s3://b/q.csv", "s3://b/archive/q.csv"); // server-side CopyObject
 * ```
 */
export async function copy(src: UrlLike, dst: UrlLike, opts: CopyOptions = {}): Promise<WriteResult> {
  const s = urlToString(src);
  const d = urlToString(dst);
  const sb = backendFor(s);
  const db = backendFor(d);
  if (sb === db && db.copy && opts.sourceOptions === undefined && sameBucketScheme(s, d)) {
    if (await db.copy(s, d, opts)) {
      const info = await db.stat(d, opts);
      return { url: d, size: info.size, ...(info.etag ? { etag: info.etag } : {}) };
    }
  }
  const sourceOpts = opts.sourceOptions ?? opts;
  await sb.stat(s, sourceOpts); // fail early with NotFoundError, before creating anything
  return writeVia(d, toChunks(createReadStream(s, sourceOpts)), opts);
}

/**
 * Move an object: the destination appears whole (replacing what was there)
 * and the source is deleted. A local rename where the backend can (same file
 * system), else {@link copy} (server-side on S3) then delete; so on S3 a
 * failure between the two can leave both objects, never neither.
 *
 * @example
 * ```ts
 * await move("out/_temporary/j1/a/part-00000.csv", "out/part-00000.csv");
 * ```
 */
export async function move(src: UrlLike, dst: UrlLike, opts: StorageOptions = {}): Promise<WriteResult> {
  const s = urlToString(src);
  const d = urlToString(dst);
  const b = backendFor(s);
  if (b === backendFor(d) && b.rename && sameBucketScheme(s, d) && (await b.rename(s, d, opts))) {
    const info = await b.stat(d, opts);
    return { url: d, size: info.size, ...(info.etag ? { etag: info.etag } : {}) };
  }
  const r = await copy(s, d, opts);
  await b.delete(s, opts);
  return r;
}

function sameBucketScheme(a: string, b: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(a)) return true;
  return splitBucketKey(a).scheme === splitBucketKey(b).scheme;
}

/**
 * Whether `url`, found below `base` by a directory listing or by `pattern`,
 * has a path segment below `base` that starts with `_` or `.` (Hadoop's
 * hidden files: `_SUCCESS`, `_temporary/`, `.crc`) which the pattern does not
 * name literally (`out/_SUCCESS`, `out/.x/*`).
 */
function hiddenBelow(url: string, base: string, pattern: string): boolean {
  if (!url.startsWith(base)) return false;
  const named = new Set(pattern.slice(base.length).split("/").filter((seg) => seg.startsWith("_") || seg.startsWith(".")).map((seg) => seg[0]));
  return url.slice(base.length).split("/").some((seg) => (seg.startsWith("_") || seg.startsWith(".")) && !named.has(seg[0]));
}

/**
 * Expand what a reader was given — one URL, a glob, a directory (ending in `/`),
 * or a list of these — into object URLs, in order, without duplicates. A glob or
 * directory that matches nothing throws {@link NoMatchesError} naming it. Plain
 * URLs are passed through unchecked (reading them reports NotFoundError).
 * Below a directory or a glob's literal base, names that start with `_` or `.`
 * are skipped (the `_SUCCESS` marker and `_temporary/` parts of the writers),
 * unless the pattern itself has a segment starting with that character.
 *
 * @example
 * ```ts
 * await expandPaths("s3://b/questions-*.csv"); // sorted matches
 * await expandPaths(["a.csv", "more/"]);        // ["a.csv", "more/x.csv", ...]
 * ```
 */
export async function expandPaths(input: UrlLike | readonly UrlLike[], opts: StorageOptions = {}): Promise<string[]> {
  const items = Array.isArray(input) ? (input as readonly UrlLike[]) : [input as UrlLike];
  if (items.length === 0) throw new InvalidArgumentError("paths must not be an empty list");
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (u: string): void => {
    if (!seen.has(u)) {
      seen.add(u);
      out.push(u);
    }
  };
  for (const item of items) {
    const u = urlToString(item);
    let matches: string[];
    if (hasGlob(u)) matches = (await glob(u, opts)).filter((m) => !hiddenBelow(m, globBase(u).base, u));
    else if (u.endsWith("/")) matches = (await list(u, { ...opts, recursive: true })).map((e) => e.url).filter((m) => !hiddenBelow(m, u, u));
    else {
      add(u);
      continue;
    }
    if (matches.length === 0) throw new NoMatchesError(u);
    matches.forEach(add);
  }
  return out;
}

/**
 * A handle on one object, with its metadata fetched once.
 *
 * @example
 * ```ts
 * const f = await open("s3://b/big.csv");
 * const tail = await f.readRange(f.size - 100, f.size);
 * ```
 */
export interface StorageFile {
  /** The URL. */
  readonly url: string;
  /** Size in bytes at open time. */
  readonly size: number;
  /** Metadata at open time. */
  readonly info: FileInfo;
  /** Re-read the metadata. */
  stat(): Promise<FileInfo>;
  /** Bytes `[start, end)`; `end` defaults to the end of the object. */
  readRange(start: number, end?: number): Promise<Buffer>;
  /** The whole object. */
  read(): Promise<Buffer>;
  /** A stream over `[start, end)`. */
  createReadStream(range?: { start?: number; end?: number }): Readable;
}

/**
 * Open an object for reading: checks it exists (NotFoundError otherwise) and
 * returns a handle with its size for ranged reads.
 *
 * @example
 * ```ts
 * const f = await open("data/q.csv");
 * console.log(f.size, (await f.readRange(0, 100)).toString());
 * ```
 */
export async function open(url: UrlLike, opts: StorageOptions = {}): Promise<StorageFile> {
  const u = urlToString(url);
  const info = await stat(u, opts);
  return {
    url: u,
    size: info.size,
    info,
    stat: () => stat(u, opts),
    readRange: (start, end) => readRange(u, start, end, opts),
    read: () => read(u, opts),
    createReadStream: (range = {}) => createReadStream(u, { ...opts, ...range }),
  };
}
