/**
 * Multipart-upload operations: CreateMultipartUpload, UploadPart,
 * UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload, ListParts
 * and ListMultipartUploads.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { ownerXml, userXml } from "./acl.ts";
import { authorize } from "./access.ts";
import { receiveToFile, XML_BODY_LIMITS } from "./body.ts";
import { readXmlBody } from "./bucket-ops.ts";
import { checkWriteConditions, parseRange } from "./conditional.ts";
import type { S3Request, ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { compareKeys, validateKey } from "./keys.ts";
import { parseMaxKeys } from "./list-ops.ts";
import { MAX_PART_NUMBER, type RequestedPart, type Upload } from "./multipart.ts";
import { metaFromHeaders } from "./object-meta.ts";
import { copySource, newObjectOwner, requestAcl, uploadChecks } from "./object-ops.ts";
import { isoDate, sendEmpty, sendXml } from "./respond.ts";
import type { Bucket } from "./store.ts";
import { type Xml, childText, childrenNamed, parseXml, x, xo } from "./xml.ts";

/** POST /bucket/key?uploads */
export async function createMultipartUpload(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  validateKey(key);
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const owner = newObjectOwner(r, b);
  const info = await ctx.uploads.create({
    bucket: b.meta.name,
    key,
    initiated: Date.now(),
    initiator: r.callerId,
    ...metaFromHeaders(r),
    acl: requestAcl(ctx, r, owner, b),
  });
  sendXml(r.res, 200, "InitiateMultipartUploadResult", [x("Bucket", b.meta.name), x("Key", key), x("UploadId", info.uploadId)]);
}

function partNumber(r: S3Request): number {
  const v = r.q("partNumber") ?? "";
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_PART_NUMBER) {
    throw new S3Error("InvalidArgument", `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      extra: { ArgumentName: "partNumber", ArgumentValue: v },
    });
  }
  return n;
}

function upload(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Upload {
  return ctx.uploads.get(r.q("uploadId") ?? "", b.meta.name, key);
}

/** PUT /bucket/key?partNumber=N&uploadId=ID */
export async function uploadPart(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  const n = partNumber(r);
  const u = upload(ctx, r, b, key);
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const got = await receiveToFile(r.req, ctx.store.tempPath("part"), uploadChecks(r));
  const part = await ctx.uploads.putPart(u, n, got.path, got.md5.toString("hex"), got.size);
  sendEmpty(r.res, 200, { ETag: `"${part.etag}"` });
}

/** PUT /bucket/key?partNumber=N&uploadId=ID with x-amz-copy-source */
export async function uploadPartCopy(ctx: ServerContext, r: S3Request, b: Bucket, key: string, source: string): Promise<void> {
  const n = partNumber(r);
  const u = upload(ctx, r, b, key);
  const src = copySource(ctx, r, source);
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const rangeHeader = r.header("x-amz-copy-source-range");
  const range = rangeHeader !== undefined ? parseRange(rangeHeader, src.meta.size) : undefined;
  if (rangeHeader !== undefined && range === undefined) throw new S3Error("InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last");
  const fh = await open(ctx.store.dataPath(src.bucket.meta.name, src.meta), "r");
  const stream = createReadStream("", { fd: fh, highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end } : {}) });
  const got = await receiveToFile(stream as Readable, ctx.store.tempPath("pcopy"), { payload: { type: "unsigned" } });
  const part = await ctx.uploads.putPart(u, n, got.path, got.md5.toString("hex"), got.size);
  sendXml(r.res, 200, "CopyPartResult", [x("LastModified", isoDate(part.lastModified)), x("ETag", `"${part.etag}"`)]);
}

/** Longest ETag text worth comparing (a part's is 32 hex digits, quoted); a longer one matches no part. */
const MAX_ETAG_TEXT = 1024;

function requestedParts(body: Buffer): RequestedPart[] {
  const doc = parseXml(body);
  if (doc.name !== "CompleteMultipartUpload") throw new S3Error("MalformedXML");
  return childrenNamed(doc, "Part").map((p) => {
    const n = childText(p, "PartNumber");
    const etag = childText(p, "ETag");
    if (n === undefined || etag === undefined || !/^\s*\d+\s*$/.test(n)) throw new S3Error("MalformedXML");
    // Refused here so that a megabyte-long ETag is not echoed back in the InvalidPart document.
    if (etag.length > MAX_ETAG_TEXT) throw new S3Error("InvalidPart", undefined, { extra: { PartNumber: n.trim() } });
    return { partNumber: Number(n), etag };
  });
}

/** POST /bucket/key?uploadId=ID */
export async function completeMultipartUpload(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  const done = ctx.uploads.completedEtag(r.q("uploadId") ?? "", b.meta.name, key);
  if (done !== undefined && ctx.store.head(b.meta.name, key)?.etag === done) {
    authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
    await readXmlBody(r, XML_BODY_LIMITS.completeMultipartUpload);
    return sendComplete(r, b, key, done);
  }
  const u = upload(ctx, r, b, key);
  authorize(r, { action: "s3:PutObject", bucket: b, key, permission: "WRITE" });
  const parts = requestedParts(await readXmlBody(r, XML_BODY_LIMITS.completeMultipartUpload));
  checkWriteConditions({ ifMatch: r.header("if-match"), ifNoneMatch: r.header("if-none-match") }, ctx.store.head(b.meta.name, key), key);
  const assembled = await ctx.uploads.assemble(u, parts, ctx.minPartSize);
  const i = u.info;
  const committed = await ctx.store.commitObject(
    b.meta.name,
    {
      key,
      size: assembled.size,
      etag: assembled.etag,
      lastModified: Date.now(),
      contentType: i.contentType,
      headers: i.headers,
      userMeta: i.userMeta,
      acl: i.acl,
      parts: assembled.partSizes,
    },
    assembled.tempFile,
  );
  ctx.uploads.markCompleted(i, committed.etag);
  await ctx.uploads.remove(i.uploadId);
  sendComplete(r, b, key, committed.etag);
}

function sendComplete(r: S3Request, b: Bucket, key: string, etag: string): void {
  sendXml(r.res, 200, "CompleteMultipartUploadResult", [
    x("Location", `/${b.meta.name}/${key}`),
    x("Bucket", b.meta.name),
    x("Key", key),
    x("ETag", `"${etag}"`),
  ]);
}

/** DELETE /bucket/key?uploadId=ID */
export async function abortMultipartUpload(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  const u = upload(ctx, r, b, key);
  if (r.callerId === undefined || r.callerId !== u.info.initiator) {
    authorize(r, { action: "s3:AbortMultipartUpload", bucket: b, key, permission: "WRITE" });
  }
  await ctx.uploads.remove(u.info.uploadId);
  sendEmpty(r.res, 204);
}

function initiatorXml(ctx: ServerContext, id: string | undefined, fallback: string): Xml {
  return userXml("Initiator", id ?? fallback, ctx.users);
}

/** GET /bucket/key?uploadId=ID */
export function listParts(ctx: ServerContext, r: S3Request, b: Bucket, key: string): void {
  const u = upload(ctx, r, b, key);
  if (r.callerId === undefined || r.callerId !== u.info.initiator) {
    authorize(r, { action: "s3:ListMultipartUploadParts", bucket: b, key, permission: "WRITE" });
  }
  const maxParts = parseMaxKeys(r.q("max-parts"), "max-parts");
  const marker = Number(r.q("part-number-marker") ?? "0") || 0;
  const all = [...u.parts.values()].filter((p) => p.partNumber > marker).sort((a, c) => a.partNumber - c.partNumber);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const last = page[page.length - 1];
  sendXml(r.res, 200, "ListPartsResult", [
    x("Bucket", b.meta.name),
    x("Key", key),
    x("UploadId", u.info.uploadId),
    initiatorXml(ctx, u.info.initiator, u.info.acl.owner),
    ownerXml(u.info.acl.owner, ctx.users),
    x("StorageClass", "STANDARD"),
    x("PartNumberMarker", marker),
    x("NextPartNumberMarker", last?.partNumber ?? marker),
    x("MaxParts", maxParts),
    x("IsTruncated", truncated),
    page.map((p) =>
      x("Part", x("PartNumber", p.partNumber), x("LastModified", isoDate(p.lastModified)), x("ETag", `"${p.etag}"`), x("Size", p.size)),
    ),
  ]);
}

/** GET /bucket?uploads */
export function listMultipartUploads(ctx: ServerContext, r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:ListBucketMultipartUploads", bucket: b, permission: "READ" });
  const prefix = r.q("prefix") ?? "";
  const delimiter = r.q("delimiter") ?? "";
  const keyMarker = r.q("key-marker") ?? "";
  const idMarker = r.q("upload-id-marker") ?? "";
  const max = parseMaxKeys(r.q("max-uploads"), "max-uploads");
  const uploads = [];
  const prefixes: string[] = [];
  let truncated = false;
  for (const i of ctx.uploads.list(b.meta.name)) {
    if (!i.key.startsWith(prefix)) continue;
    const c = compareKeys(i.key, keyMarker);
    if (keyMarker !== "" && (c < 0 || (c === 0 && (idMarker === "" || i.uploadId <= idMarker)))) continue;
    const d = delimiter === "" ? -1 : i.key.indexOf(delimiter, prefix.length);
    const cp = d >= 0 ? i.key.slice(0, d + delimiter.length) : undefined;
    if (cp !== undefined && prefixes.includes(cp)) continue;
    if (uploads.length + prefixes.length >= max) {
      truncated = true;
      break;
    }
    if (cp !== undefined) prefixes.push(cp);
    else uploads.push(i);
  }
  const last = uploads[uploads.length - 1];
  sendXml(r.res, 200, "ListMultipartUploadsResult", [
    x("Bucket", b.meta.name),
    x("KeyMarker", keyMarker),
    x("UploadIdMarker", idMarker),
    x("NextKeyMarker", last?.key ?? ""),
    x("NextUploadIdMarker", last?.uploadId ?? ""),
    x("Prefix", prefix),
    xo("Delimiter", delimiter === "" ? undefined : delimiter),
    x("MaxUploads", max),
    x("IsTruncated", truncated),
    uploads.map((i) =>
      x(
        "Upload",
        x("Key", i.key),
        x("UploadId", i.uploadId),
        initiatorXml(ctx, i.initiator, i.acl.owner),
        ownerXml(i.acl.owner, ctx.users),
        x("StorageClass", "STANDARD"),
        x("Initiated", isoDate(i.initiated)),
      ),
    ),
    prefixes.map((p) => x("CommonPrefixes", x("Prefix", p))),
  ]);
}
