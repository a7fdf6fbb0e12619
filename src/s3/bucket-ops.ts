/**
 * Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
 * GetBucketLocation, GetBucketVersioning, bucket ACLs and bucket policies.
 */
import { aclFromHeaders, aclFromXml, aclXml, cannedAcl, GROUPS, ownerXml } from "./acl.ts";
import { authorize } from "./access.ts";
import { type BodyChecks, receiveBuffer, XML_BODY_LIMITS } from "./body.ts";
import type { S3Request, ServerContext } from "./context.ts";
import { S3Error } from "./errors.ts";
import { validateBucketName } from "./keys.ts";
import { parsePolicy, policyIsPublic } from "./policy.ts";
import { isoDate, sendBody, sendEmpty, sendXml } from "./respond.ts";
import type { Bucket, ObjectOwnership } from "./store.ts";
import { childText, parseXml, x, xmlDocument } from "./xml.ts";

function smallBodyChecks(r: S3Request): BodyChecks {
  const md5 = r.header("content-md5");
  const dl = r.header("x-amz-decoded-content-length");
  return {
    payload: r.auth.payload,
    ...(r.auth.chunkSigning ? { chunkSigning: r.auth.chunkSigning } : {}),
    ...(md5 !== undefined ? { contentMd5: md5 } : {}),
    ...(dl !== undefined ? { decodedLength: Number(dl) } : {}),
  };
}

/** Reads a small body with the request's payload checks. */
export async function readSmallBody(r: S3Request): Promise<Buffer> {
  return receiveBuffer(r.req, smallBodyChecks(r));
}

/**
 * Reads the body of an operation that sends an XML document: over `maxSize`
 * (by its declared length, before reading, or as it arrives) it is
 * MaxMessageLengthExceeded, so no oversized document reaches the parser.
 */
export async function readXmlBody(r: S3Request, maxSize: number = XML_BODY_LIMITS.other): Promise<Buffer> {
  const cl = r.header("content-length");
  return receiveBuffer(r.req, {
    ...smallBodyChecks(r),
    maxSize,
    tooLarge: "MaxMessageLengthExceeded",
    ...(cl !== undefined ? { contentLength: Number(cl) } : {}),
  });
}

/** The caller's canonical id, or AccessDenied for anonymous callers. */
export function requireUser(r: S3Request): string {
  const id = r.callerId;
  if (id === undefined) throw new S3Error("AccessDenied", undefined, { resource: r.resource });
  return id;
}

/** GET / */
export function listBuckets(ctx: ServerContext, r: S3Request): void {
  const me = requireUser(r);
  const prefix = r.q("prefix") ?? "";
  const token = r.q("continuation-token");
  const after = token !== undefined && token !== "" ? Buffer.from(token, "base64url").toString("utf8") : "";
  const maxText = r.q("max-buckets");
  const max = maxText === undefined ? Infinity : Number(maxText);
  if (!Number.isInteger(max) && max !== Infinity) throw new S3Error("InvalidArgument", "max-buckets must be an integer from 1 to 10000");
  const all = ctx.store.listBuckets().filter((b) => b.acl.owner === me && b.name.startsWith(prefix) && b.name > after);
  const page = all.slice(0, max);
  const last = page[page.length - 1];
  sendXml(r.res, 200, "ListAllMyBucketsResult", [
    ownerXml(me, ctx.users),
    x(
      "Buckets",
      page.map((b) => x("Bucket", x("Name", b.name), x("CreationDate", isoDate(b.created)), x("BucketRegion", b.region))),
    ),
    prefix !== "" ? x("Prefix", prefix) : undefined,
    all.length > page.length && last !== undefined ? x("ContinuationToken", Buffer.from(last.name, "utf8").toString("base64url")) : undefined,
  ]);
}

async function locationConstraint(r: S3Request): Promise<string | undefined> {
  const body = await readXmlBody(r);
  if (body.length === 0) return undefined;
  const doc = parseXml(body);
  if (doc.name !== "CreateBucketConfiguration") throw new S3Error("MalformedXML");
  return childText(doc, "LocationConstraint");
}

function sameAcl(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** PUT /bucket */
export async function createBucket(ctx: ServerContext, r: S3Request, name: string): Promise<void> {
  validateBucketName(name);
  const me = requireUser(r);
  const location = await locationConstraint(r);
  const acl = aclFromHeaders((h) => r.header(h), me, ctx.users) ?? cannedAcl("private", me);
  const existing = ctx.store.bucket(name);
  if (existing !== undefined) {
    if (existing.meta.acl.owner !== me) throw new S3Error("BucketAlreadyExists", undefined, { extra: { BucketName: name } });
    // us-east-1 (legacy) semantics, as Ceph RGW: re-creating your own bucket with the
    // same ACL succeeds and changes nothing; elsewhere it is BucketAlreadyOwnedByYou.
    if (ctx.region !== "us-east-1") throw new S3Error("BucketAlreadyOwnedByYou", undefined, { extra: { BucketName: name } });
    if (!sameAcl(existing.meta.acl, acl)) throw new S3Error("BucketAlreadyExists", undefined, { extra: { BucketName: name } });
    sendEmpty(r.res, 200, { Location: `/${name}` });
    return;
  }
  const ownership = r.header("x-amz-object-ownership");
  if (ownership !== undefined) parseOwnership(ownership);
  await ctx.store.createBucket({ name, created: Date.now(), acl, region: location ?? ctx.region, ...(ownership ? { ownership: parseOwnership(ownership) } : {}) });
  sendEmpty(r.res, 200, { Location: `/${name}` });
}

/** HEAD /bucket */
export function headBucket(ctx: ServerContext, r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:ListBucket", bucket: b, permission: "READ" });
  sendEmpty(r.res, 200, { "x-amz-bucket-region": b.meta.region === "" ? ctx.region : b.meta.region });
}

/** DELETE /bucket */
export async function deleteBucket(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  authorize(r, { action: "s3:DeleteBucket", bucket: b, permission: "owner" });
  await ctx.store.deleteBucket(b.meta.name);
  await ctx.uploads.removeBucket(b.meta.name);
  sendEmpty(r.res, 204);
}

/** GET /bucket?location */
export function getBucketLocation(ctx: ServerContext, r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:GetBucketLocation", bucket: b, permission: "owner" });
  const loc = b.meta.region === "us-east-1" ? "" : b.meta.region;
  sendBody(r.res, 200, xmlDocument("LocationConstraint", loc), { "Content-Type": "application/xml" });
  void ctx;
}

/** GET /bucket?versioning: buckets are never versioned. */
export function getBucketVersioning(r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:GetBucketVersioning", bucket: b, permission: "owner" });
  sendXml(r.res, 200, "VersioningConfiguration", []);
}

/** GET /bucket?acl */
export function getBucketAcl(ctx: ServerContext, r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:GetBucketAcl", bucket: b, permission: "READ_ACP" });
  sendXml(r.res, 200, "AccessControlPolicy", aclXml(b.meta.acl, ctx.users));
}

/** PUT /bucket?acl */
export async function putBucketAcl(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  authorize(r, { action: "s3:PutBucketAcl", bucket: b, permission: "WRITE_ACP" });
  const owner = b.meta.acl.owner;
  const body = await readXmlBody(r);
  let acl = aclFromHeaders((h) => r.header(h), owner, ctx.users);
  if (body.length > 0) {
    if (acl !== undefined) throw new S3Error("UnexpectedContent", "This request does not support content when ACL headers are present");
    acl = aclFromXml(parseXml(body), ctx.users, owner);
  }
  if (acl === undefined) throw new S3Error("MalformedACLError", "An ACL (x-amz-acl, x-amz-grant-* or an AccessControlPolicy body) is required");
  const next = acl;
  await ctx.store.updateBucket(b.meta.name, (m) => ({ ...m, acl: next }));
  sendEmpty(r.res, 200);
}

/** GET /bucket?policy */
export function getBucketPolicy(r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:GetBucketPolicy", bucket: b, permission: "owner" });
  if (b.meta.policy === undefined) throw new S3Error("NoSuchBucketPolicy", undefined, { extra: { BucketName: b.meta.name } });
  sendBody(r.res, 200, b.meta.policy, { "Content-Type": "application/json" });
}

/** PUT /bucket?policy */
export async function putBucketPolicy(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  authorize(r, { action: "s3:PutBucketPolicy", bucket: b, permission: "owner" });
  const text = (await readSmallBody(r)).toString("utf8");
  parsePolicy(text, b.meta.name);
  await ctx.store.updateBucket(b.meta.name, (m) => ({ ...m, policy: text }));
  sendEmpty(r.res, 204);
}

/** DELETE /bucket?policy */
export async function deleteBucketPolicy(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  authorize(r, { action: "s3:DeleteBucketPolicy", bucket: b, permission: "owner" });
  await ctx.store.updateBucket(b.meta.name, (m) => {
    const { policy: _drop, ...rest } = m;
    return rest;
  });
  sendEmpty(r.res, 204);
}

/** GET /bucket?policyStatus */
export function getBucketPolicyStatus(r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:GetBucketPolicyStatus", bucket: b, permission: "owner" });
  const aclPublic = b.meta.acl.grants.some(
    (g) => g.grantee.type === "group" && (g.grantee.uri === GROUPS.AllUsers || g.grantee.uri === GROUPS.AuthenticatedUsers),
  );
  const policyPublic = b.meta.policy !== undefined && policyIsPublic(parsePolicy(b.meta.policy, b.meta.name));
  sendXml(r.res, 200, "PolicyStatus", [x("IsPublic", aclPublic || policyPublic)]);
}

const OWNERSHIPS: readonly ObjectOwnership[] = ["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"];

function parseOwnership(v: string): ObjectOwnership {
  if (!(OWNERSHIPS as readonly string[]).includes(v)) throw new S3Error("InvalidArgument", `invalid ObjectOwnership '${v}'`);
  return v as ObjectOwnership;
}

/** GET /bucket?ownershipControls */
export function getBucketOwnershipControls(r: S3Request, b: Bucket): void {
  authorize(r, { action: "s3:GetBucketOwnershipControls", bucket: b, permission: "owner" });
  if (b.meta.ownership === undefined) throw new S3Error("OwnershipControlsNotFoundError", "The bucket ownership controls were not found");
  sendXml(r.res, 200, "OwnershipControls", [x("Rule", x("ObjectOwnership", b.meta.ownership))]);
}

/** PUT /bucket?ownershipControls */
export async function putBucketOwnershipControls(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  authorize(r, { action: "s3:PutBucketOwnershipControls", bucket: b, permission: "owner" });
  const doc = parseXml(await readXmlBody(r));
  const rules = doc.name === "OwnershipControls" ? doc.children.filter((c) => c.name === "Rule") : [];
  const value = rules.length === 1 && rules[0] ? childText(rules[0], "ObjectOwnership") : undefined;
  if (value === undefined) throw new S3Error("MalformedXML");
  const ownership = parseOwnership(value);
  const publicAcl = b.meta.acl.grants.some((g) => g.grantee.type === "group");
  if (ownership === "BucketOwnerEnforced" && publicAcl) {
    throw new S3Error("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
  }
  await ctx.store.updateBucket(b.meta.name, (m) => ({ ...m, ownership }));
  sendEmpty(r.res, 200);
}

/** DELETE /bucket?ownershipControls */
export async function deleteBucketOwnershipControls(ctx: ServerContext, r: S3Request, b: Bucket): Promise<void> {
  authorize(r, { action: "s3:PutBucketOwnershipControls", bucket: b, permission: "owner" });
  await ctx.store.updateBucket(b.meta.name, (m) => {
    const { ownership: _drop, ...rest } = m;
    return rest;
  });
  sendEmpty(r.res, 204);
}
