/**
 * Hash shuffles of Bags (groupBy, reduceByKey/foldBy, frequencies, distinct,
 * join). Each of the M input partitions is split into N hash buckets in one
 * task (`bagSplit`, which also combines map-side where the operation allows);
 * each bucket is pulled out by a tiny `pickShard` task that runs where the
 * split lives and only hands over already-serialized bytes; one `bagMerge`
 * task per output partition combines its M shards. That is M + N×M + N
 * tasks, and every item crosses the network at most once.
 *
 * @module
 */
import { deserialize, serialize, type Payload } from "../protocol/serialize.ts";
import { BagTaskError } from "./errors.ts";
import { hashKey, KeyMap } from "./hash.ts";
import { runPipeline, type Op, type Source } from "./partition.ts";
import { resolveUser, type UserFn } from "./user-fn.ts";

/** How a shuffle finds the key (and value) of an item. */
export type KeySpec =
  /** items are `[key, value]` pairs */
  | { k: "pair" }
  /** key = f(item), value = item */
  | { k: "fn"; f: UserFn }
  /** key = item[name], value = item */
  | { k: "prop"; name: string | number }
  /** key = value = item */
  | { k: "self" };

/** What a shuffle computes per key. */
export type ShuffleSpec =
  | { k: "group"; key: KeySpec }
  | { k: "fold"; key: KeySpec; binop: UserFn; hasInitial: boolean; initial?: unknown; combine: UserFn; hasCombineInitial: boolean; combineInitial?: unknown }
  | { k: "count"; key: KeySpec }
  | { k: "distinct"; key: KeySpec }
  | { k: "join"; key: KeySpec };

type KeyFn = (x: unknown) => [unknown, unknown];

async function keyFn(spec: KeySpec, part: number): Promise<KeyFn> {
  switch (spec.k) {
    case "pair":
      return (x) => {
        if (!Array.isArray(x) || x.length < 2) throw new BagTaskError(`expected [key, value] pairs in partition ${part}, got ${JSON.stringify(x)?.slice(0, 80)}`, "shuffle", part);
        return [x[0], x[1]];
      };
    case "self":
      return (x) => [x, x];
    case "prop":
      return (x) => [(x as Record<string | number, unknown>)?.[spec.name], x];
    case "fn": {
      const f = await resolveUser<(x: unknown) => unknown>(spec.f);
      return (x) => {
        try {
          return [f(x), x];
        } catch (err) {
          throw new BagTaskError(`key function '${spec.f.name}' failed on partition ${part}: ${(err as Error).message}`, "key", part, { cause: err });
        }
      };
    }
  }
}

function bucketOf(key: unknown, n: number): number {
  return n === 1 ? 0 : hashKey(key) % n;
}

/**
 * Task: runs a partition's pipeline and splits its items into `n` hash
 * buckets (combined per key where `spec` allows), each serialized.
 *
 * @example
 * ```ts
 * const shards = await bagSplit(src, ops, { k: "count", key: { k: "self" } }, 4);
 * ```
 */
export async function bagSplit(src: Source, ops: readonly Op[], spec: ShuffleSpec, n: number): Promise<Payload[]> {
  const kf = await keyFn(spec.key, src.part);
  switch (spec.k) {
    case "group":
    case "join": {
      const buckets: [unknown, unknown][][] = Array.from({ length: n }, () => []);
      await runPipeline(src, ops, (x) => {
        const kv = kf(x);
        buckets[bucketOf(kv[0], n)]!.push(kv);
      });
      return buckets.map((b) => serialize(b));
    }
    case "count": {
      const maps = Array.from({ length: n }, () => new KeyMap<number>());
      await runPipeline(src, ops, (x) => {
        const k = kf(x)[0];
        const m = maps[bucketOf(k, n)]!;
        m.set(k, (m.get(k) ?? 0) + 1);
      });
      return maps.map((m) => serialize([...m.entries()]));
    }
    case "distinct": {
      const maps = Array.from({ length: n }, () => new KeyMap<unknown>());
      await runPipeline(src, ops, (x) => {
        const [k, v] = kf(x);
        const m = maps[bucketOf(k, n)]!;
        if (!m.has(k)) m.set(k, v);
      });
      return maps.map((m) => serialize([...m.entries()]));
    }
    case "fold": {
      const binop = await resolveUser<(a: unknown, b: unknown) => unknown>(spec.binop);
      const maps = Array.from({ length: n }, () => new KeyMap<unknown>());
      const valueOf = spec.key.k === "pair";
      await runPipeline(src, ops, (x) => {
        const [k, v0] = kf(x);
        const v = valueOf ? v0 : x;
        const m = maps[bucketOf(k, n)]!;
        const acc = m.get(k);
        try {
          if (acc === undefined && !m.has(k)) m.set(k, spec.hasInitial ? binop(spec.initial, v) : v);
          else m.set(k, binop(acc, v));
        } catch (err) {
          throw new BagTaskError(`fold function '${spec.binop.name}' failed on partition ${src.part}: ${(err as Error).message}`, "fold", src.part, { cause: err });
        }
      });
      return maps.map((m) => serialize([...m.entries()]));
    }
  }
}

/**
 * Task: bucket `j` of a split (already serialized; no decoding here).
 *
 * @example
 * ```ts
 * pickShard(shards, 2);
 * ```
 */
export function pickShard(split: Payload[], j: number): Payload {
  const p = split[j];
  if (!p) throw new Error(`internal: shuffle split has no bucket ${j}`);
  return p;
}

function decodeAll(shards: readonly Payload[]): [unknown, unknown][][] {
  return shards.map((s) => deserialize(s) as [unknown, unknown][]);
}

/**
 * Task: combines the shards of one output partition: `[key, values[]]`
 * (group), `[key, acc]` (fold), `[key, count]` (count), or the distinct items.
 *
 * @example
 * ```ts
 * await bagMerge([p0, p1], { k: "count", key: { k: "self" } }); // [["a", 3], ["b", 1]]
 * ```
 */
export async function bagMerge(shards: readonly Payload[], spec: ShuffleSpec): Promise<unknown[]> {
  switch (spec.k) {
    case "group": {
      const m = new KeyMap<unknown[]>();
      for (const shard of decodeAll(shards)) {
        for (const [k, v] of shard) {
          const list = m.get(k);
          if (list) list.push(v);
          else m.set(k, [v]);
        }
      }
      return [...m.entries()];
    }
    case "count": {
      const m = new KeyMap<number>();
      for (const shard of decodeAll(shards)) for (const [k, v] of shard) m.set(k, (m.get(k) ?? 0) + (v as number));
      return [...m.entries()];
    }
    case "distinct": {
      const m = new KeyMap<unknown>();
      for (const shard of decodeAll(shards)) for (const [k, v] of shard) if (!m.has(k)) m.set(k, v);
      return [...m.entries()].map((e) => e[1]);
    }
    case "fold": {
      const combine = await resolveUser<(a: unknown, b: unknown) => unknown>(spec.combine);
      const m = new KeyMap<unknown>();
      for (const shard of decodeAll(shards)) {
        for (const [k, v] of shard) {
          if (!m.has(k)) m.set(k, spec.hasCombineInitial ? combine(spec.combineInitial, v) : v);
          else m.set(k, combine(m.get(k), v));
        }
      }
      return [...m.entries()];
    }
    case "join":
      throw new Error("internal: use bagJoin for joins");
  }
}

/**
 * Task: inner join of one output partition: `[key, [left, right]]` for every
 * pair of matching left and right items.
 *
 * @example
 * ```ts
 * await bagJoin([l0], [r0]); // [["a", [1, "x"]]]
 * ```
 */
export function bagJoin(left: readonly Payload[], right: readonly Payload[]): unknown[] {
  const m = new KeyMap<unknown[]>();
  for (const shard of decodeAll(left)) {
    for (const [k, v] of shard) {
      const list = m.get(k);
      if (list) list.push(v);
      else m.set(k, [v]);
    }
  }
  const out: unknown[] = [];
  for (const shard of decodeAll(right)) {
    for (const [k, v] of shard) {
      const list = m.get(k);
      if (list) for (const l of list) out.push([k, [l, v]]);
    }
  }
  return out;
}

/**
 * Task: concatenates partitions, or a slice `[from, to)` of one (repartition).
 *
 * @example
 * ```ts
 * concatParts([[1], [2, 3]]); // [1, 2, 3]
 * ```
 */
export function concatParts(parts: readonly unknown[][], from = 0, to = Infinity): unknown[] {
  const all = parts.length === 1 ? parts[0]! : parts.flat();
  return from === 0 && to >= all.length ? all : all.slice(from, to);
}

/**
 * Task: piece `idx` of `count` nearly equal pieces of a partition (repartition).
 *
 * @example
 * ```ts
 * slicePart([1, 2, 3, 4], 1, 2); // [3, 4]
 * ```
 */
export function slicePart(part: readonly unknown[], idx: number, count: number): unknown[] {
  const n = part.length;
  return part.slice(Math.floor((idx * n) / count), Math.floor(((idx + 1) * n) / count));
}
