/**
 * Read-only `http://` and `https://` backend over Node's global `fetch`.
 *
 * `stat` uses HEAD (Content-Length, Last-Modified, ETag), falling back to a
 * one-byte ranged GET when HEAD is refused or has no length. `readRange` and
 * streams use `Range: bytes=a-b`; a server that ignores Range (200 instead of
 * 206) still gives correct bytes, at the cost of transferring the prefix.
 * Writing, listing and deleting are unsupported (UnsupportedOperationError).
 *
 * @module
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { NotFoundError, PermissionError, StorageError, UnsupportedOperationError } from "../errors.ts";
import type { FileInfo, StorageBackend, StorageOptions } from "../types.ts";

function statusError(url: string, status: number, statusText: string): StorageError {
  if (status === 404 || status === 410) return new NotFoundError(url, { code: String(status) });
  if (status === 401 || status === 403) {
    return new PermissionError(url, { code: String(status), detail: `HTTP ${status}; pass headers with {http: {headers}}` });
  }
  const retriable = status >= 500 || status === 429 || status === 408;
  return new StorageError(`${url}: HTTP ${status} ${statusText}.${retriable ? " The server may be overloaded; retry later." : ""}`, {
    url,
    code: String(status),
    retriable,
  });
}

async function doFetch(url: string, method: string, headers: Record<string, string>, opts: StorageOptions): Promise<Response> {
  try {
    return await fetch(url, {
      method,
      headers: { ...opts.http?.headers, ...headers },
      signal: opts.signal ?? null,
      redirect: "follow",
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new StorageError(`${url}: request failed (${(err as Error).message}). Check the host is reachable; retry if it was a network blip.`, {
      url,
      cause: (err as { cause?: unknown }).cause ?? err,
      retriable: true,
      code: "ENETWORK",
    });
  }
}

function etagOf(res: Response): string | undefined {
  const e = res.headers.get("etag");
  return e ? e.replace(/^W\//, "").replace(/^"(.*)"$/, "$1") : undefined;
}

function mtimeOf(res: Response): Date {
  const lm = res.headers.get("last-modified");
  const d = lm ? new Date(lm) : new Date(0);
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

async function statHttp(url: string, opts: StorageOptions): Promise<FileInfo> {
  const head = await doFetch(url, "HEAD", {}, opts);
  const len = head.headers.get("content-length");
  if (head.ok && len !== null && head.headers.get("content-encoding") === null) {
    return { url, size: Number(len), mtime: mtimeOf(head), etag: etagOf(head) };
  }
  if (head.status === 404 || head.status === 410 || head.status === 401 || head.status === 403) {
    throw statusError(url, head.status, head.statusText);
  }
  // HEAD refused or without length: ask for one byte and read Content-Range.
  const res = await doFetch(url, "GET", { range: "bytes=0-0", "accept-encoding": "identity" }, opts);
  await res.body?.cancel();
  const cr = res.headers.get("content-range");
  const total = cr ? /\/(\d+)\s*$/.exec(cr)?.[1] : undefined;
  if ((res.status === 206 || res.status === 416) && total !== undefined) {
    return { url, size: Number(total), mtime: mtimeOf(res), etag: etagOf(res) };
  }
  if (res.ok && res.headers.get("content-length") !== null) {
    return { url, size: Number(res.headers.get("content-length")), mtime: mtimeOf(res), etag: etagOf(res) };
  }
  if (!res.ok) throw statusError(url, res.status, res.statusText);
  throw new StorageError(`${url}: the server reports no size (no Content-Length or Content-Range). Download it with read() instead.`, {
    url,
    code: "NoContentLength",
  });
}

/** Slice `[skip, skip+take)` out of a byte stream (for servers that ignore Range). */
async function* sliceStream(src: AsyncIterable<Uint8Array>, skip: number, take: number | undefined): AsyncGenerator<Buffer> {
  let pos = 0;
  const stop = take === undefined ? Infinity : skip + take;
  for await (const c of src) {
    const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    const from = Math.max(skip - pos, 0);
    const to = Math.min(stop - pos, b.length);
    if (to > from) yield b.subarray(from, to);
    pos += b.length;
    if (pos >= stop) return;
  }
}

async function rangedGet(url: string, start: number, end: number | undefined, opts: StorageOptions): Promise<Readable> {
  if (end !== undefined && end <= start) {
    await statHttp(url, opts); // existence check: a missing object is an error even for empty ranges
    return Readable.from([]);
  }
  const range = `bytes=${start}-${end === undefined ? "" : end - 1}`;
  const res = await doFetch(url, "GET", { range, "accept-encoding": "identity" }, opts);
  if (res.status === 416) {
    await res.body?.cancel();
    return Readable.from([]);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw statusError(url, res.status, res.statusText);
  }
  const body = res.body ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) : Readable.from([]);
  if (res.status === 206) return body;
  // 200: the server sent the whole object.
  return Readable.from(sliceStream(body, start, end === undefined ? undefined : end - start), { objectMode: false });
}

function readOnly(url: string, op: string): never {
  throw new UnsupportedOperationError(url, op, "http(s):// URLs are read-only; write to s3://, file:// or memory:// instead.");
}

/**
 * The read-only `http(s)://` backend.
 *
 * @example
 * ```ts
 * await readRange("https://example.org/data.csv", 0, 1024);
 * ```
 */
export const httpBackend: StorageBackend = {
  schemes: ["http", "https"],
  capabilities: { write: false, list: false },
  stat: statHttp,
  async readRange(url, start, end, opts) {
    const s = await rangedGet(url, start, end, opts);
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(c as Buffer);
    return Buffer.concat(parts);
  },
  openReadStream: rangedGet,
  write: async (url) => readOnly(url, "write"),
  list: (url) =>
    Promise.reject(
      new UnsupportedOperationError(url, "list", "HTTP has no directory listing; pass the file URLs explicitly (globs do not work over http)."),
    ),
  delete: async (url) => readOnly(url, "delete"),
};
