/**
 * Shard routing as Kinesis does it: a record's 128-bit hash key is the MD5 of
 * its partition key read as a big-endian unsigned integer (or the decimal
 * ExplicitHashKey), and each open shard owns a contiguous range of
 * [0, 2^128 - 1].
 */
import { createHash } from "node:crypto";

/** 2^128 - 1, the largest hash key. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** The hash key of a partition key: MD5 of its UTF-8 bytes as an unsigned 128-bit integer. */
export function partitionKeyHash(partitionKey: string): bigint {
  return BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
}

/** An inclusive hash key range. */
export interface HashRange {
  start: bigint;
  end: bigint;
}

/** Splits [0, 2^128-1] into `n` even ranges, as CreateStream does (shard i starts at floor(i * 2^128 / n)). */
export function evenRanges(n: number, span: HashRange = { start: 0n, end: MAX_HASH_KEY }): HashRange[] {
  const size = span.end - span.start + 1n;
  const N = BigInt(n);
  const out: HashRange[] = [];
  for (let i = 0n; i < N; i++) {
    out.push({ start: span.start + (size * i) / N, end: span.start + (size * (i + 1n)) / N - 1n });
  }
  return out;
}

/** Parses a decimal hash key, or undefined if it is not an integer in [0, 2^128-1]. */
export function parseHashKey(s: string): bigint | undefined {
  if (!/^\d{1,39}$/.test(s)) return undefined;
  const v = BigInt(s);
  return v <= MAX_HASH_KEY ? v : undefined;
}
