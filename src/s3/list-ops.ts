/**
 * Listing operations: ListObjects (v1), ListObjectsV2 and ListObjectVersions
 * (every object is the single "null" version of an unversioned bucket).
 */
import { ownerXml } from "./acl.ts";
import { authorize } from "./access.ts";
import type { S3Request, ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { type ListPage, listPage } from "./listing.ts";
import { isoDate, sendXml } from "./respond.ts";
import { uriEncode } from "./sigv4.ts";
import type { Bucket, ObjectMeta } from "./store.ts";
import { type Xml, x, xo } from "./xml.ts";

/** Parses max-keys (default 1000, capped at 1000). */
export function parseMaxKeys(v: string | undefined, name = "max-keys"): number {
  if (v === undefined || v === "") return 1000;
  if (!/^\d+$/.test(v)) {
    throw new S3Error("InvalidArgument", `Provided ${name} not an integer or within integer range`, { extra: { ArgumentName: name, ArgumentValue: v } });
  }
  return Math.min(1000, Number(v));
}

interface Common {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  enc: (s: string) => string;
  encodingType: string | undefined;
}

function common(r: S3Request, b: Bucket): Common {
  const prefix = r.q("prefix") ?? "";
  const delimiter = r.q("delimiter") ?? "";
  const maxKeys = parseMaxKeys(r.q("max-keys"));
  const encodingType = r.q("encoding-type");
  if (encodingType !== undefined && encodingType !== "url") {
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", { extra: { ArgumentName: "encoding-type", ArgumentValue: encodingType } });
  }
  if (r.q("allow-unordered") === "true" && delimiter !== "") {
    throw new S3Error("InvalidArgument", "allow-unordered cannot be used with a delimiter");
  }
  authorize(r, {
    action: r.has("versions") ? "s3:ListBucketVersions" : "s3:ListBucket",
    bucket: b,
    permission: "READ",
    context: { "s3:prefix": prefix, "s3:delimiter": r.q("delimiter"), "s3:max-keys": String(maxKeys) },
  });
  const enc = encodingType === "url" ? (s: string): string => uriEncode(s, true) : (s: string): string => s;
  return { prefix, delimiter, maxKeys, enc, encodingType };
}

function contentsXml(m: ObjectMeta, c: Common, ctx: ServerContext, withOwner: boolean): Xml {
  return x(
    "Contents",
    x("Key", c.enc(m.key)),
    x("LastModified", isoDate(m.lastModified)),
    x("ETag", `"${m.etag}"`),
    x("Size", m.size),
    x("StorageClass", "STANDARD"),
    withOwner ? ownerXml(m.acl.owner, ctx.users) : undefined,
  );
}

function prefixesXml(page: ListPage, c: Common): Xml[] {
  return page.commonPrefixes.map((p) => x("CommonPrefixes", x("Prefix", c.enc(p))));
}

/** GET /bucket (ListObjects v1). */
export function listObjectsV1(ctx: ServerContext, r: S3Request, b: Bucket): void {
  const c = common(r, b);
  const marker = r.q("marker") ?? "";
  const page = listPage(b.index, { prefix: c.prefix, delimiter: c.delimiter, after: marker, maxKeys: c.maxKeys });
  sendXml(r.res, 200, "ListBucketResult", [
    x("Name", b.meta.name),
    // ListObjects v1 echoes Prefix unencoded (botocore decodes only Marker, NextMarker, Delimiter and keys).
    x("Prefix", c.prefix),
    x("Marker", c.enc(marker)),
    x("MaxKeys", c.maxKeys),
    c.delimiter !== "" ? x("Delimiter", c.enc(c.delimiter)) : undefined,
    xo("EncodingType", c.encodingType),
    x("IsTruncated", page.isTruncated),
    page.isTruncated && page.last !== undefined ? x("NextMarker", c.enc(page.last)) : undefined,
    page.contents.map((m) => contentsXml(m, c, ctx, true)),
    prefixesXml(page, c),
  ]);
}

/** Opaque v2 continuation token: base64url of the last key returned. */
function encodeToken(key: string): string {
  return Buffer.from(`k:${key}`, "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  const s = Buffer.from(token, "base64url").toString("utf8");
  if (!s.startsWith("k:") || encodeToken(s.slice(2)) !== token) {
    throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", { extra: { ArgumentName: "continuation-token" } });
  }
  return s.slice(2);
}

/** GET /bucket?list-type=2 (ListObjectsV2). */
export function listObjectsV2(ctx: ServerContext, r: S3Request, b: Bucket): void {
  const c = common(r, b);
  const token = r.q("continuation-token");
  const startAfter = r.q("start-after") ?? "";
  const after = token !== undefined && token !== "" ? decodeToken(token) : startAfter;
  const fetchOwner = r.q("fetch-owner") === "true";
  const page = listPage(b.index, { prefix: c.prefix, delimiter: c.delimiter, after, maxKeys: c.maxKeys });
  sendXml(r.res, 200, "ListBucketResult", [
    x("Name", b.meta.name),
    x("Prefix", c.enc(c.prefix)),
    startAfter !== "" ? x("StartAfter", c.enc(startAfter)) : undefined,
    xo("ContinuationToken", token),
    x("MaxKeys", c.maxKeys),
    c.delimiter !== "" ? x("Delimiter", c.enc(c.delimiter)) : undefined,
    xo("EncodingType", c.encodingType),
    x("KeyCount", page.contents.length + page.commonPrefixes.length),
    x("IsTruncated", page.isTruncated),
    page.isTruncated && page.last !== undefined ? x("NextContinuationToken", encodeToken(page.last)) : undefined,
    page.contents.map((m) => contentsXml(m, c, ctx, fetchOwner)),
    prefixesXml(page, c),
  ]);
}

/** GET /bucket?versions (ListObjectVersions; every object has VersionId "null"). */
export function listObjectVersions(ctx: ServerContext, r: S3Request, b: Bucket): void {
  const c = common(r, b);
  const keyMarker = r.q("key-marker") ?? "";
  const versionMarker = r.q("version-id-marker");
  if (versionMarker !== undefined && versionMarker !== "" && versionMarker !== "null") {
    throw new S3Error("InvalidArgument", "Invalid version id specified", { extra: { ArgumentName: "version-id-marker", ArgumentValue: versionMarker } });
  }
  const page = listPage(b.index, { prefix: c.prefix, delimiter: c.delimiter, after: keyMarker, maxKeys: c.maxKeys });
  const versions = page.contents.map((m) =>
    x(
      "Version",
      x("Key", c.enc(m.key)),
      x("VersionId", "null"),
      x("IsLatest", true),
      x("LastModified", isoDate(m.lastModified)),
      x("ETag", `"${m.etag}"`),
      x("Size", m.size),
      x("StorageClass", "STANDARD"),
      ownerXml(m.acl.owner, ctx.users),
    ),
  );
  sendXml(r.res, 200, "ListVersionsResult", [
    x("Name", b.meta.name),
    x("Prefix", c.enc(c.prefix)),
    x("KeyMarker", c.enc(keyMarker)),
    x("VersionIdMarker", versionMarker ?? ""),
    x("MaxKeys", c.maxKeys),
    c.delimiter !== "" ? x("Delimiter", c.enc(c.delimiter)) : undefined,
    xo("EncodingType", c.encodingType),
    x("IsTruncated", page.isTruncated),
    page.isTruncated && page.last !== undefined ? [x("NextKeyMarker", c.enc(page.last)), x("NextVersionIdMarker", "null")] : undefined,
    versions,
    prefixesXml(page, c),
  ]);
}
