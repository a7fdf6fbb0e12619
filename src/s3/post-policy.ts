/**
 * Browser POST policies: parsing the base64 JSON policy, verifying its
 * signature (SigV4 `x-amz-signature`, or SigV2 `signature` with
 * `AWSAccessKeyId`) and checking its conditions against the form.
 */
import { createHmac } from "node:crypto";
import type { Principal } from "./auth.ts";
import { S3Error } from "./errors.ts";
import { parseCredential, signHex, signaturesEqual, signingKey } from "./sigv4.ts";
import type { UserDirectory } from "./users.ts";

/** One policy condition. */
export type PostCondition =
  | { readonly op: "eq" | "starts-with"; readonly field: string; readonly value: string }
  | { readonly op: "content-length-range"; readonly min: number; readonly max: number };

/** A parsed POST policy. */
export interface PostPolicy {
  expiration: number;
  conditions: PostCondition[];
}

function invalid(msg: string): S3Error {
  return new S3Error("InvalidPolicyDocument", `Invalid Policy: ${msg}`);
}

function denied(msg: string): S3Error {
  return new S3Error("AccessDenied", `Invalid according to Policy: ${msg}`);
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function parseCondition(c: unknown): PostCondition {
  if (Array.isArray(c)) {
    const op = String(c[0]).toLowerCase();
    if (op === "content-length-range") {
      const [, min, max] = c as unknown[];
      if (c.length !== 3 || !Number.isInteger(min) || !Number.isInteger(max) || (min as number) < 0 || (max as number) < (min as number)) {
        throw invalid("Invalid content-length-range condition");
      }
      return { op, min: min as number, max: max as number };
    }
    if ((op === "eq" || op === "starts-with") && c.length === 3 && typeof c[1] === "string" && typeof c[2] === "string" && c[1].startsWith("$")) {
      return { op, field: c[1].slice(1).toLowerCase(), value: c[2] };
    }
    throw invalid(`Invalid condition ${JSON.stringify(c)}`);
  }
  if (typeof c === "object" && c !== null) {
    const entries = Object.entries(c);
    if (entries.length !== 1 || typeof entries[0]?.[1] !== "string") throw invalid("Invalid simple condition");
    const [k, v] = entries[0] as [string, string];
    return { op: "eq", field: k.toLowerCase().replace(/^\$/, ""), value: v };
  }
  throw invalid("Invalid condition");
}

/** Decodes and validates a base64 policy document. */
export function parsePostPolicy(base64: string): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, "base64").toString("utf8"));
  } catch {
    throw invalid("Policy is not valid JSON");
  }
  if (typeof doc !== "object" || doc === null) throw invalid("Policy is not a JSON object");
  const d = doc as { expiration?: unknown; conditions?: unknown };
  if (typeof d.expiration !== "string" || !ISO_RE.test(d.expiration)) throw invalid("Invalid 'expiration' value");
  if (!Array.isArray(d.conditions)) throw invalid("Policy is missing the 'conditions' list");
  return { expiration: Date.parse(d.expiration), conditions: d.conditions.map(parseCondition) };
}

/**
 * Verifies the form's signature over the policy and returns the signing user.
 * `form` maps lower-cased field names to values.
 */
export function verifyPostSignature(form: Map<string, string>, policyB64: string, users: UserDirectory): Principal {
  const v4sig = form.get("x-amz-signature");
  if (v4sig !== undefined) {
    const cred = parseCredential(form.get("x-amz-credential") ?? "", "AuthorizationQueryParametersError");
    const user = users.byAccessKey(cred.accessKey);
    if (user === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { extra: { AWSAccessKeyId: cred.accessKey } });
    const expected = signHex(signingKey(user.secretKey, cred.date, cred.region, cred.service), policyB64);
    if (!signaturesEqual(expected, v4sig)) throw new S3Error("SignatureDoesNotMatch");
    return { type: "user", user };
  }
  const ak = form.get("awsaccesskeyid");
  const sig = form.get("signature");
  if (ak === undefined || sig === undefined) {
    throw new S3Error("InvalidArgument", "POST requires a signature (x-amz-signature, or AWSAccessKeyId and signature) with a policy");
  }
  const user = users.byAccessKey(ak);
  if (user === undefined) throw new S3Error("InvalidAccessKeyId", undefined, { extra: { AWSAccessKeyId: ak } });
  const expected = createHmac("sha1", user.secretKey).update(policyB64, "utf8").digest("base64");
  if (!signaturesEqual(expected, sig)) throw new S3Error("SignatureDoesNotMatch");
  return { type: "user", user };
}

const EXEMPT = new Set(["policy", "signature", "awsaccesskeyid", "x-amz-signature", "file"]);

/**
 * Checks expiration, the eq/starts-with conditions and that every form
 * field is named by a condition. Size is checked later with {@link checkPostSize}.
 */
export function checkPostPolicy(p: PostPolicy, form: Map<string, string>, bucket: string, now: number): void {
  if (now > p.expiration) throw denied("Policy expired.");
  const named = new Set<string>();
  for (const c of p.conditions) {
    if (c.op === "content-length-range") continue;
    named.add(c.field);
    const got = c.field === "bucket" ? bucket : form.get(c.field) ?? "";
    const ok = c.op === "eq" ? got === c.value : got.startsWith(c.value);
    if (!ok) throw denied(`Policy Condition failed: ["${c.op}", "$${c.field}", "${c.value}"]`);
  }
  if (!named.has("bucket")) throw denied("Policy Condition failed: bucket");
  for (const name of form.keys()) {
    if (EXEMPT.has(name) || name.startsWith("x-ignore-") || named.has(name)) continue;
    throw denied(`Extra input fields: ${name}`);
  }
}

/** The content-length-range of a policy, if any. */
export function sizeRange(p: PostPolicy | undefined): { min: number; max: number } | undefined {
  const c = p?.conditions.find((x) => x.op === "content-length-range");
  return c?.op === "content-length-range" ? { min: c.min, max: c.max } : undefined;
}

/** Checks the uploaded size against content-length-range. */
export function checkPostSize(size: number, range: { min: number; max: number } | undefined): void {
  if (range === undefined) return;
  if (size > range.max) throw new S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
  if (size < range.min) throw new S3Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
}
