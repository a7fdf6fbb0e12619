/**
 * `s3://bucket/key` backend over the official AWS SDK v3 (`@aws-sdk/client-s3`,
 * `@aws-sdk/lib-storage`).
 *
 * Configuration follows the AWS conventions (the SDK's default provider chain:
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_PROFILE`,
 * `~/.aws/credentials`, `~/.aws/config`, SSO, IMDS...), plus `AWS_ENDPOINT_URL_S3`
 * / `AWS_ENDPOINT_URL`, `AWS_REGION` / `AWS_DEFAULT_REGION`,
 * `SHOAL_S3_FORCE_PATH_STYLE` and `AWS_NO_SIGN_REQUEST` / `SHOAL_S3_ANONYMOUS`.
 * Per-call `{s3: {...}}` options override the environment. Clients are cached
 * per distinct configuration.
 *
 * Writes stream through a multipart upload (`Upload` from lib-storage) with at
 * most `partSize * queueSize` bytes in memory; objects smaller than one part go
 * up in one PutObject. A failed or aborted write aborts the multipart upload, so
 * no object appears. Deleting a missing key is a no-op (S3 semantics).
 *
 * @module
 */
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { NotFoundError, PermissionError, StorageError } from "../errors.ts";
import type { FileInfo, ListEntry, ListOptions, S3Options, StorageBackend, StorageOptions, WriteOptions, WriteResult } from "../types.ts";
import { splitBucketKey } from "../url.ts";

// The AWS SDK takes ~0.1 s to load, and every process and executor thread
// imports the storage layer; most never touch s3://. It is loaded on first use.
const requireSdk = createRequire(import.meta.url);
let sdk: typeof import("@aws-sdk/client-s3") | undefined;
let storageSdk: typeof import("@aws-sdk/lib-storage") | undefined;
/** `@aws-sdk/client-s3`, loaded on first use. */
/**
 * The SDK prints an 8-line "Node >= 22 will be required" notice in every
 * process on Node 20, Shoal's stated platform: silenced unless the user set
 * the SDK's own variable (`AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false`
 * shows it).
 */
function quietSdkNotice(): void {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
}

const aws = (): typeof import("@aws-sdk/client-s3") => {
  quietSdkNotice();
  return (sdk ??= requireSdk("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3"));
};
/** `@aws-sdk/lib-storage`, loaded on first use. */
const awsStorage = (): typeof import("@aws-sdk/lib-storage") => (storageSdk ??= requireSdk("@aws-sdk/lib-storage") as typeof import("@aws-sdk/lib-storage"));

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 4;

function envFlag(name: string): boolean | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  return /^(1|true|yes|on)$/i.test(v.trim());
}

/**
 * The S3 settings in effect for `opts`: per-call options over environment variables over defaults.
 *
 * @example
 * ```ts
 * resolveS3Options({ s3: { endpoint: "http://127.0.0.1:9000" } }).forcePathStyle; // true
 * ```
 */
export function resolveS3Options(opts: StorageOptions = {}): S3Options & { forcePathStyle: boolean; anonymous: boolean } {
  const o = opts.s3 ?? {};
  const env = process.env;
  const endpoint = o.endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  const region = o.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined);
  const forcePathStyle = o.forcePathStyle ?? envFlag("SHOAL_S3_FORCE_PATH_STYLE") ?? endpoint !== undefined;
  const anonymous = o.anonymous ?? envFlag("AWS_NO_SIGN_REQUEST") ?? envFlag("SHOAL_S3_ANONYMOUS") ?? false;
  return { ...o, endpoint, region, forcePathStyle, anonymous };
}

const clients = new Map<string, S3Client>();
const providerClients = new WeakMap<object, Map<string, S3Client>>();
const allClients = new Set<S3Client>();

/**
 * Destroy every cached S3 client and its keep-alive sockets (for clean process
 * exit in tests and short-lived CLIs). Later calls create fresh clients.
 *
 * @example
 * ```ts
 * after(() => closeS3Clients());
 * ```
 */
export function closeS3Clients(): void {
  for (const c of allClients) c.destroy();
  allClients.clear();
  clients.clear();
}

function regionProvider(profile: string | undefined): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () =>
    (cached ??= (async () => {
      // Let the SDK resolve the region from ~/.aws/config (profile), falling back to us-east-1.
      const probe = new (aws().S3Client)(profile ? { profile } : {});
      try {
        return await probe.config.region();
      } catch {
        return "us-east-1";
      } finally {
        probe.destroy();
      }
    })());
}

function buildClient(r: ReturnType<typeof resolveS3Options>): S3Client {
  const cfg: S3ClientConfig = {
    region: r.region ?? regionProvider(r.profile),
    forcePathStyle: r.forcePathStyle,
    followRegionRedirects: true,
  };
  if (r.endpoint) {
    cfg.endpoint = r.endpoint;
    // Third-party S3 servers often lack the newer flexible-checksum trailers.
    if (!process.env.AWS_REQUEST_CHECKSUM_CALCULATION) cfg.requestChecksumCalculation = "WHEN_REQUIRED";
    if (!process.env.AWS_RESPONSE_CHECKSUM_VALIDATION) cfg.responseChecksumValidation = "WHEN_REQUIRED";
  }
  if (r.profile) cfg.profile = r.profile;
  if (r.anonymous) {
    cfg.credentials = { accessKeyId: "", secretAccessKey: "" };
    cfg.signer = { sign: async (req) => req };
  } else if (r.credentials) {
    cfg.credentials = r.credentials;
  }
  return new (aws().S3Client)(cfg);
}

/**
 * The (cached) `S3Client` for these options. Useful for operations the storage
 * layer does not wrap (creating buckets, policies, presigning).
 *
 * @example
 * ```ts
 * import { CreateBucketCommand } from "@aws-sdk/client-s3";
 * await s3Client({ s3: { endpoint } }).send(new CreateBucketCommand({ Bucket: "data" }));
 * ```
 */
export function s3Client(opts: StorageOptions = {}): S3Client {
  const r = resolveS3Options(opts);
  const creds = r.credentials;
  const key = JSON.stringify([
    r.endpoint,
    r.region,
    r.profile,
    r.forcePathStyle,
    r.anonymous,
    typeof creds === "object" ? [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken] : null,
  ]);
  const cache = typeof creds === "function" ? (providerClients.get(creds) ?? new Map<string, S3Client>()) : clients;
  if (typeof creds === "function") providerClients.set(creds, cache);
  const cached = cache.get(key);
  if (cached && !allClients.has(cached)) cache.delete(key); // destroyed by closeS3Clients()
  let c = cache.get(key);
  if (!c) {
    c = buildClient(r);
    cache.set(key, c);
    allClients.add(c);
  }
  return c;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchBucket"]);
const DENIED = new Set([
  "AccessDenied",
  "Forbidden",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "CredentialsProviderError",
  "AllAccessDisabled",
]);
const RETRIABLE = new Set(["SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "TimeoutError", "InternalError", "ServiceUnavailable"]);
const NET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);

/**
 * Map an AWS SDK error to a storage error for `url`.
 *
 * @example
 * ```ts
 * try { await client.send(cmd); } catch (e) { throw mapS3Error(e, url); }
 * ```
 */
export function mapS3Error(err: unknown, url: string): Error {
  if (err instanceof StorageError) return err;
  const e = (err ?? {}) as SdkError;
  if (e.name === "AbortError") return err as Error;
  const status = e.$metadata?.httpStatusCode;
  const code = e.name ?? e.code;
  if ((code && NOT_FOUND.has(code)) || status === 404) {
    const detail = code === "NoSuchBucket" ? "the bucket does not exist; create it first" : undefined;
    return new NotFoundError(url, { cause: err, code, ...(detail ? { detail } : {}) });
  }
  if ((code && DENIED.has(code)) || status === 401 || status === 403) {
    const detail = code === "CredentialsProviderError" ? "no AWS credentials were found" : code;
    return new PermissionError(url, { cause: err, code, ...(detail ? { detail } : {}) });
  }
  const retriable =
    (status !== undefined && (status >= 500 || status === 429)) ||
    (code !== undefined && (RETRIABLE.has(code) || NET_CODES.has(code))) ||
    (e.code !== undefined && NET_CODES.has(e.code)) ||
    Boolean(e.$retryable);
  const hint = retriable ? " This may be transient; retry." : " Check the endpoint, region and bucket name.";
  return new StorageError(`${url}: S3 ${code ?? "error"}${status ? ` (HTTP ${status})` : ""}: ${e.message ?? String(err)}.${hint}`, {
    url,
    cause: err,
    code,
    retriable,
  });
}

function locate(url: string): { bucket: string; key: string } {
  const { bucket, key } = splitBucketKey(url);
  if (!bucket) throw new StorageError(`${url}: no bucket in URL. Use s3://bucket/key.`, { url, code: "InvalidURL" });
  return { bucket, key };
}

function sendOpts(opts: StorageOptions): { abortSignal?: AbortSignal } {
  return opts.signal ? { abortSignal: opts.signal } : {};
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag?.replace(/^"(.*)"$/, "$1");
}

async function statS3(url: string, opts: StorageOptions): Promise<FileInfo> {
  const { bucket, key } = locate(url);
  if (!key || key.endsWith("/")) throw new NotFoundError(url, { detail: "a bucket or prefix is not an object; use list()" });
  try {
    const r = await s3Client(opts).send(new (aws().HeadObjectCommand)({ Bucket: bucket, Key: key }), sendOpts(opts));
    return { url, size: r.ContentLength ?? 0, mtime: r.LastModified ?? new Date(0), etag: stripQuotes(r.ETag) };
  } catch (err) {
    throw mapS3Error(err, url);
  }
}

async function getObject(url: string, start: number, end: number | undefined, opts: StorageOptions): Promise<Readable> {
  const { bucket, key } = locate(url);
  if (end !== undefined && end <= start) {
    await statS3(url, opts); // a missing object is an error even for empty ranges
    return Readable.from([]);
  }
  const range = start === 0 && end === undefined ? undefined : `bytes=${start}-${end === undefined ? "" : end - 1}`;
  try {
    const r = await s3Client(opts).send(new (aws().GetObjectCommand)({ Bucket: bucket, Key: key, Range: range }), sendOpts(opts));
    if (!r.Body) return Readable.from([]);
    return r.Body as Readable;
  } catch (err) {
    const e = err as SdkError;
    if (e.name === "InvalidRange" || e.$metadata?.httpStatusCode === 416) return Readable.from([]);
    throw mapS3Error(err, url);
  }
}

async function writeS3(url: string, source: AsyncIterable<Uint8Array>, opts: WriteOptions): Promise<WriteResult> {
  const { bucket, key } = locate(url);
  if (!key || key.endsWith("/")) {
    throw new StorageError(`${url}: cannot write an object without a key or with a trailing "/". Give a key name.`, { url, code: "InvalidKey" });
  }
  const s3o = opts.s3 ?? {};
  const partSize = Math.max(s3o.partSize ?? DEFAULT_PART_SIZE, MIN_PART_SIZE);
  let size = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const c of source) {
      size += c.byteLength;
      yield c;
    }
  }
  const body = Readable.from(counted(), { objectMode: false, highWaterMark: 1 });
  const upload = new (awsStorage().Upload)({
    client: s3Client(opts),
    params: { Bucket: bucket, Key: key, Body: body, ...(opts.contentType ? { ContentType: opts.contentType } : {}) },
    partSize,
    queueSize: s3o.queueSize ?? DEFAULT_QUEUE_SIZE,
    leavePartsOnError: false,
  });
  const onAbort = (): void => void upload.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const r = await upload.done();
    return { url, size, etag: stripQuotes(r.ETag) };
  } catch (err) {
    body.destroy();
    throw mapS3Error(err, url);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

async function listBuckets(opts: StorageOptions): Promise<ListEntry[]> {
  try {
    const r = await s3Client(opts).send(new (aws().ListBucketsCommand)({}), sendOpts(opts));
    return (r.Buckets ?? []).map((b) => ({ type: "directory" as const, url: `s3://${b.Name}/` }));
  } catch (err) {
    throw mapS3Error(err, "s3://");
  }
}

async function listS3(url: string, opts: ListOptions): Promise<ListEntry[]> {
  const { scheme, bucket, key } = splitBucketKey(url);
  if (!bucket) return listBuckets(opts);
  const dirPrefix = key === "" || key.endsWith("/") ? key : `${key}/`;
  const prefix = dirPrefix + (opts.namePrefix ?? "");
  const root = `${scheme}://${bucket}/`;
  const out: ListEntry[] = [];
  let token: string | undefined;
  try {
    do {
      const r = await s3Client(opts).send(
        new (aws().ListObjectsV2Command)({
          Bucket: bucket,
          Prefix: prefix,
          Delimiter: opts.recursive ? undefined : "/",
          ContinuationToken: token,
        }),
        sendOpts(opts),
      );
      for (const o of r.Contents ?? []) {
        if (o.Key === undefined || o.Key === dirPrefix) continue; // skip "directory marker" objects
        out.push({ type: "file", url: root + o.Key, size: o.Size ?? 0, mtime: o.LastModified ?? new Date(0), etag: stripQuotes(o.ETag) });
      }
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.push({ type: "directory", url: root + p.Prefix });
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  } catch (err) {
    throw mapS3Error(err, url);
  }
  return out;
}

async function deleteS3(url: string, opts: StorageOptions): Promise<void> {
  const { bucket, key } = locate(url);
  if (!key) throw new StorageError(`${url}: delete() removes objects, not buckets. Give a key.`, { url, code: "InvalidKey" });
  try {
    await s3Client(opts).send(new (aws().DeleteObjectCommand)({ Bucket: bucket, Key: key }), sendOpts(opts));
  } catch (err) {
    const e = mapS3Error(err, url);
    if (e instanceof NotFoundError && e.code !== "NoSuchBucket") return;
    throw e;
  }
}

/** Percent-encode a CopySource `bucket/key` (keeping `/`). */
function encodeCopySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

async function copyS3(src: string, dst: string, opts: StorageOptions): Promise<boolean> {
  const s = locate(src);
  const d = locate(dst);
  try {
    await s3Client(opts).send(
      new (aws().CopyObjectCommand)({ Bucket: d.bucket, Key: d.key, CopySource: encodeCopySource(s.bucket, s.key) }),
      sendOpts(opts),
    );
    return true;
  } catch (err) {
    const e = err as SdkError;
    // Objects over 5 GiB cannot be copied in one request: stream instead.
    if (e.name === "InvalidRequest" || e.name === "EntityTooLarge") return false;
    const mapped = mapS3Error(err, src);
    if (mapped instanceof NotFoundError && e.name === "NoSuchBucket") throw mapS3Error(err, dst);
    throw mapped;
  }
}

/**
 * The `s3://` backend.
 *
 * @example
 * ```ts
 * await read("s3://bucket/key.csv", { s3: { endpoint: "http://127.0.0.1:9000" } });
 * ```
 */
export const s3Backend: StorageBackend = {
  schemes: ["s3"],
  capabilities: { write: true, list: true },
  stat: statS3,
  async readRange(url, start, end, opts) {
    const s = await getObject(url, start, end, opts);
    const parts: Buffer[] = [];
    try {
      for await (const c of s) parts.push(c as Buffer);
    } catch (err) {
      throw mapS3Error(err, url);
    }
    return Buffer.concat(parts);
  },
  openReadStream: getObject,
  write: writeS3,
  list: listS3,
  delete: deleteS3,
  copy: copyS3,
};
