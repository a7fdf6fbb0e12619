/**
 * Maps a request (method, bucket, key, sub-resource query parameters) to
 * the operation handler.
 */
import * as bucketOps from "./bucket-ops.ts";
import type { S3Request, ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import * as listOps from "./list-ops.ts";
import * as mpOps from "./multipart-ops.ts";
import * as objOps from "./object-ops.ts";
import { postObject } from "./post-object.ts";
import { selectObjectContent } from "./select/handler.ts";
import type { Bucket } from "./store.ts";

/** Sub-resources this server recognises but does not implement. */
const UNSUPPORTED_BUCKET = [
  "accelerate", "analytics", "cors", "encryption", "intelligent-tiering", "inventory", "lifecycle", "logging",
  "metrics", "notification", "object-lock", "publicAccessBlock", "replication",
  "requestPayment", "tagging", "website",
];
const UNSUPPORTED_OBJECT = ["tagging", "retention", "legal-hold", "restore"];

function notImplemented(what: string): S3Error {
  return new S3Error("NotImplemented", `${what} is not implemented by this server`);
}

function methodNotAllowed(r: S3Request): S3Error {
  return new S3Error("MethodNotAllowed", undefined, { extra: { Method: r.method, ResourceType: r.key !== undefined ? "OBJECT" : "BUCKET" } });
}

async function bucketGet(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  if (r.has("acl")) return bucketOps.getBucketAcl(ctx, r, b);
  if (r.has("policy")) return bucketOps.getBucketPolicy(r, b);
  if (r.has("policyStatus")) return bucketOps.getBucketPolicyStatus(r, b);
  if (r.has("location")) return bucketOps.getBucketLocation(ctx, r, b);
  if (r.has("versioning")) return bucketOps.getBucketVersioning(r, b);
  if (r.has("versions")) return listOps.listObjectVersions(ctx, r, b);
  if (r.has("ownershipControls")) return bucketOps.getBucketOwnershipControls(r, b);
  if (r.has("uploads")) return mpOps.listMultipartUploads(ctx, r, b);
  const unsupported = UNSUPPORTED_BUCKET.find((s) => r.has(s));
  if (unsupported !== undefined) throw notImplemented(`GET ?${unsupported}`);
  if (r.q("list-type") === "2") return listOps.listObjectsV2(ctx, r, b);
  return listOps.listObjectsV1(ctx, r, b);
}

async function bucketRoute(ctx: ServerContext, r: S3Request, name: string): Promise<void> {
  if (r.method === "PUT" && !r.has("acl") && !r.has("policy") && !r.has("versioning") && !r.has("ownershipControls") && !UNSUPPORTED_BUCKET.some((s) => r.has(s))) {
    return bucketOps.createBucket(ctx, r, name);
  }
  const b = ctx.store.requireBucket(name);
  switch (r.method) {
    case "GET":
      return bucketGet(ctx, r, b);
    case "HEAD":
      return bucketOps.headBucket(ctx, r, b);
    case "PUT":
      if (r.has("acl")) return bucketOps.putBucketAcl(ctx, r, b);
      if (r.has("policy")) return bucketOps.putBucketPolicy(ctx, r, b);
      if (r.has("ownershipControls")) return bucketOps.putBucketOwnershipControls(ctx, r, b);
      throw notImplemented(`PUT ?${UNSUPPORTED_BUCKET.find((s) => r.has(s)) ?? "versioning"}`);
    case "DELETE":
      if (r.has("policy")) return bucketOps.deleteBucketPolicy(ctx, r, b);
      if (r.has("ownershipControls")) return bucketOps.deleteBucketOwnershipControls(ctx, r, b);
      if (UNSUPPORTED_BUCKET.some((s) => r.has(s))) throw notImplemented("DELETE of this sub-resource");
      return bucketOps.deleteBucket(ctx, r, b);
    case "POST":
      if (r.has("delete")) return objOps.deleteObjects(ctx, r, b);
      if ((r.header("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) return postObject(ctx, r, b);
      throw methodNotAllowed(r);
    default:
      throw methodNotAllowed(r);
  }
}

async function objectRoute(ctx: ServerContext, r: S3Request, b: Bucket, key: string): Promise<void> {
  if (r.has("select")) {
    if (r.method !== "POST") throw methodNotAllowed(r);
    return selectObjectContent(ctx, r, b, key);
  }
  const unsupported = UNSUPPORTED_OBJECT.find((s) => r.has(s));
  if (unsupported !== undefined) throw notImplemented(`?${unsupported}`);
  const copy = r.header("x-amz-copy-source");
  switch (r.method) {
    case "GET":
      if (r.has("acl")) return objOps.getObjectAcl(ctx, r, b, key);
      if (r.has("attributes")) return objOps.getObjectAttributes(ctx, r, b, key);
      if (r.has("torrent")) throw new S3Error("NoSuchKey", "No torrent is available for this object", { extra: { Key: key } });
      if (r.has("uploadId")) return mpOps.listParts(ctx, r, b, key);
      return objOps.getObject(ctx, r, b, key);
    case "HEAD":
      return objOps.getObject(ctx, r, b, key);
    case "PUT":
      if (r.has("acl")) return objOps.putObjectAcl(ctx, r, b, key);
      if (r.has("uploadId") || r.has("partNumber")) {
        return copy !== undefined ? mpOps.uploadPartCopy(ctx, r, b, key, copy) : mpOps.uploadPart(ctx, r, b, key);
      }
      if (copy !== undefined) return objOps.copyObject(ctx, r, b, key, copy);
      return objOps.putObject(ctx, r, b, key);
    case "DELETE":
      if (r.has("uploadId")) return mpOps.abortMultipartUpload(ctx, r, b, key);
      return objOps.deleteObject(ctx, r, b, key);
    case "POST":
      if (r.has("uploads")) return mpOps.createMultipartUpload(ctx, r, b, key);
      if (r.has("uploadId")) return mpOps.completeMultipartUpload(ctx, r, b, key);
      throw methodNotAllowed(r);
    default:
      throw methodNotAllowed(r);
  }
}

/** Dispatches one authenticated request. */
export async function route(ctx: ServerContext, r: S3Request): Promise<void> {
  if (r.bucket === undefined) {
    if (r.method === "GET") return bucketOps.listBuckets(ctx, r);
    throw methodNotAllowed(r);
  }
  if (r.key === undefined) return bucketRoute(ctx, r, r.bucket);
  return objectRoute(ctx, r, ctx.store.requireBucket(r.bucket), r.key);
}
