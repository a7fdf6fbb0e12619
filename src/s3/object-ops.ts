/**
 * Object operations: PutObject, GetObject, HeadObject, DeleteObject,
 * CopyObject, DeleteObjects and object ACLs.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Acl, aclFromHeaders, aclFromXml, aclXml, cannedAcl } from "./acl.ts";
import { authorize, isAllowed } from "./access.ts";
import { type BodyChecks, receiveToFile, XML_BODY_LIMITS } from "./body.ts";
import { readXmlBody } from "./bucket-ops.ts";
import { checkConditions, checkWriteConditions, parseRange } from "./conditional.ts";
import type { S3Request, ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { decodeKey, validateKey } from "./keys.ts";
import { metaFromHeaders, objectHeaders } from "./object-meta.ts";
import { httpDate, isoDate, sendEmpty, sendXml } from "./respond.ts";
import type { Bucket, ObjectMeta } from "./store.ts";
import { childText, childrenNamed, parseXml, x } from "./xml.ts";

/**
 * Owner of a new object: the caller (ObjectWriter), or the bucket owner for
 * anonymous writes, under BucketOwnerEnforced, and under BucketOwnerPreferred
 * with `x-amz-acl: bucket-owner-full-control`.
 */
export function newObjectOwner(r: S3Request, b: Bucket): string {
  const o = b.meta.ownership;
  const acl = r.header("x-amz-acl");
  if (o === "BucketOwnerEnforced") {
    const grants = ["full-control", "read", "write", "read-acp", "write-acp"].some((g) => r.header(`x-amz-grant-${g}`) !== undefined);
    if (grants || (acl !== undefined && acl !== "bucket-owner-full-control")) {
      throw new S3Error("AccessControlListNotSupported", "The bucket does not allow ACLs");
    }
    return b.meta.acl.owner;
  }
  if (o === "BucketOwnerPreferred" && acl === "bucket-owner-full-control") return b.meta.acl.owner;
  return r.callerId ?? b.meta.acl.owner;
}

/** Body checks for an upload request. */
export function uploadChecks(r: S3Request): BodyChecks {
  const md5 = r.header("content-md5");
  const dl = r.header("x-amz-decoded-content-length");
  return {
    payload: r.auth.payload,
    ...(r.auth.chunkSigning ? { chunkSigning: r.auth.chunkSigning } : {}),
    ...(md5 !== undefined ? { contentMd5: md5 } : {}),
    ...(dl !== undefined ? { decodedLength: Number(dl) } : {}),
    maxSize: 5 * 1024 ** 3,
  };
}

/** The object's ACL from request headers (default private). */
export function requestAcl(ctx: ServerContext, r: S3Request, owner: string, b: Bucket): Acl {
  return aclFromHeaders((h) => r.header(h), owner, ctx.users, b.meta.acl.owner) ?? cannedAcl("private", owner);
}

/** PUT /bucket/key */
export async function putObject(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  validateKey(key);
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const conditions = { ifMatch: r.header("if-match"), ifNoneMatch: r.header("if-none-match") };
  checkWriteConditions(conditions, ctx.store.head(b.meta.name, key), key);
  const owner = newObjectOwner(r, b);
  const acl = requestAcl(ctx, r, owner, b);
  const meta = metaFromHeaders(r);
  const got = await receiveToFile(r.req, ctx.store.tempPath("put"), uploadChecks(r));
  const committed = await ctx.store.commitObject(
    b.meta.name,
    { key, size: got.size, etag: got.md5.toString("hex"), lastModified: Date.now(), ...meta, acl },
    got.path,
  );
  sendEmpty(r.res, 200, { ETag: `"${committed.etag}"` });
}

/** The object, or NoSuchKey (if the caller may list the bucket) / AccessDenied. */
export function requireObject(ctx: ServerContext, r: S3Request, b: Bucket, key: string): ObjectMeta {
  const m = ctx.store.head(b.meta.name, key);
  if (m !== undefined) return m;
  if (isAllowed(r, { action: "s3:ListBucket", bucket: b, permission: "READ", context: { "s3:prefix": key } })) {
    throw new S3Error("NoSuchKey", undefined, { resource: r.resource, extra: { Key: key } });
  }
  throw new S3Error("AccessDenied", undefined, { resource: r.resource });
}

function partRange(m: ObjectMeta, partNumber: string | undefined): { start: number; end: number } | undefined {
  if (partNumber === undefined) return undefined;
  const n = Number(partNumber);
  const parts = m.parts ?? [m.size];
  if (!Number.isInteger(n) || n < 1) throw new S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  if (n > parts.length) throw new S3Error("InvalidPart", "The requested partnumber is not satisfiable");
  const start = parts.slice(0, n - 1).reduce((a, s) => a + s, 0);
  return { start, end: start + (parts[n - 1] ?? 0) - 1 };
}

async function openData(ctx: ServerContext, b: Bucket, m: ObjectMeta): Promise<{ fh: Awaited<ReturnType<typeof open>>; meta: ObjectMeta }> {
  try {
    return { fh: await open(ctx.store.dataPath(b.meta.name, m), "r"), meta: m };
  } catch (e) {
    // Overwritten between lookup and open: use the new version.
    const again = ctx.store.head(b.meta.name, m.key);
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" || again === undefined || again === m) throw e;
    return { fh: await open(ctx.store.dataPath(b.meta.name, again), "r"), meta: again };
  }
}

/** GET or HEAD /bucket/key */
export async function getObject(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  const found = requireObject(ctx, r, b, key);
  authorize(r, { action: "s3:GetObject", bucket: b, key, objectAcl: found.acl, permission: "READ" });
  checkConditions(
    {
      ifMatch: r.header("if-match"),
      ifNoneMatch: r.header("if-none-match"),
      ifModifiedSince: r.header("if-modified-since"),
      ifUnmodifiedSince: r.header("if-unmodified-since"),
    },
    found,
  );
  const range = partRange(found, r.q("partNumber")) ?? parseRange(r.header("range"), found.size);
  const headers = objectHeaders(found, r);
  const status = range !== undefined && (r.q("partNumber") === undefined || (found.parts?.length ?? 1) > 1) ? 206 : 200;
  const start = range?.start ?? 0;
  const end = range?.end ?? found.size - 1;
  if (range !== undefined && status === 206) headers["Content-Range"] = `bytes ${start}-${end}/${found.size}`;
  headers["Content-Length"] = String(Math.max(0, end - start + 1));
  if (r.method === "HEAD" || end < start) {
    r.res.writeHead(status, headers);
    r.res.end();
    return;
  }
  const { fh } = await openData(ctx, b, found);
  r.res.writeHead(status, headers);
  const stream = createReadStream("", { fd: fh, start, end, highWaterMark: 1 << 20 });
  await pipeline(stream as Readable, r.res).catch(() => r.res.destroy());
}

/** DELETE /bucket/key */
export async function deleteObject(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  authorize(r, { action: "s3:DeleteObject", bucket: b, key, permission: "WRITE" });
  await ctx.store.deleteObject(b.meta.name, key);
  sendEmpty(r.res, 204);
}

/** Parses `x-amz-copy-source` (`[/]bucket/key[?versionId=...]`). */
export function parseCopySource(v: string): { bucket: string; key: string } {
  const [path = "", query] = v.split("?");
  const p = decodeKey(path.replace(/^\//, ""));
  const i = p.indexOf("/");
  if (i <= 0 || i === p.length - 1) throw new S3Error("InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  if (query !== undefined && query !== "" && query !== "versionId=null") throw new S3Error("InvalidArgument", "Invalid version id specified");
  return { bucket: p.slice(0, i), key: p.slice(i + 1) };
}

/** Resolves and authorizes a copy source, checking x-amz-copy-source-if-* conditions. */
export function copySource(ctx: ServerContext, r: S3Request, header: string): { bucket: Bucket; meta: ObjectMeta } {
  const src = parseCopySource(header);
  const sb = ctx.store.requireBucket(src.bucket);
  const meta = requireObject(ctx, r, sb, src.key);
  authorize(r, { action: "s3:GetObject", bucket: sb, key: src.key, objectAcl: meta.acl, permission: "READ" });
  checkConditions(
    {
      ifMatch: r.header("x-amz-copy-source-if-match"),
      ifNoneMatch: r.header("x-amz-copy-source-if-none-match"),
      ifModifiedSince: r.header("x-amz-copy-source-if-modified-since"),
      ifUnmodifiedSince: r.header("x-amz-copy-source-if-unmodified-since"),
    },
    meta,
    false,
  );
  return { bucket: sb, meta };
}

/** PUT /bucket/key with x-amz-copy-source */
export async function copyObject(ctx: ServerContext, r: S3Request, b: Bucket, key: string, source: string): Promise<void> {
  validateKey(key);
  const src = copySource(ctx, r, source);
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const directive = (r.header("x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") throw new S3Error("InvalidArgument", "Unknown metadata directive.");
  if (src.bucket === b && src.meta.key === key && directive === "COPY") {
    throw new S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  const meta = directive === "REPLACE" ? metaFromHeaders(r) : { contentType: src.meta.contentType, headers: src.meta.headers, userMeta: src.meta.userMeta };
  const owner = newObjectOwner(r, b);
  const acl = requestAcl(ctx, r, owner, b);
  const { fh } = await openData(ctx, src.bucket, src.meta);
  const got = await receiveToFile(createReadStream("", { fd: fh, highWaterMark: 1 << 20 }) as Readable, ctx.store.tempPath("copy"), { payload: { type: "unsigned" } });
  const committed = await ctx.store.commitObject(b.meta.name, { key, size: got.size, etag: got.md5.toString("hex"), lastModified: Date.now(), ...meta, acl }, got.path);
  sendXml(r.res, 200, "CopyObjectResult", [x("LastModified", isoDate(committed.lastModified)), x("ETag", `"${committed.etag}"`)]);
}

/** POST /bucket?delete */
export async function deleteObjects(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  // At most 1000 Objects of up to 6 elements each (Key, VersionId, ETag, LastModifiedTime, Size).
  const doc = parseXml(await readXmlBody(r, XML_BODY_LIMITS.delete), { maxElements: 10_000 });
  if (doc.name !== "Delete") throw new S3Error("MalformedXML");
  const quiet = (childText(doc, "Quiet") ?? "false").trim().toLowerCase() === "true";
  const objects = childrenNamed(doc, "Object");
  if (objects.length === 0 || objects.length > 1000) throw new S3Error("MalformedXML");
  const out: ReturnType<typeof x>[] = [];
  for (const o of objects) {
    const key = childText(o, "Key");
    if (key === undefined) throw new S3Error("MalformedXML");
    try {
      authorize(r, { action: "s3:DeleteObject", bucket: b, key, permission: "WRITE" });
      await ctx.store.deleteObject(b.meta.name, key);
      if (!quiet) out.push(x("Deleted", x("Key", key)));
    } catch (e) {
      const err = e instanceof S3Error ? e : new S3Error("InternalError");
      out.push(x("Error", x("Key", key), x("Code", err.code), x("Message", err.message)));
    }
  }
  sendXml(r.res, 200, "DeleteResult", out);
}

/** GET /bucket/key?acl */
export function getObjectAcl(ctx: ServerContext, r: S3Request, b: Bucket, key: string): void {
  const m = requireObject(ctx, r, b, key);
  authorize(r, { action: "s3:GetObjectAcl", bucket: b, key, objectAcl: m.acl, permission: "READ_ACP" });
  sendXml(r.res, 200, "AccessControlPolicy", aclXml(m.acl, ctx.users));
}

/** PUT /bucket/key?acl */
export async function putObjectAcl(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  const m = requireObject(ctx, r, b, key);
  authorize(r, { action: "s3:PutObjectAcl", bucket: b, key, objectAcl: m.acl, permission: "WRITE_ACP" });
  const body = await readXmlBody(r);
  let acl = aclFromHeaders((h) => r.header(h), m.acl.owner, ctx.users, b.meta.acl.owner);
  if (body.length > 0) {
    if (acl !== undefined) throw new S3Error("UnexpectedContent", "This request does not support content when ACL headers are present");
    acl = aclFromXml(parseXml(body), ctx.users, m.acl.owner);
  }
  if (acl === undefined) throw new S3Error("MalformedACLError", "An ACL (x-amz-acl, x-amz-grant-* or an AccessControlPolicy body) is required");
  const next = acl;
  await ctx.store.updateObjectMeta(b.meta.name, key, (cur) => ({ ...cur, acl: next }));
  sendEmpty(r.res, 200);
}

function objectPartsXml(r: S3Request, parts: number[]): ReturnType<typeof x> {
  const max = Math.min(1000, Number(r.header("x-amz-max-parts") ?? "1000") || 1000);
  const marker = Number(r.header("x-amz-part-number-marker") ?? "0") || 0;
  const numbered = parts.map((size, i) => ({ n: i + 1, size })).filter((p) => p.n > marker);
  const page = numbered.slice(0, max);
  return x(
    "ObjectParts",
    x("PartsCount", parts.length),
    x("PartNumberMarker", marker),
    x("NextPartNumberMarker", page[page.length - 1]?.n ?? marker),
    x("MaxParts", max),
    x("IsTruncated", numbered.length > page.length),
    page.map((p) => x("Part", x("PartNumber", p.n), x("Size", p.size))),
  );
}

/** GET /bucket/key?attributes (GetObjectAttributes). */
export function getObjectAttributes(ctx: ServerContext, r: S3Request, b: Bucket, key: string): void {
  const m = requireObject(ctx, r, b, key);
  authorize(r, { action: "s3:GetObjectAttributes", bucket: b, key, objectAcl: m.acl, permission: "READ" });
  const wanted = new Set((r.header("x-amz-object-attributes") ?? "").split(",").map((s) => s.trim().toLowerCase()));
  if (wanted.size === 0 || wanted.has("")) throw new S3Error("InvalidArgument", "x-amz-object-attributes header is required");
  sendXml(
    r.res,
    200,
    "GetObjectAttributesResponse",
    [
      wanted.has("etag") ? x("ETag", m.etag) : undefined,
      wanted.has("objectparts") && m.parts !== undefined ? objectPartsXml(r, m.parts) : undefined,
      wanted.has("storageclass") ? x("StorageClass", "STANDARD") : undefined,
      wanted.has("objectsize") ? x("ObjectSize", m.size) : undefined,
    ],
    { "Last-Modified": httpDate(m.lastModified) },
  );
}
