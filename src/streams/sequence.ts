/**
 * Sequence numbers: 56 decimal digits that sort, as strings and as numbers,
 * the way AWS's do (later records of a shard, and records of child shards
 * after their parents', have larger numbers). Layout:
 *
 *     "49" | stream-wide counter (32 digits) | shard index (6) | arrival ms (16)
 *
 * The counter grows by one per record across the whole stream, so ordering
 * within a shard and parent → child ordering both follow from it.
 */

/** Parts of a sequence number. */
export interface SequenceParts {
  counter: number;
  shardIndex: number;
  time: number;
}

/** Formats a sequence number. */
export function formatSequence(counter: number, shardIndex: number, time: number): string {
  return `49${String(counter).padStart(32, "0")}${String(shardIndex).padStart(6, "0")}${String(Math.floor(time)).padStart(16, "0")}`;
}

/** Parses a sequence number, or undefined if it is not one of ours. */
export function parseSequence(s: string): SequenceParts | undefined {
  if (!/^49\d{54}$/.test(s)) return undefined;
  const counter = Number(s.slice(2, 34));
  if (!Number.isSafeInteger(counter)) return undefined;
  return { counter, shardIndex: Number(s.slice(34, 40)), time: Number(s.slice(40)) };
}

/** Formats a shard id: `shardId-000000000007`. */
export function shardIdOf(index: number): string {
  return `shardId-${String(index).padStart(12, "0")}`;
}

/** Parses a shard id (`shardId-000000000007` or a bare number, as AWS accepts), or undefined. */
export function shardIndexOf(id: string): number | undefined {
  const m = /^(?:shardId-)?(\d{1,20})$/.exec(id);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
