/**
 * Authorization: bucket policy first (explicit Deny wins, Allow grants),
 * then the bucket owner (full access), then ACLs. Anything else is denied.
 */
import { type Acl, type Permission, aclAllows } from "./acl.ts";
import type { S3Request } from "./context.ts";
import { S3Error } from "./errors.ts";
import { type BucketPolicy, evaluatePolicy, parsePolicy } from "./policy.ts";
import type { Bucket } from "./store.ts";

/** One authorization question. */
export interface AccessCheck {
  /** IAM action, e.g. `s3:GetObject`. */
  action: string;
  bucket: Bucket;
  /** Object key for object-level actions (forms the resource ARN). */
  key?: string;
  /** ACL of the target object, for object-level permissions. */
  objectAcl?: Acl;
  /** ACL permission that grants the action, or "owner" when only the bucket owner may. */
  permission: Permission | "owner";
  /** Extra condition keys (e.g. s3:prefix for listing). */
  context?: Record<string, string | undefined>;
}

const policyCache = new Map<string, BucketPolicy>();

function cachedPolicy(text: string, bucket: string): BucketPolicy {
  const id = `${bucket}\n${text}`;
  let p = policyCache.get(id);
  if (p === undefined) {
    p = parsePolicy(text, bucket);
    if (policyCache.size > 256) policyCache.clear();
    policyCache.set(id, p);
  }
  return p;
}

const HEADER_KEYS = [
  "x-amz-acl",
  "x-amz-grant-read",
  "x-amz-grant-write",
  "x-amz-grant-read-acp",
  "x-amz-grant-write-acp",
  "x-amz-grant-full-control",
  "x-amz-copy-source",
  "x-amz-metadata-directive",
  "x-amz-server-side-encryption",
  "x-amz-content-sha256",
  "x-amz-storage-class",
];

function conditionContext(r: S3Request, extra: Record<string, string | undefined>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const put = (k: string, v: string | undefined): void => {
    if (v !== undefined) m.set(k.toLowerCase(), [v]);
  };
  put("aws:referer", r.header("referer"));
  put("aws:useragent", r.header("user-agent"));
  put("aws:sourceip", r.req.socket.remoteAddress?.replace(/^::ffff:/, ""));
  put("aws:securetransport", "false");
  put("aws:currenttime", new Date(r.now).toISOString());
  if (r.principal.type === "user") {
    put("aws:username", r.principal.user.displayName);
    put("aws:userid", r.principal.user.id);
  }
  for (const h of HEADER_KEYS) put(`s3:${h}`, r.header(h));
  for (const [k, v] of Object.entries(extra)) put(k, v);
  return m;
}

/** The ARN a request is evaluated against. */
export function resourceArn(bucket: string, key?: string): string {
  return key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;
}

/** Whether the request may perform the action. */
export function isAllowed(r: S3Request, c: AccessCheck): boolean {
  const policyText = c.bucket.meta.policy;
  if (policyText !== undefined) {
    const decision = evaluatePolicy(cachedPolicy(policyText, c.bucket.meta.name), {
      principal: r.principal,
      action: c.action,
      resource: resourceArn(c.bucket.meta.name, c.key),
      context: conditionContext(r, c.context ?? {}),
    });
    if (decision === "Deny") return false;
    if (decision === "Allow") return true;
  }
  if (r.callerId !== undefined && r.callerId === c.bucket.meta.acl.owner) return true;
  if (c.permission === "owner") return false;
  return aclAllows(c.objectAcl ?? c.bucket.meta.acl, r.principal, c.permission);
}

/** Throws AccessDenied unless the request may perform the action. */
export function authorize(r: S3Request, c: AccessCheck): void {
  if (!isAllowed(r, c)) throw new S3Error("AccessDenied", undefined, { resource: r.resource });
}
