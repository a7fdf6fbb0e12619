/**
 * URL helpers: scheme detection, bucket/key splitting, joining.
 *
 * Storage URLs are taken literally after the scheme: `s3://bucket/données/a b.csv`
 * names the key `données/a b.csv`; percent-escapes are not decoded (as in fsspec).
 * Pass a `URL` object to have them decoded.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { InvalidArgumentError } from "./errors.ts";
import type { UrlLike } from "./types.ts";

const SCHEME_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/**
 * Normalize a {@link UrlLike} to the string form the storage layer uses.
 * `URL` objects with `file:` become plain paths; other `URL` objects are decoded.
 *
 * @example
 * ```ts
 * urlToString(new URL("file:///tmp/a%20b")); // "/tmp/a b"
 * urlToString("s3://b/k");                   // "s3://b/k"
 * ```
 */
export function urlToString(url: UrlLike): string {
  if (typeof url === "string") {
    if (url.length === 0) throw new InvalidArgumentError("url must be a non-empty string");
    if (url.includes("\0")) throw new InvalidArgumentError(`url must not contain NUL bytes: ${JSON.stringify(url)}`);
    return url;
  }
  if (!(url instanceof URL)) throw new InvalidArgumentError(`url must be a string or a URL, got ${typeof url}`);
  if (url.protocol === "file:") return fileURLToPath(url);
  if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  return `${url.protocol}//${url.host}${decodeURIComponent(url.pathname)}`;
}

/**
 * The scheme of a storage URL, lower-case without `:`; `"file"` for plain paths.
 *
 * @example
 * ```ts
 * schemeOf("S3://b/k"); // "s3"
 * schemeOf("data/x.csv"); // "file"
 * ```
 */
export function schemeOf(url: string): string {
  const m = SCHEME_RE.exec(url);
  return m?.[1] ? m[1].toLowerCase() : "file";
}

/**
 * Split `scheme://bucket/key` into bucket and key (key may be empty).
 *
 * @example
 * ```ts
 * splitBucketKey("s3://b/dir/k.csv"); // { scheme: "s3", bucket: "b", key: "dir/k.csv" }
 * ```
 */
export function splitBucketKey(url: string): { scheme: string; bucket: string; key: string } {
  const m = SCHEME_RE.exec(url);
  if (!m?.[1]) throw new InvalidArgumentError(`expected a URL like s3://bucket/key, got ${JSON.stringify(url)}`, url);
  const rest = url.slice(m[0].length);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? "" : rest.slice(slash + 1);
  return { scheme: m[1].toLowerCase(), bucket, key };
}

/**
 * Join a directory URL and a relative name with exactly one `/`.
 *
 * @example
 * ```ts
 * joinUrl("s3://b/dir", "x.csv");  // "s3://b/dir/x.csv"
 * joinUrl("s3://b/dir/", "x.csv"); // "s3://b/dir/x.csv"
 * ```
 */
export function joinUrl(dir: string, name: string): string {
  if (dir === "" || dir.endsWith("/")) return dir + name;
  return `${dir}/${name}`;
}

/**
 * The directory form of a URL (with a trailing `/`), except for a bare bucket/root.
 *
 * @example
 * ```ts
 * asDirectory("s3://b/logs"); // "s3://b/logs/"
 * asDirectory("s3://b");      // "s3://b/"
 * ```
 */
export function asDirectory(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/**
 * The last path component of a URL (empty for a trailing `/`).
 *
 * @example
 * ```ts
 * basename("s3://b/dir/x.csv.gz"); // "x.csv.gz"
 * ```
 */
export function basename(url: string): string {
  const i = url.lastIndexOf("/");
  return i < 0 ? url : url.slice(i + 1);
}
