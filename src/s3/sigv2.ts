/**
 * AWS Signature Version 2 for S3 ("Signing and authenticating REST
 * requests"): the string to sign, its CanonicalizedAmzHeaders and
 * CanonicalizedResource, HMAC-SHA1 signatures, and the parsing of
 * `Authorization: AWS AccessKeyId:Signature`. Pure functions; request
 * verification lives in auth.ts, as for SigV4.
 *
 *   StringToSign = HTTP-Verb + "\n" + Content-MD5 + "\n" + Content-Type + "\n" +
 *                  (Date | Expires) + "\n" + CanonicalizedAmzHeaders + CanonicalizedResource
 *   Signature    = Base64(HMAC-SHA1(secret, UTF-8(StringToSign)))
 */
import { createHmac } from "node:crypto";
import { S3Error } from "./errors.ts";
import type { QueryParam } from "./sigv4.ts";

/** The Authorization scheme prefix of a SigV2 header. */
export const SIGV2_SCHEME = "AWS";

/**
 * Query parameters that are part of the CanonicalizedResource (with their
 * values). The sub-resources and `response-*` overrides AWS documents, plus
 * the ones botocore (the AWS CLI v1, boto3 with `signature_version='s3'`) and
 * the AWS Java SDK v1 sign: a request only verifies when client and server
 * agree on this set. Names are case-sensitive, as in S3.
 */
export const SIGV2_SUBRESOURCES: ReadonlySet<string> = new Set([
  // AWS "Constructing the CanonicalizedResource element"
  "acl",
  "delete",
  "lifecycle",
  "location",
  "logging",
  "notification",
  "partNumber",
  "policy",
  "requestPayment",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  // also signed by botocore's HmacV1Auth and the Java SDK v1
  "accelerate",
  "analytics",
  "cors",
  "defaultObjectAcl",
  "inventory",
  "metrics",
  "object-lock",
  "replication",
  "restore",
  "select",
  "select-type",
  "storageClass",
  "tagging",
]);

/** How a sub-resource with an empty value is written: `?acl` (bare) or `?acl=`. */
export type EmptyValueForm = "bare" | "equals";

/** Options for {@link canonicalizedResource}. */
export interface CanonicalResourceOptions {
  /** The bucket named by the Host header (virtual-hosted style); absent for path-style requests. */
  virtualHostBucket?: string;
  /** How sub-resources without a value are written (default `bare`, as clients send `?acl`). */
  emptyValue?: EmptyValueForm;
}

/**
 * The CanonicalizedResource: `/bucket` for a virtual-hosted request, then
 * the path exactly as sent (un-decoded, escapes and their case kept), then
 * the signed sub-resources sorted by name, with their decoded values.
 */
export function canonicalizedResource(rawPath: string, params: readonly QueryParam[], opts: CanonicalResourceOptions = {}): string {
  let out = opts.virtualHostBucket === undefined ? "" : `/${opts.virtualHostBucket}`;
  out += rawPath === "" ? "/" : rawPath;
  const sub = params
    .filter((p) => SIGV2_SUBRESOURCES.has(p.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sub.length > 0) {
    const equals = opts.emptyValue === "equals";
    out += `?${sub.map((p) => (p.value === "" && !equals ? p.name : `${p.name}=${p.value}`)).join("&")}`;
  }
  return out;
}

/** Whether any signed sub-resource has an empty value (so `?acl` and `?acl=` differ). */
export function hasEmptySubresource(params: readonly QueryParam[]): boolean {
  return params.some((p) => p.value === "" && SIGV2_SUBRESOURCES.has(p.name));
}

/** One header value as SigV2 signs it: trimmed, folded lines unfolded to one space. */
function headerValue(v: string): string {
  return v.replace(/[ \t]*\r?\n[ \t]*/g, " ").trim();
}

/**
 * The CanonicalizedAmzHeaders: every `x-amz-*` header, lowercased, sorted
 * by name, values of a repeated header joined by `,` without spaces, each
 * `name:value\n`. `exclude` leaves names out (the alternate date form).
 */
export function canonicalizedAmzHeaders(headers: ReadonlyMap<string, readonly string[]>, exclude: ReadonlySet<string> = new Set()): string {
  const merged = new Map<string, string[]>();
  for (const [name, values] of headers) {
    const lower = name.toLowerCase();
    if (!lower.startsWith("x-amz-") || exclude.has(lower)) continue;
    const list = merged.get(lower);
    if (list) list.push(...values.map(headerValue));
    else merged.set(lower, values.map(headerValue));
  }
  return [...merged.keys()]
    .sort()
    .map((n) => `${n}:${(merged.get(n) ?? []).join(",")}\n`)
    .join("");
}

/** The parts of a SigV2 string to sign. */
export interface StringToSignV2Parts {
  method: string;
  contentMd5: string;
  contentType: string;
  /** The Date (or x-amz-date) header for header auth; the Expires value for query auth; "" when x-amz-date is signed instead. */
  date: string;
  /** {@link canonicalizedAmzHeaders}, each line ending in `\n`. */
  amzHeaders: string;
  /** {@link canonicalizedResource}. */
  resource: string;
}

/** Joins the parts of a SigV2 string to sign. */
export function stringToSignV2(p: StringToSignV2Parts): string {
  return `${p.method.toUpperCase()}\n${p.contentMd5}\n${p.contentType}\n${p.date}\n${p.amzHeaders}${p.resource}`;
}

/** Base64 HMAC-SHA1 of a string to sign with a secret key. */
export function signV2(secret: string, stringToSign: string): string {
  return createHmac("sha1", Buffer.from(secret, "utf8")).update(stringToSign, "utf8").digest("base64");
}

/** A parsed `Authorization: AWS AccessKeyId:Signature` header. */
export interface ParsedAuthHeaderV2 {
  accessKey: string;
  signature: string;
}

/** Whether an Authorization header value uses the SigV2 scheme. */
export function isSigV2Authorization(value: string): boolean {
  return value.startsWith(`${SIGV2_SCHEME} `);
}

/** Parses a SigV2 Authorization header value (`AWS AK:signature`). */
export function parseAuthorizationHeaderV2(value: string): ParsedAuthHeaderV2 {
  const rest = isSigV2Authorization(value) ? value.slice(SIGV2_SCHEME.length + 1).trim() : "";
  const i = rest.lastIndexOf(":");
  if (i <= 0 || i === rest.length - 1 || /\s/.test(rest)) {
    throw new S3Error("InvalidArgument", "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature", {
      extra: { ArgumentName: "Authorization", ArgumentValue: value.slice(0, 64) },
    });
  }
  return { accessKey: rest.slice(0, i), signature: rest.slice(i + 1) };
}

/** Parses a SigV2 `Expires` value (seconds since the epoch) to epoch ms, or NaN. */
export function parseExpires(s: string): number {
  return /^\d{1,12}$/.test(s) ? Number(s) * 1000 : NaN;
}
