/**
 * Shard iterators: opaque, HMAC-signed tokens naming a stream (and its
 * creation time, so a re-created stream does not accept old iterators), a
 * shard, the next counter to read, the earliest arrival time to return
 * (AT_TIMESTAMP) and when the iterator was issued (they expire after five
 * minutes, as AWS's do).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { KinesisError } from "./errors.ts";

/** Iterators expire this long after they are issued. */
export const ITERATOR_TTL_MS = 300_000;

/** The state an iterator carries. */
export interface IteratorState {
  stream: string;
  created: number;
  shard: number;
  /** Next counter to read. */
  pos: number;
  /** Skip records that arrived before this (ms), 0 for none. */
  minTime: number;
  issued: number;
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest().subarray(0, 16);
}

/** Encodes and signs an iterator. */
export function encodeIterator(key: Buffer, s: IteratorState): string {
  const text = JSON.stringify([1, s.stream, s.created, s.shard, s.pos, s.minTime, s.issued]);
  return Buffer.concat([mac(key, text), Buffer.from(text)]).toString("base64");
}

/** Decodes an iterator; InvalidArgumentException if forged or malformed, ExpiredIteratorException if too old. */
export function decodeIterator(key: Buffer, token: string, now: number): IteratorState {
  const raw = Buffer.from(token, "base64");
  const invalid = new KinesisError("InvalidArgumentException", "Invalid ShardIterator.");
  if (raw.length < 17) throw invalid;
  const text = raw.subarray(16).toString("utf8");
  if (!timingSafeEqual(raw.subarray(0, 16), mac(key, text))) throw invalid;
  let a: unknown;
  try {
    a = JSON.parse(text);
  } catch {
    throw invalid;
  }
  if (!Array.isArray(a) || a[0] !== 1 || a.length !== 7) throw invalid;
  const [, stream, created, shard, pos, minTime, issued] = a as [number, string, number, number, number, number, number];
  if (now - issued > ITERATOR_TTL_MS) {
    throw new KinesisError("ExpiredIteratorException", `Iterator expired. The iterator was created at time ${new Date(issued).toUTCString()} while right now it is ${new Date(now).toUTCString()} which is further in the future than the tolerated delay of ${ITERATOR_TTL_MS} milliseconds.`);
  }
  return { stream, created, shard, pos, minTime, issued };
}
