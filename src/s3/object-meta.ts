/**
 * Object metadata from request headers (content type, representation
 * headers, x-amz-meta-*) and back to response headers.
 */
import type { S3Request } from "./context.ts";
import { S3Error } from "./errors.ts";
import { httpDate } from "./respond.ts";
import type { ObjectMeta } from "./store.ts";

/** Largest total size of user metadata (names and values), as in S3. */
export const MAX_USER_METADATA = 2048;

/** Representation headers stored with an object and returned on GET/HEAD. */
export const STORED_HEADERS = [
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "expires",
  "x-amz-website-redirect-location",
] as const;

/** Content type, stored headers and user metadata from a request. */
export interface MetaFromHeaders {
  contentType: string;
  headers: Record<string, string>;
  userMeta: Record<string, string>;
}

function stripAwsChunked(v: string): string | undefined {
  const parts = v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "" && s.toLowerCase() !== "aws-chunked");
  return parts.length === 0 ? undefined : parts.join(", ");
}

/** Reads object metadata from request headers. */
export function metaFromHeaders(r: S3Request): MetaFromHeaders {
  const headers: Record<string, string> = {};
  for (const h of STORED_HEADERS) {
    let v = r.header(h);
    if (h === "content-encoding" && v !== undefined) v = stripAwsChunked(v);
    if (v !== undefined) headers[h] = v;
  }
  const userMeta: Record<string, string> = {};
  let total = 0;
  for (const [name, values] of r.headers) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const k = name.slice("x-amz-meta-".length);
    const v = values.join(",");
    userMeta[k] = v;
    total += k.length + Buffer.byteLength(v, "latin1");
  }
  if (total > MAX_USER_METADATA) {
    throw new S3Error("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size", {
      extra: { Size: String(total), MaxSizeAllowed: String(MAX_USER_METADATA) },
    });
  }
  return { contentType: r.header("content-type") ?? "binary/octet-stream", headers, userMeta };
}

const RESPONSE_OVERRIDES: ReadonlyArray<readonly [string, string]> = [
  ["response-content-type", "Content-Type"],
  ["response-content-language", "Content-Language"],
  ["response-expires", "Expires"],
  ["response-cache-control", "Cache-Control"],
  ["response-content-disposition", "Content-Disposition"],
  ["response-content-encoding", "Content-Encoding"],
];

/** GET/HEAD response headers for an object (without length and range). */
export function objectHeaders(m: ObjectMeta, r: S3Request): Record<string, string> {
  const h: Record<string, string> = {
    "Content-Type": m.contentType,
    ETag: `"${m.etag}"`,
    "Last-Modified": httpDate(m.lastModified),
    "Accept-Ranges": "bytes",
  };
  for (const [k, v] of Object.entries(m.headers)) h[k] = v;
  for (const [k, v] of Object.entries(m.userMeta)) h[`x-amz-meta-${k}`] = v;
  if (m.parts !== undefined && r.q("partNumber") !== undefined) h["x-amz-mp-parts-count"] = String(m.parts.length);
  for (const [q, name] of RESPONSE_OVERRIDES) {
    const v = r.q(q);
    if (v !== undefined) {
      for (const k of Object.keys(h)) if (k.toLowerCase() === name.toLowerCase()) delete h[k];
      h[name] = v;
    }
  }
  return h;
}
