/**
 * Bucket-name rules, object-key rules and the UTF-8 binary ordering S3 uses
 * for listing.
 */
import { S3Error } from "./errors.ts";

/** Longest key in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

function sortUnit(c: number): number {
  // Map UTF-16 code units so that comparing them gives code point order,
  // which equals UTF-8 byte order: surrogates (U+D800-DFFF, i.e. code
  // points >= U+10000) sort after U+E000-FFFF.
  if (c >= 0xd800 && c <= 0xdfff) return c + 0x2000;
  if (c >= 0xe000) return c - 0x800;
  return c;
}

/** Compares two strings in UTF-8 binary order (S3 listing order). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return sortUnit(x) - sortUnit(y);
  }
  return a.length - b.length;
}

/**
 * Validates a bucket name against the S3 rules: 3-63 characters of lowercase
 * letters, digits, `.` and `-`; starts and ends with a letter or digit; no
 * `..`; not an IP address; no `xn--` prefix or `-s3alias` suffix.
 */
export function validateBucketName(name: string): void {
  const ok =
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !name.includes("..") &&
    !name.includes(".-") &&
    !name.includes("-.") &&
    !/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) &&
    !name.startsWith("xn--") &&
    !name.endsWith("-s3alias");
  if (!ok) throw new S3Error("InvalidBucketName", undefined, { extra: { BucketName: name } });
}

/** Whether a bucket name is plausible enough to look up (no path tricks). */
export function isLookupableBucketName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(name) && !name.includes("..");
}

/**
 * Validates an object key: 1..1024 UTF-8 bytes, no NUL, well-formed UTF-16
 * (no lone surrogates). Keys are never used as paths, so `..`, `/` and `\`
 * are fine.
 */
export function validateKey(key: string): void {
  if (key.length === 0) throw new S3Error("InvalidArgument", "object key must not be empty");
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new S3Error("KeyTooLongError", "Your key is too long", { extra: { Size: String(Buffer.byteLength(key, "utf8")), MaxSizeAllowed: "1024" } });
  }
  if (key.includes("\u0000")) throw new S3Error("InvalidArgument", "object key must not contain NUL");
  if (LONE_SURROGATE.test(key)) throw new S3Error("InvalidArgument", "object key must be valid UTF-8");
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strict percent-decoding of a path segment (invalid UTF-8 is an error). */
export function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new S3Error("InvalidArgument", "object key is not valid percent-encoded UTF-8");
  }
}
