/**
 * Conditional requests (If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since, and the x-amz-copy-source-if-* variants) and byte
 * ranges.
 */
import { S3Error } from "./errors.ts";
import { httpDate } from "./respond.ts";
import type { ObjectMeta } from "./store.ts";

function etagList(v: string): string[] {
  return v.split(",").map((s) => s.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1"));
}

function etagMatches(header: string, etag: string): boolean {
  const list = etagList(header);
  return list.includes("*") || list.includes(etag);
}

function parseHttpDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The four condition headers of a request. */
export interface Conditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

/** Last-Modified truncated to whole seconds, as HTTP dates carry. */
function lastModifiedSeconds(m: ObjectMeta): number {
  return Math.floor(m.lastModified / 1000) * 1000;
}

/**
 * Evaluates read preconditions (RFC 7232 order): If-Match, else
 * If-Unmodified-Since → 412; If-None-Match, else If-Modified-Since → 304
 * (`notModified`) or 412 (`notModified: false`, as for copy sources).
 */
export function checkConditions(c: Conditions, m: ObjectMeta, notModifiedIs304 = true): void {
  const lm = lastModifiedSeconds(m);
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, m.etag)) throw new S3Error("PreconditionFailed", undefined, { extra: { Condition: "If-Match" } });
  } else {
    const ius = parseHttpDate(c.ifUnmodifiedSince);
    if (ius !== undefined && lm > ius) throw new S3Error("PreconditionFailed", undefined, { extra: { Condition: "If-Unmodified-Since" } });
  }
  const notModified = (): S3Error =>
    notModifiedIs304
      ? new S3Error("NotModified", "Not Modified", { headers: { ETag: `"${m.etag}"`, "Last-Modified": httpDate(m.lastModified) } })
      : new S3Error("PreconditionFailed");
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, m.etag)) throw notModified();
  } else {
    const ims = parseHttpDate(c.ifModifiedSince);
    if (ims !== undefined && lm <= ims) throw notModified();
  }
}

/**
 * Conditional writes: `If-None-Match: *` fails when the key exists;
 * `If-Match` fails when it is absent (NoSuchKey) or has another ETag.
 */
export function checkWriteConditions(c: Conditions, current: ObjectMeta | undefined, key: string): void {
  if (c.ifNoneMatch !== undefined && current !== undefined) {
    if (etagMatches(c.ifNoneMatch, current.etag)) throw new S3Error("PreconditionFailed", undefined, { extra: { Condition: "If-None-Match" } });
  }
  if (c.ifMatch !== undefined) {
    if (current === undefined) throw new S3Error("NoSuchKey", undefined, { extra: { Key: key } });
    if (!etagMatches(c.ifMatch, current.etag)) throw new S3Error("PreconditionFailed", undefined, { extra: { Condition: "If-Match" } });
  }
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a Range header against the object size. Returns undefined when the
 * header is absent or not a single `bytes=` range (then the whole object is
 * sent, as S3 does); throws InvalidRange (416) when it cannot be satisfied.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  const invalid = (): S3Error =>
    new S3Error("InvalidRange", undefined, { extra: { RangeRequested: header, ActualObjectSize: String(size) }, headers: { "Content-Range": `bytes */${size}` } });
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw invalid();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== "" && Number(m[2]) < start) return undefined;
  if (start >= size) throw invalid();
  return { start, end };
}
