/**
 * Object-chunked executor calls (Lithops' `obj` argument): each call gets a
 * line-aligned byte range of one storage object. A call owns the lines that
 * start inside its range `[start, end)`: it skips the partial line at its
 * start (unless at byte 0) and reads past its end to the end of the last
 * line it owns, so every line is read by exactly one call.
 *
 * @module
 */
import { readRange } from "../storage/index.ts";
import { attempt, type CallRecord, type CallSpec } from "./tasks.ts";

/** What an object-chunked call receives. */
export interface ObjChunk {
  /** The object's URL (`s3://bucket/key`, `file://...`, `memory://...`). */
  url: string;
  /** Bucket (the URL's host) and key (its path) of the object. */
  bucket: string;
  key: string;
  /** The byte range actually read, line-aligned. */
  start: number;
  end: number;
  /** Index of this chunk within the object, and the object's size. */
  part: number;
  size: number;
  /** The chunk's bytes. */
  data: Uint8Array;
}

/** A nominal range of an object, before alignment. */
export interface ObjRange {
  url: string;
  start: number;
  end: number;
  part: number;
  size: number;
}

const NL = 0x0a;

/** Aligns `[start, end)` of the object at `url` to whole lines and reads them. */
export async function readAligned(r: ObjRange): Promise<{ start: number; end: number; data: Buffer }> {
  let from = r.start;
  if (r.start > 0) {
    // the line containing byte start-1 belongs to the previous chunk: skip to just after its newline
    let pos = r.start - 1;
    for (let step = 64 * 1024; ; step *= 2) {
      const buf = await readRange(r.url, pos, Math.min(r.size, pos + step));
      const i = buf.indexOf(NL);
      if (i >= 0) {
        from = pos + i + 1;
        break;
      }
      pos += buf.length;
      if (buf.length === 0 || pos >= r.size) {
        from = r.size;
        break;
      }
    }
  }
  let to = r.size;
  if (r.end < r.size) {
    let pos = r.end - 1;
    for (let step = 64 * 1024; ; step *= 2) {
      const buf = await readRange(r.url, pos, Math.min(r.size, pos + step));
      const i = buf.indexOf(NL);
      if (i >= 0) {
        to = pos + i + 1;
        break;
      }
      pos += buf.length;
      if (buf.length === 0 || pos >= r.size) break;
    }
  }
  if (from >= to) return { start: from, end: from, data: Buffer.alloc(0) };
  return { start: from, end: to, data: await readRange(r.url, from, to) };
}

/** Executor calls over object chunks: reads each aligned range, calls `fn(obj, ...extra)`. */
export async function execObjChunk(fn: (...a: unknown[]) => unknown, ranges: ObjRange[], spec: CallSpec): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  for (const r of ranges) {
    const start = Date.now();
    const u = new URL(r.url);
    const got = await readAligned(r);
    const obj: ObjChunk = { url: r.url, bucket: u.host, key: decodeURIComponent(u.pathname.replace(/^\//, "")), start: got.start, end: got.end, part: r.part, size: r.size, data: got.data };
    const [v, n] = await attempt(() => fn(obj, ...spec.extra), spec);
    out.push([v, start, Date.now(), n]);
  }
  return out;
}
