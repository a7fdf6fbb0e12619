/**
 * Types shared by the storage layer and its backends.
 *
 * A backend implements {@link StorageBackend} for one or more URL schemes; the
 * public functions in `index.ts` pick the backend by scheme and add the
 * generic parts (argument checks, globbing, write streams, cross-backend copy).
 *
 * @module
 */
import type { Readable } from "node:stream";

/** Anything the storage functions accept as a location: a URL string, a plain path, or a `URL`. @example `read(new URL("file:///tmp/a%20b"))` */
export type UrlLike = string | URL;

/**
 * Metadata of one object (file).
 *
 * @example
 * ```ts
 * const info: FileInfo = await stat("s3://bucket/data.csv");
 * console.log(info.size, info.mtime.toISOString(), info.etag);
 * ```
 */
export interface FileInfo {
  /** The object's URL, in the same form the caller used (plain path, `file://`, `s3://`, ...). */
  url: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time. `new Date(0)` where the backend does not report one. */
  mtime: Date;
  /** Entity tag where the backend has one (S3 and HTTP), without surrounding quotes. */
  etag?: string;
}

/**
 * One entry of {@link list}: an object, or (non-recursive listings only) a
 * "directory" — a local directory or an S3 common prefix. Directory URLs end in `/`.
 *
 * @example
 * ```ts
 * for (const e of await list("s3://bucket/logs/")) {
 *   if (e.type === "directory") console.log("dir ", e.url);
 *   else console.log("file", e.url, e.size);
 * }
 * ```
 */
export type ListEntry =
  | ({ type: "file" } & FileInfo)
  | { type: "directory"; url: string };

/**
 * S3 settings for one call. Every field is optional; unset fields come from
 * the environment and `~/.aws` files (see docs/storage.md).
 *
 * @example
 * ```ts
 * const s3: S3Options = { endpoint: "http://127.0.0.1:9000", region: "us-east-1",
 *   credentials: { accessKeyId: "AK", secretAccessKey: "SK" } };
 * await read("s3://bucket/key", { s3 });
 * ```
 */
export interface S3Options {
  /** Endpoint URL, e.g. `http://127.0.0.1:9000`. Default: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, else AWS. */
  endpoint?: string;
  /** Region. Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's region, else `us-east-1`. */
  region?: string;
  /** Static credentials, or a provider function. Default: the AWS SDK default provider chain. */
  credentials?:
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
    | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>);
  /** Named profile from `~/.aws/credentials` / `~/.aws/config`. Default: `AWS_PROFILE`. */
  profile?: string;
  /** Path-style addressing (`http://host/bucket/key`). Default: `SHOAL_S3_FORCE_PATH_STYLE`, else true when a custom endpoint is set. */
  forcePathStyle?: boolean;
  /** Send unsigned (anonymous) requests. Default: `AWS_NO_SIGN_REQUEST` / `SHOAL_S3_ANONYMOUS`, else false. */
  anonymous?: boolean;
  /** Multipart part size in bytes for streaming writes (min 5 MiB). Default 8 MiB. */
  partSize?: number;
  /** Parts uploaded concurrently by one streaming write. Default 4. */
  queueSize?: number;
}

/**
 * Options every storage function accepts. Backends read only the part that is theirs.
 *
 * @example
 * ```ts
 * const opts: StorageOptions = { s3: { endpoint: "http://127.0.0.1:9000" }, http: { headers: { authorization: "Bearer x" } } };
 * ```
 */
export interface StorageOptions {
  /** S3 settings; see {@link S3Options}. */
  s3?: S3Options;
  /** HTTP(S) settings: extra request headers (e.g. authorization). */
  http?: { headers?: Record<string, string> };
  /** Abort signal: aborting cancels the operation (an aborted write leaves nothing). */
  signal?: AbortSignal;
}

/**
 * Options for {@link list}.
 *
 * @example
 * ```ts
 * await list("data/", { recursive: true });
 * ```
 */
export interface ListOptions extends StorageOptions {
  /** List every object below the prefix (files only) instead of one level (files and directories). Default false. */
  recursive?: boolean;
  /**
   * Hint: only entries whose path below the directory starts with this string are
   * wanted (glob passes the literal part of its pattern). Backends may ignore it;
   * S3 uses it as part of the listing prefix.
   */
  namePrefix?: string;
}

/**
 * Options for `createReadStream`.
 *
 * @example
 * ```ts
 * createReadStream("s3://b/k", { start: 100, end: 200 }); // bytes 100..199
 * ```
 */
export interface ReadStreamOptions extends StorageOptions {
  /** First byte to read. Default 0. */
  start?: number;
  /** End offset, exclusive. Default: end of the object. */
  end?: number;
}

/**
 * Options for `write` and `createWriteStream`.
 *
 * @example
 * ```ts
 * await write("s3://b/out.csv", rows, { contentType: "text/csv" });
 * ```
 */
export interface WriteOptions extends StorageOptions {
  /** Content type stored with the object where the backend keeps one (S3). */
  contentType?: string;
}

/** Data accepted by `write`: bytes, text (UTF-8), or a stream / async iterable of byte chunks. @example `write(url, createReadStream(src))` */
export type WriteData = string | Uint8Array | AsyncIterable<Uint8Array | string> | Readable;

/** Result of a completed write. @example `const { size, etag } = await write(url, data);` */
export interface WriteResult {
  /** The URL written. */
  url: string;
  /** Bytes written. */
  size: number;
  /** Entity tag where the backend reports one (S3). */
  etag?: string;
}

/**
 * What a backend can do; the conformance suite skips what a backend lacks.
 *
 * @example
 * ```ts
 * if (!backendFor("https://x/y").capabilities.write) throw new Error("read-only");
 * ```
 */
export interface BackendCapabilities {
  /** write, delete and copy as destination. */
  write: boolean;
  /** list and glob. */
  list: boolean;
}

/**
 * The seam between the storage layer and a storage system. Backends see
 * already-validated arguments: `start <= end`, non-negative integers, and
 * URLs of their own scheme as strings.
 *
 * @example
 * ```ts
 * registerBackend(myBackend); // then read("myscheme://...") uses it
 * ```
 */
export interface StorageBackend {
  /** Schemes served, without `:` (e.g. `["s3"]`); `"file"` also serves plain paths. */
  readonly schemes: readonly string[];
  /** What this backend supports. */
  readonly capabilities: BackendCapabilities;
  /** Metadata of one object; NotFoundError if there is no object at `url`. */
  stat(url: string, opts: StorageOptions): Promise<FileInfo>;
  /** Bytes `[start, end)`, clamped to the object's size; NotFoundError if missing. */
  readRange(url: string, start: number, end: number | undefined, opts: StorageOptions): Promise<Buffer>;
  /** A stream of bytes `[start, end)`; rejects (NotFoundError) before any data if missing. */
  openReadStream(url: string, start: number, end: number | undefined, opts: StorageOptions): Promise<Readable>;
  /**
   * Write all chunks of `source` as the object at `url`, atomically: the object
   * appears only after the last chunk; if `source` throws, nothing appears and
   * the error is rethrown.
   */
  write(url: string, source: AsyncIterable<Uint8Array>, opts: WriteOptions): Promise<WriteResult>;
  /** One level (files and directories) or, with `recursive`, all files below the directory `url`. Sorted by URL; `[]` if nothing is there. */
  list(url: string, opts: ListOptions): Promise<ListEntry[]>;
  /** Delete one object. Deleting a missing object is a no-op (S3 semantics). */
  delete(url: string, opts: StorageOptions): Promise<void>;
  /** Copy inside this backend, if it can do better than streaming (server-side). Return false to fall back to streaming. */
  copy?(src: string, dst: string, opts: StorageOptions): Promise<boolean>;
  /**
   * Move an object inside this backend in one step (a local rename): the
   * destination appears whole, replacing what was there, and the source is
   * gone. Return false to fall back to copy then delete.
   */
  rename?(src: string, dst: string, opts: StorageOptions): Promise<boolean>;
}
